/*
 * Interrupt entry: one 16-byte stub per vector pushes its number and joins the common path,
 * which calls kit_irq_entry(vector, frame) and returns to the interrupted code.
 *
 * The return does not use IRET: KVM's instruction emulator, all a host without VMX or SVM
 * has, performs IRET in real mode only. The interrupt gate cleared IF, and the kit takes
 * interrupts only inside "sti; hlt; cli" or "sti; nop; cli" (irq.c), whose asm statements
 * declare the flags clobbered, so returning with a plain near RET and IF still clear is
 * enough: the code segment is the same, and RFLAGS need not come back.
 *
 * Built twice, as 32-bit code for the PVH guest and as position independent 64-bit code for
 * the bzImage guest.
 */
#define KIT_IRQ_STUB_SIZE 16

    .text
    .balign KIT_IRQ_STUB_SIZE
    .globl kit_irq_stubs
kit_irq_stubs:
    vector = 0
    .rept 256
    .balign KIT_IRQ_STUB_SIZE
#ifdef __x86_64__
    pushq $vector
#else
    pushl $vector
#endif
    jmp kit_irq_common
    vector = vector + 1
    .endr

#ifdef __x86_64__
kit_irq_common:
    /* The stack: vector, [error code], RIP, CS, RFLAGS, RSP, SS (SDM Vol. 3, 6.14.2). */
    pushq %rax
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    movq 72(%rsp), %rdi         /* vector */
    leaq 80(%rsp), %rsi         /* the frame the CPU pushed */
    call kit_irq_entry
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rax
    addq $8, %rsp               /* the vector; only interrupts without error code return */
    /*
     * The CPU aligned RSP to 16 bytes before pushing the frame, so the interrupted RSP is
     * taken from the frame: put RIP just below it, switch to it and return there.
     */
    pushq %rax
    pushq %rbx                  /* RBX, RAX, RIP, CS, RFLAGS, RSP, SS */
    movq 40(%rsp), %rax
    subq $8, %rax
    movq 16(%rsp), %rbx
    movq %rbx, (%rax)
    movq %rax, 40(%rsp)
    popq %rbx
    popq %rax                   /* RIP, CS, RFLAGS, RSP - 8, SS */
    movq 24(%rsp), %rsp
    ret
#else
kit_irq_common:
    /* The stack: vector, [error code], EIP, CS, EFLAGS (no privilege change). */
    pushl %eax
    pushl %ecx
    pushl %edx
    leal 16(%esp), %eax         /* the frame the CPU pushed */
    pushl %eax
    pushl 16(%esp)              /* vector */
    call kit_irq_entry
    addl $8, %esp
    popl %edx
    popl %ecx
    popl %eax
    addl $4, %esp               /* the vector */
    ret $8                      /* to EIP, dropping CS and EFLAGS */
#endif

    .section .note.GNU-stack, "", @progbits
