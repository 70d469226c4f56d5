/*
 * The hello guest: the smallest useful PVH payload, for boot benchmarks. It prints one line,
 * KIT-HELLO, then powers off, or halts with kit.action=halt (an idle guest). It shares
 * pvh/head.S and the kit's output, command line and register helpers with the PVH guest, but
 * finds the power-off register itself, without printing the ACPI tables: every UART byte is a
 * VM exit, and the benchmark should time the VMM, not the report.
 */
#include "../core/kit.h"
#include "../core/entry.h"

#define XEN_HVM_START_MAGIC_VALUE 0x336ec578u

/* struct hvm_start_info (Xen public header arch-x86/hvm/start_info.h) */
#define SI_MAGIC 0
#define SI_CMDLINE_PADDR 24
#define SI_RSDP_PADDR 32
#define SI_V0_SIZE 40

#define CMDLINE_MAX 65536

/* ACPI 6.5: RSDP (5.2.5.3), table header (5.2.6), FADT fields (Table 5.9), GAS (5.2.3.2). */
#define RSDP_V1_LENGTH 20
#define RSDP_RSDT 16
#define RSDP_REVISION 15
#define RSDP_XSDT 24
#define SDT_HEADER_LENGTH 36
#define SDT_MAX_LENGTH (16u << 20)
#define FADT_DSDT 40
#define FADT_PM1A_CNT_BLK 64
#define FADT_PM1_CNT_LEN 89
#define FADT_X_DSDT 140
#define FADT_X_PM1A_CNT_BLK 172
#define FADT_SLEEP_CONTROL_REG 244
#define GAS_LENGTH 12
#define BIOS_AREA_START 0xE0000
#define BIOS_AREA_END 0x100000

/* Sleep control register: SLP_TYP in bits 2-4, SLP_EN bit 5 (4.8.3.7); PM1 control: SLP_TYP in
 * bits 10-12, SLP_EN bit 13 (Table 4.13). S5 is SLP_TYP 5 unless the DSDT's \_S5 says else. */
#define SLP_TYP_S5 5
#define SLEEP_CONTROL_VALUE(typ) (((typ) << 2) | (1u << 5))
#define PM1_CNT_VALUE(typ) (((typ) << 10) | (1u << 13))

/* AML (ACPI 6.5, 20.2): Name(_S5, Package(){typ_a, ...}) */
#define AML_NAME_OP 0x08
#define AML_ROOT_CHAR 0x5C
#define AML_PACKAGE_OP 0x12
#define AML_BYTE_PREFIX 0x0A

extern char pvh_start[];

static uint64_t rsdp_at(uint64_t addr)
{
    const uint8_t *p = kit_phys(addr, RSDP_V1_LENGTH);
    if (p != NULL && memcmp(p, "RSD PTR ", 8) == 0 && kit_sum8(p, RSDP_V1_LENGTH) == 0)
        return addr;
    return 0;
}

/* The boot protocol's RSDP, else the BIOS area's (firmware that boots PVH through a ROM). */
static uint64_t find_rsdp(uint64_t boot_rsdp)
{
    if (boot_rsdp != 0 && rsdp_at(boot_rsdp) != 0)
        return boot_rsdp;
    for (uint64_t a = BIOS_AREA_START; a < BIOS_AREA_END; a += 16) {
        if (rsdp_at(a) != 0)
            return a;
    }
    return 0;
}

/* A table with a sane length, or NULL. */
static const uint8_t *table(uint64_t addr)
{
    const uint8_t *h = kit_phys(addr, SDT_HEADER_LENGTH);
    if (h == NULL)
        return NULL;
    uint32_t len = kit_rd32(h + 4);
    if (len < SDT_HEADER_LENGTH || len > SDT_MAX_LENGTH || kit_phys(addr, len) == NULL)
        return NULL;
    return h;
}

/* The FADT ("FACP") from the XSDT, or the RSDT where there is no XSDT. */
static const uint8_t *find_fadt(uint64_t rsdp_addr)
{
    const uint8_t *r = kit_phys(rsdp_addr, 32);
    uint64_t root_addr = r[RSDP_REVISION] >= 2 ? kit_rd64(r + RSDP_XSDT) : 0;
    uint32_t entry = 8;
    if (root_addr == 0) {
        root_addr = kit_rd32(r + RSDP_RSDT);
        entry = 4;
    }
    const uint8_t *root = table(root_addr);
    if (root == NULL)
        return NULL;
    for (uint32_t off = SDT_HEADER_LENGTH; off + entry <= kit_rd32(root + 4); off += entry) {
        const uint8_t *t = table(entry == 8 ? kit_rd64(root + off) : kit_rd32(root + off));
        if (t != NULL && memcmp(t, "FACP", 4) == 0)
            return t;
    }
    return NULL;
}

