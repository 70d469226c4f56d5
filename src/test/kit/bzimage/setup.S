/*
 * The real-mode part of the bzImage: the boot sector with the Linux setup header (Linux
 * Documentation/arch/x86/boot.rst, protocol 2.15) and a small 16-bit setup for loaders that
 * start the kernel in real mode (QEMU's -kernel, bootloaders on BIOS). VMMs in the Cloud
 * Hypervisor mould skip this part and enter the protected-mode kernel directly.
 *
 * The real-mode setup builds the zero page (boot_params) in its own segment: a copy of the
 * setup header the loader filled in plus the BIOS E820 map, then switches to 32-bit protected
 * mode and jumps to code32_start with ESI = boot_params, as the 32-bit boot protocol says.
 */
#include "../core/entry.h"

#define LOADED_HIGH 0x01
#define XLF_KERNEL_64 0x01
#define BOOT_PROTOCOL_VERSION 0x020F
#define COMMAND_LINE_SIZE 2048

/* Offsets in the setup segment. The loader gives the setup 0x8000 bytes (setup_move_size). */
#define ZERO_PAGE 0x5000
#define REALMODE_STACK_TOP 0x7FF0

/* boot_params (Linux arch/x86/include/uapi/asm/bootparam.h) */
#define BP_E820_ENTRIES 0x1E8
#define BP_HDR 0x1F1
#define BP_CODE32_START 0x214
#define BP_E820_TABLE 0x2D0
#define E820_ENTRY_SIZE 20
#define E820_MAX_ENTRIES 128

#define SMAP 0x534D4150             /* "SMAP", the INT 15h AX=E820h signature */

#define BOOT_CS 0x10
#define BOOT_DS 0x18

    .code16
    .section .setup, "ax"
    .globl _setup
_setup:
    /* The boot sector. It cannot boot by itself: a loader reads the header below. */
    .org 0x1F1
hdr:
    .byte setup_sects               /* 0x1F1 setup_sects */
    .word 0                         /* 0x1F2 root_flags */
    .long syssize                   /* 0x1F4 syssize: protected-mode size in 16-byte units */
    .word 0                         /* 0x1F8 ram_size (obsolete) */
    .word 0xFFFF                    /* 0x1FA vid_mode: NORMAL_VGA */
    .word 0                         /* 0x1FC root_dev */
    .word 0xAA55                    /* 0x1FE boot_flag */
    /* 0x200: the real-mode entry point. Its second byte also gives the header's length. */
    .byte 0xEB                      /* jmp short start_of_setup */
    .byte start_of_setup - 1f
1:
    .ascii "HdrS"                   /* 0x202 header */
    .word BOOT_PROTOCOL_VERSION     /* 0x206 version */
    .long 0                         /* 0x208 realmode_swtch */
    .word 0x1000                    /* 0x20C start_sys_seg (obsolete) */
    .word kernel_version - 0x200    /* 0x20E kernel_version */
    .byte 0                         /* 0x210 type_of_loader: the loader writes it */
    .byte LOADED_HIGH               /* 0x211 loadflags */
    .word 0x8000                    /* 0x212 setup_move_size */
    .long 0x100000                  /* 0x214 code32_start */
    .long 0                         /* 0x218 ramdisk_image */
    .long 0                         /* 0x21C ramdisk_size */
    .long 0                         /* 0x220 bootsect_kludge */
    .word 0                         /* 0x224 heap_end_ptr */
    .byte 0                         /* 0x226 ext_loader_ver */
    .byte 0                         /* 0x227 ext_loader_type */
    .long 0                         /* 0x228 cmd_line_ptr */
    .long 0x7FFFFFFF                /* 0x22C initrd_addr_max */
    .long 0x1000                    /* 0x230 kernel_alignment */
    .byte 1                         /* 0x234 relocatable_kernel */
    .byte 12                        /* 0x235 min_alignment: log2 of 4 KiB */
    .word XLF_KERNEL_64             /* 0x236 xloadflags: 64-bit entry at +0x200 */
    .long COMMAND_LINE_SIZE - 1     /* 0x238 cmdline_size */
    .long 0                         /* 0x23C hardware_subarch */
    .quad 0                         /* 0x240 hardware_subarch_data */
    .long 0                         /* 0x248 payload_offset: no compressed payload */
    .long 0                         /* 0x24C payload_length */
    .quad 0                         /* 0x250 setup_data */
    .quad 0x100000                  /* 0x258 pref_address */
    .long init_size                 /* 0x260 init_size */
    .long 0                         /* 0x264 handover_offset: no EFI handover */
    .long kernel_info_offset        /* 0x268 kernel_info_offset */
    .org 0x26C                      /* fails the build if the header ran past 0x26C */

