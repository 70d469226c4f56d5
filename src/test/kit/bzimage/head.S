/*
 * The protected-mode part of the bzImage, loaded at any 4 KiB aligned address (1 MiB by
 * default) and position independent. Two entry points, as in Linux:
 *
 *   load + 0x000  startup_32: 32-bit protected mode, paging off, ESI = boot_params.
 *   load + 0x200  startup_64: 64-bit mode, identity-mapped paging, RSI = boot_params.
 *
 * Both record the entry state, clear .bss, identity map the first 4 GiB with 2 MiB pages,
 * load the kit's own GDT and call bz_main(boot_params, entry state) in 64-bit mode.
 */
#include "../core/entry.h"

#define BP_SCRATCH 0x1E4            /* boot_params.scratch: a 4-byte stack for "call 1f" */

#define X86_CR0_PE 0x00000001
#define X86_CR0_PG 0x80000000
#define X86_CR4_PAE 0x00000020
#define X86_CR4_LA57 0x00001000
#define MSR_EFER 0xC0000080
#define EFER_LME 0x00000100

#define PTE_PRESENT 0x001
#define PTE_RW 0x002
#define PTE_PWT 0x008
#define PTE_PCD 0x010
#define PTE_PS 0x080
#define PDE_FLAGS (PTE_PRESENT | PTE_RW | PTE_PS)
#define TABLE_FLAGS (PTE_PRESENT | PTE_RW)
/* The top GiB holds the MMIO of local and I/O APIC and the like: map it uncached. */
#define PDE_UNCACHED_FROM 1536

/* Page-table pages, from the 4 KiB aligned start of the page-table area. */
#define PGT_PML5 0x0000
#define PGT_PML4 0x1000
#define PGT_PDPT 0x2000
#define PGT_PD 0x3000               /* four pages: 2048 entries of 2 MiB */
#define PGT_PAGES 8                 /* seven used, one spare for alignment */

#define BOOT_CS 0x10
#define BOOT_DS 0x18
#define STACK_SIZE 16384

    .section .head, "ax"

    .code32
    .globl startup_32
startup_32:
    movl %esp, %ecx
    leal (BP_SCRATCH + 4)(%esi), %esp
    pushfl
    popl %eax
    cli
    cld
    call 1f
1:  popl %edx
    subl $(1b - startup_32), %edx   /* EDX: where the image runs */
    leal STACK_TOP_OFF(%edx), %esp

    movl %eax, (ENTRY_OFF + E_RFLAGS)(%edx)
    movl %ecx, (ENTRY_OFF + E_RSP)(%edx)
    movl %ebx, (ENTRY_OFF + E_RBX)(%edx)
    movl %esi, (ENTRY_OFF + E_RSI)(%edx)
    movl %edi, (ENTRY_OFF + E_RDI)(%edx)
    movl %ebp, (ENTRY_OFF + E_RBP)(%edx)
    movl %cr0, %eax
    movl %eax, (ENTRY_OFF + E_CR0)(%edx)
    movl %cr3, %eax
    movl %eax, (ENTRY_OFF + E_CR3)(%edx)
    movl %cr4, %eax
    movl %eax, (ENTRY_OFF + E_CR4)(%edx)
    xorl %eax, %eax
    movw %cs, %ax
    movl %eax, (ENTRY_OFF + E_CS)(%edx)
    movw %ds, %ax
    movl %eax, (ENTRY_OFF + E_DS)(%edx)
    movw %es, %ax
    movl %eax, (ENTRY_OFF + E_ES)(%edx)
    movw %ss, %ax
    movl %eax, (ENTRY_OFF + E_SS)(%edx)
    movw %fs, %ax
    movl %eax, (ENTRY_OFF + E_FS)(%edx)
    movw %gs, %ax
    movl %eax, (ENTRY_OFF + E_GS)(%edx)
    sgdt (ENTRY_OFF + E_GDTR)(%edx)
    sidt (ENTRY_OFF + E_IDTR)(%edx)
    movl $1, (ENTRY_OFF + E_PARTIAL)(%edx)
    movl $32, (ENTRY_OFF + E_BITS)(%edx)
    cmpl $KIT_SETUP_MAGIC, %edi
    jne 2f
    movl $16, (ENTRY_OFF + E_BITS)(%edx)
