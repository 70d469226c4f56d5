/*
 * PVH entry (Xen's x86/HVM direct boot ABI, as Linux and Cloud Hypervisor use it): the loader
 * enters pvh_start in 32-bit protected mode with paging off, flat CS/DS/ES/SS, and EBX holding
 * the physical address of struct hvm_start_info. There is no stack.
 */
#include "../core/entry.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define STACK_SIZE 16384

    .code32
    .section .text.entry, "ax"
    .globl pvh_start
pvh_start:
    /* Record the entry state first; nothing has changed it yet. */
    movl %eax, kit_entry_state + E_RAX
    movl %ebx, kit_entry_state + E_RBX
    movl %ecx, kit_entry_state + E_RCX
    movl %edx, kit_entry_state + E_RDX
    movl %esi, kit_entry_state + E_RSI
    movl %edi, kit_entry_state + E_RDI
    movl %ebp, kit_entry_state + E_RBP
    movl %esp, kit_entry_state + E_RSP
    movl $boot_stack_top, %esp
    pushfl
    popl kit_entry_state + E_RFLAGS
    cli
    cld
    movl %cr0, %eax
    movl %eax, kit_entry_state + E_CR0
    movl %cr3, %eax
    movl %eax, kit_entry_state + E_CR3
    movl %cr4, %eax
    movl %eax, kit_entry_state + E_CR4
    xorl %eax, %eax
    movw %cs, %ax
    movl %eax, kit_entry_state + E_CS
    movw %ds, %ax
    movl %eax, kit_entry_state + E_DS
    movw %es, %ax
    movl %eax, kit_entry_state + E_ES
    movw %ss, %ax
    movl %eax, kit_entry_state + E_SS
    movw %fs, %ax
    movl %eax, kit_entry_state + E_FS
    movw %gs, %ax
    movl %eax, kit_entry_state + E_GS
    sgdt kit_entry_state + E_GDTR
    sidt kit_entry_state + E_IDTR
    movl $32, kit_entry_state + E_BITS

    /* The loader need not clear what lies beyond the file in the segment. */
    movl $__bss_start, %edi
    movl $__bss_end, %ecx
    subl %edi, %ecx
    xorl %eax, %eax
    rep stosb

    pushl $kit_entry_state
    call pvh_main
1:  cli
    hlt
    jmp 1b

    /* struct kit_entry, in .data so that clearing .bss keeps it. */
    .section .data
    .balign 8
    .globl kit_entry_state
kit_entry_state:
    .fill E_SIZE, 1, 0

    .section .stack, "aw", @nobits
    .balign 16
boot_stack:
    .skip STACK_SIZE
boot_stack_top:

    /*
     * The PVH entry note. The descriptor is 8 bytes, as in a 64-bit vmlinux; a reader that
     * takes 4 bytes gets the same address.
     */
    .section .note.Xen, "a", @note
    .balign 4
    .long 4                         /* namesz: "Xen\0" */
    .long 8                         /* descsz */
    .long XEN_ELFNOTE_PHYS32_ENTRY
    .asciz "Xen"
    .balign 4
    .long pvh_start
    .long 0
    .balign 4

    .section .note.GNU-stack, "", @progbits