/*
 * Entered at (setup segment + 0x20):0 with DS = ES = SS = the setup segment, interrupts off.
 */
start_of_setup:
    cli
    cld
    movw %ds, %ax
    movw %ax, %es
    movw %ax, %ss
    movw $REALMODE_STACK_TOP, %sp
    /* Make CS the setup segment too, so that labels are offsets from _setup. */
    pushw %ds
    pushw $2f
    lretw
2:
    /* The zero page: cleared, then the setup header as the loader left it. */
    movw $ZERO_PAGE, %di
    movw $2048, %cx
    xorw %ax, %ax
    rep stosw
    movw $BP_HDR, %si
    movw $(ZERO_PAGE + BP_HDR), %di
    movw $(0x26C - BP_HDR), %cx
    rep movsb

    /* The memory map from the BIOS: INT 15h, AX=E820h, one 20-byte entry per call. */
    xorl %ebx, %ebx
    xorw %bp, %bp
    movw $(ZERO_PAGE + BP_E820_TABLE), %di
3:
    movl $0xE820, %eax
    movl $SMAP, %edx
    movl $E820_ENTRY_SIZE, %ecx
    int $0x15
    jc 4f
    cmpl $SMAP, %eax
    jne 4f
    incw %bp
    addw $E820_ENTRY_SIZE, %di
    cmpw $E820_MAX_ENTRIES, %bp
    jae 4f
    testl %ebx, %ebx
    jnz 3b
4:
    movw %bp, %ax
    movb %al, (ZERO_PAGE + BP_E820_ENTRIES)

    /* A20 through the fast gate (port 0x92 bit 1); bit 0 would reset the CPU. */
    inb $0x92, %al
    orb $0x02, %al
    andb $0xFE, %al
    outb %al, $0x92

    /* Linear addresses of the GDT, the 32-bit code and the zero page. */
    xorl %ebx, %ebx
    movw %ds, %bx
    shll $4, %ebx
    movl $gdt, %eax
    addl %ebx, %eax
    movl %eax, gdt_desc + 2
    movl $protected_mode, %eax
    addl %ebx, %eax
    movl %eax, far_target
    movl $ZERO_PAGE, %esi
    addl %ebx, %esi

    lgdtl gdt_desc
    movl %cr0, %eax
    orb $0x01, %al
    movl %eax, %cr0
    ljmpl *far_target

    .code32
protected_mode:
    movl $BOOT_DS, %eax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %fs
    movw %ax, %gs
    /* The 32-bit boot protocol: ESI = boot_params, EBX = EBP = 0; EDI marks this setup. */
    movl BP_CODE32_START(%esi), %eax
    xorl %ebx, %ebx
    xorl %ebp, %ebp
    movl $KIT_SETUP_MAGIC, %edi
    jmp *%eax

    .balign 8
gdt:
    .quad 0
    .quad 0
    .quad 0x00CF9A000000FFFF        /* 0x10: 32-bit code, base 0, limit 4 GiB */
    .quad 0x00CF92000000FFFF        /* 0x18: data, base 0, limit 4 GiB */
gdt_end:
gdt_desc:
    .word gdt_end - gdt - 1
    .long 0
far_target:
    .long 0
    .word BOOT_CS

kernel_version:
    .asciz "nimbus-kit"

    .section .note.GNU-stack, "", @progbits