/* SLP_TYPa of \_S5 in the DSDT, or SLP_TYP_S5 when the DSDT has no plain \_S5 package. */
static uint32_t s5_slp_typ(const uint8_t *dsdt)
{
    const uint8_t *end = dsdt + kit_rd32(dsdt + 4);
    for (const uint8_t *p = dsdt + SDT_HEADER_LENGTH + 1; p + 8 < end; p++) {
        if (memcmp(p, "_S5_", 4) != 0)
            continue;
        if (p[-1] != AML_NAME_OP && !(p[-1] == AML_ROOT_CHAR && p[-2] == AML_NAME_OP))
            continue;
        const uint8_t *q = p + 4;
        if (*q++ != AML_PACKAGE_OP)
            continue;
        q += 1 + (*q >> 6);     /* PkgLength: bits 7-6 of its lead byte count the bytes after */
        q++;                    /* NumElements */
        if (*q == AML_BYTE_PREFIX)
            return q[1];
        return *q <= 1 ? *q : SLP_TYP_S5;   /* ZeroOp, OneOp */
    }
    return SLP_TYP_S5;
}

/*
 * Writes S5 to the hardware-reduced sleep control register, else to PM1a_CNT; returns 0 when
 * neither exists or can be written (the caller reports it).
 */
static int poweroff(const uint8_t *fadt)
{
    uint32_t len = kit_rd32(fadt + 4);
    struct kit_gas reg = {0, 0, 0, 0, 0};
    if (len >= FADT_SLEEP_CONTROL_REG + GAS_LENGTH) {
        const uint8_t *g = fadt + FADT_SLEEP_CONTROL_REG;
        reg = (struct kit_gas){g[0], g[1], g[2], g[3], kit_rd64(g + 4)};
        if (reg.address != 0)
            return kit_gas_write(&reg, SLEEP_CONTROL_VALUE(SLP_TYP_S5));
    }
    if (len >= FADT_X_PM1A_CNT_BLK + GAS_LENGTH) {
        const uint8_t *g = fadt + FADT_X_PM1A_CNT_BLK;
        reg = (struct kit_gas){g[0], g[1], g[2], g[3], kit_rd64(g + 4)};
    }
    if (reg.address == 0 && kit_rd32(fadt + FADT_PM1A_CNT_BLK) != 0) {
        reg = (struct kit_gas){1, (uint8_t)(fadt[FADT_PM1_CNT_LEN] * 8), 0, 0,
                               kit_rd32(fadt + FADT_PM1A_CNT_BLK)};
    }
    if (reg.address == 0)
        return 0;
    uint64_t dsdt_addr = kit_rd32(fadt + FADT_DSDT);
    if (len >= FADT_X_DSDT + 8 && kit_rd64(fadt + FADT_X_DSDT) != 0)
        dsdt_addr = kit_rd64(fadt + FADT_X_DSDT);
    const uint8_t *dsdt = table(dsdt_addr);
    uint32_t typ = dsdt != NULL ? s5_slp_typ(dsdt) : SLP_TYP_S5;
    return kit_gas_write(&reg, PM1_CNT_VALUE(typ));
}

void pvh_main(struct kit_entry *entry)
{
    uint32_t si_addr = (uint32_t)entry->rbx;
    const uint8_t *si = si_addr ? kit_phys(si_addr, SI_V0_SIZE) : NULL;
    struct kit_boot boot = {
        .path = "pvh",
        .entry_bits = 32,
        .load_addr = (uintptr_t)pvh_start,
        .cmdline = "",
    };
    if (si != NULL && kit_rd32(si + SI_MAGIC) == XEN_HVM_START_MAGIC_VALUE) {
        uint64_t cmd = kit_rd64(si + SI_CMDLINE_PADDR);
        uint32_t len = cmd != 0 ? kit_strnlen_phys(cmd, CMDLINE_MAX) : 0;
        const char *text = len != 0 ? kit_phys(cmd, len) : NULL;
        if (text != NULL) {
            boot.cmdline_addr = cmd;
            boot.cmdline = text;
            boot.cmdline_len = len;
        }
        boot.rsdp_addr = kit_rd64(si + SI_RSDP_PADDR);
    }

    kit_line("HELLO");
    kit_cstr("boot", boot.path);
    kit_end();

    if (kit_param_is(&boot, "kit.action", "halt"))
        kit_halt();
    uint64_t rsdp = find_rsdp(boot.rsdp_addr);
    const uint8_t *fadt = rsdp != 0 ? find_fadt(rsdp) : NULL;
    if (fadt == NULL) {
        kit_error(rsdp == 0 ? "rsdp-not-found" : "fadt-not-found");
        kit_end();
        kit_halt();
    }
    if (!poweroff(fadt)) {
        kit_error("poweroff-unsupported");
        kit_end();
        kit_halt();
    }
    /* Give the write time to take effect before saying it did not. */
    for (volatile uint32_t i = 0; i < 1000000; i++)
        __asm__ volatile("pause");
    kit_error("poweroff-returned");
    kit_end();
    kit_halt();
}
