/*
 * The Nimbus guest test kit: the reporting core shared by the PVH and bzImage guests.
 *
 * Every line the kit prints on the UART starts with "KIT-<TAG>" and carries space separated
 * key=value fields; see README.md for the full list. The core is compiled twice: as 32-bit code
 * for the PVH guest (paging off) and as position independent 64-bit code for the bzImage guest.
 * Physical memory is reachable below 4 GiB only (identity mapped in the 64-bit guest).
 */
#ifndef KIT_KIT_H
#define KIT_KIT_H

#include <stdint.h>
#include <stddef.h>

#define KIT_VERSION 1

/* Physical addresses the kit can read: the first 4 GiB. */
#define KIT_PHYS_LIMIT 0x100000000ULL

/* What the boot path found out before the common reports run. */
struct kit_boot {
    const char *path;       /* "pvh" or "bzimage" */
    uint32_t entry_bits;    /* 16, 32 or 64: the CPU mode the kit was entered in */
    uint64_t load_addr;     /* where the image runs */
    uint64_t cmdline_addr;  /* 0 when the boot protocol gave none */
    const char *cmdline;    /* not NUL terminated; cmdline_len bytes */
    uint32_t cmdline_len;
    uint64_t rsdp_addr;     /* RSDP from the boot protocol, 0 when none */
};

/* --- out.c: the line format --- */
void kit_line(const char *tag);
void kit_hex(const char *key, uint64_t value);
void kit_dec(const char *key, uint64_t value);
void kit_str(const char *key, const char *s, uint32_t len);
void kit_cstr(const char *key, const char *s);
void kit_bool(const char *key, int value);
void kit_text(const char *s, uint32_t len);
void kit_end(void);
void kit_error(const char *what);
uint32_t kit_lines(void);
uint32_t kit_errors(void);

/* --- lib.c: freestanding helpers --- */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t kit_strlen(const char *s);
uint64_t kit_udiv64(uint64_t n, uint32_t d, uint32_t *rem);
const void *kit_phys(uint64_t addr, uint64_t len);
uint32_t kit_strnlen_phys(uint64_t addr, uint32_t max);
uint32_t kit_crc32(const void *data, uint64_t len);
uint8_t kit_sum8(const void *data, uint32_t len);

/* Little-endian fields at any alignment, as boot structures and ACPI tables lay them out. */
static inline uint16_t kit_rd16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

static inline uint32_t kit_rd32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline uint64_t kit_rd64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* --- cmdline.c --- */
int kit_param(const struct kit_boot *boot, const char *key, const char **value, uint32_t *len);
int kit_param_is(const struct kit_boot *boot, const char *key, const char *expected);
int kit_param_hex(const struct kit_boot *boot, const char *key, uint64_t *out);
int kit_param_dec(const struct kit_boot *boot, const char *key, uint64_t *out);

/* --- report.c: boot facts common to both paths --- */
void kit_ready(const struct kit_boot *boot);
void kit_report_cmdline(const struct kit_boot *boot);
void kit_report_mem(uint32_t index, uint64_t addr, uint64_t size, uint32_t type,
                    const char *source);
void kit_report_mem_summary(void);
void kit_report_module(const struct kit_boot *boot, uint32_t index, const char *source,
                       uint64_t addr, uint64_t size);
void kit_finish(const struct kit_boot *boot);

/* --- cpu.c, rtc.c --- */
void kit_report_cpu(void);
void kit_report_rtc(void);
int kit_rtc_read_seconds(uint8_t *seconds);

/* --- acpi.c --- */

/* ACPI Generic Address Structure (ACPI 6.5, 5.2.3.2). */
struct kit_gas {
    uint8_t space;          /* 0 system memory, 1 system I/O */
    uint8_t bit_width;
    uint8_t bit_offset;
    uint8_t access_size;
    uint64_t address;
};