2:
    movl %edx, %ebx                 /* EBX: the load address from here on; rdmsr uses EDX */
    movl $MSR_EFER, %ecx
    rdmsr
    movl %eax, (ENTRY_OFF + E_EFER)(%ebx)
    movl %edx, (ENTRY_OFF + E_EFER + 4)(%ebx)
    movl $1, (ENTRY_OFF + E_HAVE_EFER)(%ebx)

    /* Clear .bss, which holds the page tables. */
    leal BSS_OFF(%ebx), %edi
    movl $BSS_SIZE, %ecx
    xorl %eax, %eax
    rep stosb

    /* Page tables: PML4[0] -> PDPT, PDPT[0..3] -> four PDs of 2 MiB pages. */
    leal (PGT_OFF + 0xFFF)(%ebx), %edi
    andl $~0xFFF, %edi
    leal (PGT_PDPT + TABLE_FLAGS)(%edi), %eax
    movl %eax, PGT_PML4(%edi)
    leal (PGT_PD + TABLE_FLAGS)(%edi), %eax
    movl %eax, (PGT_PDPT + 0)(%edi)
    addl $0x1000, %eax
    movl %eax, (PGT_PDPT + 8)(%edi)
    addl $0x1000, %eax
    movl %eax, (PGT_PDPT + 16)(%edi)
    addl $0x1000, %eax
    movl %eax, (PGT_PDPT + 24)(%edi)
    xorl %ecx, %ecx
4:  movl %ecx, %eax
    shll $21, %eax
    orl $PDE_FLAGS, %eax
    cmpl $PDE_UNCACHED_FROM, %ecx
    jb 5f
    orl $(PTE_PCD | PTE_PWT), %eax
5:  movl %eax, PGT_PD(%edi, %ecx, 8)
    incl %ecx
    cmpl $2048, %ecx
    jb 4b

    /* Long mode: PAE, CR3, EFER.LME, then paging. */
    movl %cr4, %eax
    orl $X86_CR4_PAE, %eax
    movl %eax, %cr4
    leal PGT_PML4(%edi), %eax
    movl %eax, %cr3
    movl $MSR_EFER, %ecx
    rdmsr
    orl $EFER_LME, %eax
    wrmsr
    leal GDT_OFF(%ebx), %eax
    movl %eax, (GDT_DESC_OFF + 2)(%ebx)
    lgdt GDT_DESC_OFF(%ebx)
    movl %cr0, %eax
    orl $(X86_CR0_PG | X86_CR0_PE), %eax
    movl %eax, %cr0
    pushl $BOOT_CS
    leal LONG_MODE_OFF(%ebx), %eax
    pushl %eax
    lret

    .code64
    .org 0x200
    .globl startup_64
startup_64:
    movq %rax, kit_entry_state + E_RAX(%rip)
    movq %rbx, kit_entry_state + E_RBX(%rip)
    movq %rcx, kit_entry_state + E_RCX(%rip)
    movq %rdx, kit_entry_state + E_RDX(%rip)
    movq %rsi, kit_entry_state + E_RSI(%rip)
    movq %rdi, kit_entry_state + E_RDI(%rip)
    movq %rbp, kit_entry_state + E_RBP(%rip)
    movq %rsp, kit_entry_state + E_RSP(%rip)
    leaq boot_stack_top(%rip), %rsp
    pushfq
    popq kit_entry_state + E_RFLAGS(%rip)
    cli
    cld
    movq %cr0, %rax
    movq %rax, kit_entry_state + E_CR0(%rip)
    movq %cr3, %rax
    movq %rax, kit_entry_state + E_CR3(%rip)
    movq %cr4, %rax
    movq %rax, kit_entry_state + E_CR4(%rip)
    xorl %eax, %eax
    movw %cs, %ax
    movq %rax, kit_entry_state + E_CS(%rip)
    movw %ds, %ax
    movq %rax, kit_entry_state + E_DS(%rip)
    movw %es, %ax
    movq %rax, kit_entry_state + E_ES(%rip)
    movw %ss, %ax
    movq %rax, kit_entry_state + E_SS(%rip)
    movw %fs, %ax
    movq %rax, kit_entry_state + E_FS(%rip)
    movw %gs, %ax
    movq %rax, kit_entry_state + E_GS(%rip)
    sgdt kit_entry_state + E_GDTR(%rip)
    sidt kit_entry_state + E_IDTR(%rip)
    movq $64, kit_entry_state + E_BITS(%rip)
    movl $MSR_EFER, %ecx
    rdmsr
    movl %eax, kit_entry_state + E_EFER(%rip)
    movl %edx, kit_entry_state + E_EFER + 4(%rip)
    movq $1, kit_entry_state + E_HAVE_EFER(%rip)

    leaq __bss_start(%rip), %rdi
    leaq __bss_end(%rip), %rcx
    subq %rdi, %rcx
    xorl %eax, %eax
    rep stosb

    /* The same identity map as the 32-bit path builds, under a PML5 if the loader uses LA57. */
    leaq (pgtable + 0xFFF)(%rip), %rdi
    andq $~0xFFF, %rdi
    leaq (PGT_PML4 + TABLE_FLAGS)(%rdi), %rax
    movq %rax, PGT_PML5(%rdi)
    leaq (PGT_PDPT + TABLE_FLAGS)(%rdi), %rax
    movq %rax, PGT_PML4(%rdi)
    leaq (PGT_PD + TABLE_FLAGS)(%rdi), %rax
    movq %rax, (PGT_PDPT + 0)(%rdi)
    addq $0x1000, %rax
    movq %rax, (PGT_PDPT + 8)(%rdi)
    addq $0x1000, %rax
    movq %rax, (PGT_PDPT + 16)(%rdi)
    addq $0x1000, %rax
    movq %rax, (PGT_PDPT + 24)(%rdi)
    xorl %ecx, %ecx
