/*
 * Register state at entry, recorded by the entry code before it changes anything, so the kit
 * can report exactly what the loader handed over. Shared by C and the assembly entry code:
 * every slot is 8 bytes, 32-bit entry code fills the low half of each.
 */
#ifndef KIT_ENTRY_H
#define KIT_ENTRY_H

#define E_RAX 0
#define E_RBX 8
#define E_RCX 16
#define E_RDX 24
#define E_RSI 32
#define E_RDI 40
#define E_RBP 48
#define E_RSP 56
#define E_RFLAGS 64
#define E_CR0 72
#define E_CR3 80
#define E_CR4 88
#define E_CS 96
#define E_DS 104
#define E_ES 112
#define E_SS 120
#define E_FS 128
#define E_GS 136
#define E_GDTR 144          /* sgdt: limit (2 bytes), then base (4 or 8 bytes) */
#define E_IDTR 160          /* sidt, the same layout */
#define E_BITS 176          /* the mode the kit was entered in: 16, 32 or 64 */
#define E_PARTIAL 184       /* 1 when EAX, ECX and EDX were not recorded */
#define E_EFER 192
#define E_HAVE_EFER 200     /* 1 when EFER was recorded */
#define E_SIZE 208

/* EDI value with which the kit's own real-mode setup enters the 32-bit entry point ("KIT1"). */
#define KIT_SETUP_MAGIC 0x3154494B

#ifndef __ASSEMBLER__
#include <stdint.h>

struct kit_entry {
    uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp;
    uint64_t rflags, cr0, cr3, cr4;
    uint64_t cs, ds, es, ss, fs, gs;
    uint8_t gdtr[16];
    uint8_t idtr[16];
    uint64_t bits;
    uint64_t partial;
    uint64_t efer;
    uint64_t have_efer;
};

_Static_assert(sizeof(struct kit_entry) == E_SIZE, "kit_entry layout");
_Static_assert(__builtin_offsetof(struct kit_entry, rflags) == E_RFLAGS, "kit_entry layout");
_Static_assert(__builtin_offsetof(struct kit_entry, cs) == E_CS, "kit_entry layout");
_Static_assert(__builtin_offsetof(struct kit_entry, gdtr) == E_GDTR, "kit_entry layout");
_Static_assert(__builtin_offsetof(struct kit_entry, bits) == E_BITS, "kit_entry layout");
_Static_assert(__builtin_offsetof(struct kit_entry, efer) == E_EFER, "kit_entry layout");

void kit_report_entry(const struct kit_entry *e);
void kit_record_efer(struct kit_entry *e);
#endif

#endif