/* The FADT facts the actions need. */
struct kit_acpi {
    int found;              /* an RSDP with a valid checksum was found */
    int have_fadt;
    uint32_t fadt_flags;
    struct kit_gas reset_reg;
    uint8_t reset_value;
    struct kit_gas sleep_control;
    struct kit_gas pm1a_cnt;
    struct kit_gas pm1b_cnt;
    struct kit_gas pm_timer;
    int have_s5;
    uint8_t s5_typ_a;
    uint8_t s5_typ_b;
    int have_mcfg;          /* an MCFG allocation for segment 0 was found */
    uint64_t mcfg_base;     /* its ECAM base, bus_start included */
    uint8_t mcfg_bus_start;
    uint8_t mcfg_bus_end;
    uint32_t madt_flags;    /* bit 0: PCAT_COMPAT, a dual 8259 PIC is present */
};

extern struct kit_acpi kit_acpi;

void kit_report_acpi(const struct kit_boot *boot);
int kit_gas_write(const struct kit_gas *reg, uint32_t value);
int kit_gas_read(const struct kit_gas *reg, uint32_t *value);

/* --- action.c --- */
void kit_act(const struct kit_boot *boot) __attribute__((noreturn));
void kit_halt(void) __attribute__((noreturn));
uint64_t kit_tsc_hz(const char **source);

/* --- pci.c: configuration space, bus 0 enumeration, BARs and capabilities --- */

#define KIT_PCI_MAX_FUNCTIONS 64

struct kit_pci_bar {
    uint64_t addr;          /* as programmed, flag bits cleared; 0 when unassigned */
    uint64_t size;          /* 0 when the BAR is not implemented */
    uint8_t io;
    uint8_t is64;
    uint8_t prefetch;
};

struct kit_pci_fn {
    uint8_t bus, dev, fn;
    uint8_t header;         /* header type without the multi-function bit */
    uint16_t vendor, device;
    uint16_t subsys_vendor, subsys;
    uint32_t class_code;    /* base class, subclass, programming interface */
    uint8_t revision;
    uint8_t cap_ptr;        /* 0 without a capability list */
    struct kit_pci_bar bar[6];
};

struct kit_pci {
    int cf8;                /* configuration mechanism #1 answers at 0xCF8/0xCFC */
    int ecam;               /* an ECAM window below 4 GiB (from the MCFG) */
    uint64_t ecam_base;
    int use_ecam;           /* which mechanism the driver code uses */
    uint32_t count;
    struct kit_pci_fn fn[KIT_PCI_MAX_FUNCTIONS];
    uint64_t mmio32_next;   /* where the kit places memory BARs it has to move */
    uint64_t mmio32_limit;
};

extern struct kit_pci kit_pci;

void kit_report_pci(const struct kit_boot *boot);
uint32_t kit_pci_read(const struct kit_pci_fn *f, uint32_t off, uint32_t size);
void kit_pci_write(const struct kit_pci_fn *f, uint32_t off, uint32_t size, uint32_t value);
uint8_t kit_pci_find_cap(const struct kit_pci_fn *f, uint8_t id, uint8_t after);
int kit_pci_bar_reachable(struct kit_pci_fn *f, uint32_t bar);
void kit_pci_bdf(const struct kit_pci_fn *f);

/* --- irq.c and irq.S: IDT, local APIC, MSI delivery and waiting --- */

#define KIT_TIMER_VECTOR 0x30
#define KIT_FIRST_DEVICE_VECTOR 0x40
#define KIT_SPURIOUS_VECTOR 0xFF

extern volatile uint32_t kit_irq_count[256];

int kit_irq_setup(void);
uint8_t kit_irq_alloc(void);
uint32_t kit_irq_apic_id(void);
int kit_irq_x2apic(void);
void kit_irq_stop(void);
int kit_wait(int (*done)(void *ctx), void *ctx, uint32_t timeout_ms, int use_irq);

/* --- virtio.c, virtio_dev.c: a virtio 1.x driver over PCI --- */
void kit_virtio_run(const struct kit_boot *boot);

#endif