6:  movq %rcx, %rax
    shlq $21, %rax
    orq $PDE_FLAGS, %rax
    cmpl $PDE_UNCACHED_FROM, %ecx
    jb 7f
    orq $(PTE_PCD | PTE_PWT), %rax
7:  movq %rax, PGT_PD(%rdi, %rcx, 8)
    incl %ecx
    cmpl $2048, %ecx
    jb 6b
    leaq PGT_PML4(%rdi), %rax
    movq %cr4, %rcx
    testl $X86_CR4_LA57, %ecx
    jz 8f
    leaq PGT_PML5(%rdi), %rax
8:  movq %rax, %cr3

    leaq gdt(%rip), %rax
    movq %rax, gdt_desc + 2(%rip)
    lgdt gdt_desc(%rip)
    pushq $BOOT_CS
    leaq kit_long_mode(%rip), %rax
    pushq %rax
    lretq

    /* Both paths arrive here in 64-bit mode with the kit's GDT and page tables. */
    .globl kit_long_mode
kit_long_mode:
    movl $BOOT_DS, %eax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %fs
    movw %ax, %gs
    leaq boot_stack_top(%rip), %rsp
    movq kit_entry_state + E_RSI(%rip), %rdi
    leaq kit_entry_state(%rip), %rsi
    call bz_main
9:  cli
    hlt
    jmp 9b

    .section .data
    .balign 8
    .globl kit_entry_state
kit_entry_state:
    .fill E_SIZE, 1, 0
    .balign 8
    .globl gdt
gdt:
    .quad 0
    .quad 0
    .quad 0x00AF9A000000FFFF        /* 0x10: 64-bit code */
    .quad 0x00CF92000000FFFF        /* 0x18: data */
    .quad 0x00CF9A000000FFFF        /* 0x20: 32-bit code */
gdt_end:
    .balign 8
    .globl gdt_desc
gdt_desc:
    .word gdt_end - gdt - 1
    .quad 0

    .section .bss.pgtable, "aw", @nobits
    .balign 4096
    .globl pgtable
pgtable:
    .skip PGT_PAGES * 4096

    .section .stack, "aw", @nobits
    .balign 16
    .globl boot_stack_top
boot_stack:
    .skip STACK_SIZE
boot_stack_top:

    /*
     * kernel_info (boot protocol 2.15): found through kernel_info_offset in the setup header.
     * setup_type_max: the kit reports setup_data entries of any type and claims Linux 6.1's
     * highest, SETUP_RNG_SEED (9).
     */
    .section .rodata.kernel_info, "a"
    .balign 4
    .globl kernel_info
kernel_info:
    .ascii "LToP"
    .long kernel_info_end - kernel_info     /* size */
    .long kernel_info_end - kernel_info     /* size_total */
    .long 9                                 /* setup_type_max */
kernel_info_end:

    .section .note.GNU-stack, "", @progbits
