/*
 * ACPI tables (ACPI 6.5, chapter 5): find the RSDP, check every table's checksum while walking
 * the XSDT (or the RSDT where there is no XSDT), and report the MADT, FADT, MCFG, DSDT and FACS
 * in detail. The FADT facts are kept in kit_acpi for the power-off and reset actions.
 */
#include "kit.h"
#include "io.h"

struct kit_acpi kit_acpi;

#define RSDP_V1_LENGTH 20
#define RSDP_V2_LENGTH 36
#define SDT_HEADER_LENGTH 36
#define SDT_MAX_LENGTH (16u << 20)

/* Where the spec says to look for the RSDP on legacy BIOS platforms (ACPI 6.5, 5.2.5.1). */
#define BDA_EBDA_SEGMENT 0x40E
#define EBDA_SCAN_LENGTH 1024
#define BIOS_AREA_START 0xE0000
#define BIOS_AREA_END 0x100000

/* FADT field offsets (ACPI 6.5, Table 5.9). */
#define FADT_FIRMWARE_CTRL 36
#define FADT_DSDT 40
#define FADT_SCI_INT 46
#define FADT_SMI_CMD 48
#define FADT_ACPI_ENABLE 52
#define FADT_ACPI_DISABLE 53
#define FADT_PM1A_EVT_BLK 56
#define FADT_PM1A_CNT_BLK 64
#define FADT_PM1B_CNT_BLK 68
#define FADT_PM_TMR_BLK 76
#define FADT_PM1_CNT_LEN 89
#define FADT_PM_TMR_LEN 91
#define FADT_CENTURY 108
#define FADT_IAPC_BOOT_ARCH 109
#define FADT_FLAGS 112
#define FADT_RESET_REG 116
#define FADT_RESET_VALUE 128
#define FADT_MINOR_VERSION 131
#define FADT_X_FIRMWARE_CTRL 132
#define FADT_X_DSDT 140
#define FADT_X_PM1A_CNT_BLK 172
#define FADT_X_PM1B_CNT_BLK 184
#define FADT_X_PM_TMR_BLK 208
#define FADT_SLEEP_CONTROL_REG 244
#define FADT_SLEEP_STATUS_REG 256
#define FADT_HYPERVISOR_VENDOR 268
#define GAS_LENGTH 12

#define FADT_FLAG_RESET_REG_SUP (1u << 10)
#define FADT_FLAG_HW_REDUCED_ACPI (1u << 20)
#define IAPC_BOOT_ARCH_8042 (1u << 1)
#define IAPC_BOOT_ARCH_CMOS_RTC_NOT_PRESENT (1u << 5)

/* MADT (ACPI 6.5, 5.2.12): local APIC address and flags, then the interrupt controller entries. */
#define MADT_LAPIC_ADDR 36
#define MADT_FLAGS 40
#define MADT_ENTRIES 44
#define MADT_LOCAL_APIC 0
#define MADT_IO_APIC 1
#define MADT_INTERRUPT_OVERRIDE 2
#define MADT_NMI_SOURCE 3
#define MADT_LOCAL_APIC_NMI 4
#define MADT_LOCAL_APIC_OVERRIDE 5
#define MADT_LOCAL_X2APIC 9
#define MADT_LOCAL_X2APIC_NMI 10
#define MADT_LAPIC_ENABLED (1u << 0)
#define MADT_LAPIC_ONLINE_CAPABLE (1u << 1)

/* MCFG (PCI Firmware Specification 3.2, 4.1.2): allocations of 16 bytes after 8 reserved. */
#define MCFG_ENTRIES 44
#define MCFG_ENTRY_LENGTH 16

/* AML opcodes used to find \_S5 (ACPI 6.5, 20.2). */
#define AML_NAME_OP 0x08
#define AML_PACKAGE_OP 0x12
#define AML_ZERO_OP 0x00
#define AML_ONE_OP 0x01
#define AML_BYTE_PREFIX 0x0A
#define AML_ROOT_CHAR '\\'

static void read_gas(const uint8_t *p, struct kit_gas *g)
{
    g->space = p[0];
    g->bit_width = p[1];
    g->bit_offset = p[2];
    g->access_size = p[3];
    g->address = kit_rd64(p + 4);
}

static const char *space_name(uint8_t space)
{
    switch (space) {
    case 0:
        return "mem";
    case 1:
        return "io";
    case 2:
        return "pci";
    default:
        return "other";
    }
}

static uint32_t gas_width(const struct kit_gas *reg)
{
    if (reg->bit_width == 8 || reg->bit_width == 16 || reg->bit_width == 32)
        return reg->bit_width;
    if (reg->access_size >= 1 && reg->access_size <= 3)
        return 8u << (reg->access_size - 1);
    return 8;
}

/* Writes a register described by a GAS; 0 when its address space is not supported. */
int kit_gas_write(const struct kit_gas *reg, uint32_t value)
{
    uint32_t width = gas_width(reg);
    value <<= reg->bit_offset;
    if (reg->space == 1 && reg->address < 0x10000) {
        uint16_t port = (uint16_t)reg->address;
        if (width == 8)
            outb(port, (uint8_t)value);
        else if (width == 16)
            outw(port, (uint16_t)value);
        else
            outl(port, value);
        return 1;
    }
    if (reg->space == 0 && kit_phys(reg->address, width / 8) != NULL) {
        uintptr_t a = (uintptr_t)reg->address;
        if (width == 8)
            *(volatile uint8_t *)a = (uint8_t)value;
        else if (width == 16)
            *(volatile uint16_t *)a = (uint16_t)value;
        else
            *(volatile uint32_t *)a = value;
        return 1;
    }
    return 0;
}

int kit_gas_read(const struct kit_gas *reg, uint32_t *value)
{
    uint32_t width = gas_width(reg);
    uint32_t v;
    if (reg->space == 1 && reg->address < 0x10000) {
        uint16_t port = (uint16_t)reg->address;
        v = width == 8 ? inb(port) : width == 16 ? inw(port) : inl(port);
    } else if (reg->space == 0 && kit_phys(reg->address, width / 8) != NULL) {
        uintptr_t a = (uintptr_t)reg->address;
        v = width == 8 ? *(volatile uint8_t *)a
            : width == 16 ? *(volatile uint16_t *)a : *(volatile uint32_t *)a;
    } else {
        return 0;
    }
    *value = v >> reg->bit_offset;
    return 1;
}

static void report_gas(const char *name, const struct kit_gas *g)
{
    kit_line("FADT-REG");
    kit_cstr("name", name);
    kit_cstr("space", space_name(g->space));
    kit_dec("width", g->bit_width);
    kit_dec("offset", g->bit_offset);
    kit_dec("access", g->access_size);
    kit_hex("addr", g->address);
}

/* --- RSDP --- */

static int rsdp_valid(uint64_t addr)
{
    const uint8_t *p = kit_phys(addr, RSDP_V1_LENGTH);
    if (p == NULL || memcmp(p, "RSD PTR ", 8) != 0)
        return 0;
    return kit_sum8(p, RSDP_V1_LENGTH) == 0;
}

static uint64_t rsdp_scan(uint64_t start, uint64_t end)
{
    for (uint64_t a = start; a + RSDP_V1_LENGTH <= end; a += 16) {
        if (rsdp_valid(a))
            return a;
    }
    return 0;
}

static uint64_t find_rsdp(const struct kit_boot *boot, const char **source)
{
    if (boot->rsdp_addr != 0) {
        if (rsdp_valid(boot->rsdp_addr)) {
            *source = "boot";
            return boot->rsdp_addr;
        }
        kit_error("rsdp-invalid");
        kit_hex("addr", boot->rsdp_addr);
        kit_end();
    }
    uint64_t ebda = (uint64_t)kit_rd16(kit_phys(BDA_EBDA_SEGMENT, 2)) << 4;
    if (ebda >= 0x80000 && ebda < 0xA0000) {
        uint64_t a = rsdp_scan(ebda, ebda + EBDA_SCAN_LENGTH);
        if (a != 0) {
            *source = "ebda";
            return a;
        }
    }
    uint64_t a = rsdp_scan(BIOS_AREA_START, BIOS_AREA_END);
    *source = "bios";
    return a;
}

/* --- tables --- */

/* Reports one table; returns its bytes when they can be read and the length makes sense. */
static const uint8_t *report_table(uint64_t addr, const char *via)
{
    const uint8_t *h = kit_phys(addr, SDT_HEADER_LENGTH);
    kit_line("ACPI-TABLE");
    if (h == NULL) {
        kit_hex("addr", addr);
        kit_cstr("via", via);
        kit_bool("readable", 0);
        kit_end();
        return NULL;
    }
    uint32_t len = kit_rd32(h + 4);
    int sane = len >= SDT_HEADER_LENGTH && len <= SDT_MAX_LENGTH && kit_phys(addr, len) != NULL;
    kit_str("sig", (const char *)h, 4);
    kit_hex("addr", addr);
    kit_hex("length", len);
    kit_dec("revision", h[8]);
    kit_cstr("checksum", !sane ? "unchecked" : kit_sum8(h, len) == 0 ? "ok" : "bad");
    kit_str("oem", (const char *)h + 10, 6);
    kit_str("oem_table", (const char *)h + 16, 8);
    kit_hex("oem_revision", kit_rd32(h + 24));
    kit_str("creator", (const char *)h + 28, 4);
    kit_cstr("via", via);
    kit_end();
    return sane ? h : NULL;
}

static void report_facs(uint64_t addr)
{
    const uint8_t *h = kit_phys(addr, 8);
    kit_line("ACPI-TABLE");
    if (h == NULL) {
        kit_hex("addr", addr);
        kit_cstr("via", "fadt");
        kit_bool("readable", 0);
        kit_end();
        return;
    }
    /* The FACS has no checksum and no standard header beyond signature and length. */
    kit_str("sig", (const char *)h, 4);
    kit_hex("addr", addr);
    kit_hex("length", kit_rd32(h + 4));
    kit_cstr("checksum", "none");
    kit_cstr("via", "fadt");
    kit_end();
}

static int aml_small_int(const uint8_t *p, const uint8_t *end, uint8_t *value, uint32_t *used)
{
    if (p >= end)
        return 0;
    if (*p == AML_ZERO_OP || *p == AML_ONE_OP) {
        *value = *p;
        *used = 1;
        return 1;
    }
    if (*p == AML_BYTE_PREFIX && p + 1 < end) {
        *value = p[1];
        *used = 2;
        return 1;
    }
    return 0;
}

/*
 * Finds Name(_S5, Package(){SLP_TYPa, SLP_TYPb, ...}) in the DSDT. A byte search is what the
 * AML allows without an interpreter; it covers the plain form every firmware emits.
 */
static void find_s5(const uint8_t *dsdt, uint32_t len)
{
    const uint8_t *end = dsdt + len;
    for (const uint8_t *p = dsdt + SDT_HEADER_LENGTH + 1; p + 4 < end; p++) {
        if (memcmp(p, "_S5_", 4) != 0)
            continue;
        int named = p[-1] == AML_NAME_OP
                    || (p[-1] == AML_ROOT_CHAR && p[-2] == AML_NAME_OP);
        if (!named)
            continue;
        const uint8_t *q = p + 4;
        if (q >= end || *q != AML_PACKAGE_OP)
            continue;
        q++;
        if (q >= end)
            return;
        q += 1 + (*q >> 6);    /* PkgLength: lead byte bits 7-6 count the bytes after it */
        q++;                   /* NumElements */
        uint8_t a, b;
        uint32_t used;
        if (!aml_small_int(q, end, &a, &used))
            return;
        q += used;
        if (!aml_small_int(q, end, &b, &used))
            b = 0;
        kit_acpi.have_s5 = 1;
        kit_acpi.s5_typ_a = a;
        kit_acpi.s5_typ_b = b;
        kit_line("ACPI-S5");
        kit_hex("slp_typ_a", a);
        kit_hex("slp_typ_b", b);
        kit_cstr("source", "dsdt");
        kit_end();
        return;
    }
}

static void report_fadt(const uint8_t *f, uint64_t addr)
{
    uint32_t len = kit_rd32(f + 4);
#define HAS(off, size) (len >= (uint32_t)(off) + (uint32_t)(size))
    uint32_t flags = HAS(FADT_FLAGS, 4) ? kit_rd32(f + FADT_FLAGS) : 0;
    uint16_t boot_arch = HAS(FADT_IAPC_BOOT_ARCH, 2) ? kit_rd16(f + FADT_IAPC_BOOT_ARCH) : 0;
    uint64_t dsdt = kit_rd32(f + FADT_DSDT);
    uint64_t facs = kit_rd32(f + FADT_FIRMWARE_CTRL);
    if (HAS(FADT_X_DSDT, 8) && kit_rd64(f + FADT_X_DSDT) != 0)
        dsdt = kit_rd64(f + FADT_X_DSDT);
    if (HAS(FADT_X_FIRMWARE_CTRL, 8) && kit_rd64(f + FADT_X_FIRMWARE_CTRL) != 0)
        facs = kit_rd64(f + FADT_X_FIRMWARE_CTRL);

    kit_acpi.have_fadt = 1;
    kit_acpi.fadt_flags = flags;

    /* PM1a/PM1b control and the PM timer: the X_ GAS when present, else the legacy port. */
    struct kit_acpi *a = &kit_acpi;
    if (HAS(FADT_X_PM1A_CNT_BLK, GAS_LENGTH))
        read_gas(f + FADT_X_PM1A_CNT_BLK, &a->pm1a_cnt);
    if (a->pm1a_cnt.address == 0 && kit_rd32(f + FADT_PM1A_CNT_BLK) != 0) {
        a->pm1a_cnt.space = 1;
        a->pm1a_cnt.bit_width = (uint8_t)(f[FADT_PM1_CNT_LEN] * 8);
        a->pm1a_cnt.address = kit_rd32(f + FADT_PM1A_CNT_BLK);
    }
    if (HAS(FADT_X_PM1B_CNT_BLK, GAS_LENGTH))
        read_gas(f + FADT_X_PM1B_CNT_BLK, &a->pm1b_cnt);
    if (a->pm1b_cnt.address == 0 && kit_rd32(f + FADT_PM1B_CNT_BLK) != 0) {
        a->pm1b_cnt.space = 1;
        a->pm1b_cnt.bit_width = (uint8_t)(f[FADT_PM1_CNT_LEN] * 8);
        a->pm1b_cnt.address = kit_rd32(f + FADT_PM1B_CNT_BLK);
    }
    if (HAS(FADT_X_PM_TMR_BLK, GAS_LENGTH))
        read_gas(f + FADT_X_PM_TMR_BLK, &a->pm_timer);
    if (a->pm_timer.address == 0 && kit_rd32(f + FADT_PM_TMR_BLK) != 0 && f[FADT_PM_TMR_LEN] == 4) {
        a->pm_timer.space = 1;
        a->pm_timer.bit_width = 32;
        a->pm_timer.address = kit_rd32(f + FADT_PM_TMR_BLK);
    }
    if (HAS(FADT_RESET_VALUE, 1)) {
        read_gas(f + FADT_RESET_REG, &a->reset_reg);
        a->reset_value = f[FADT_RESET_VALUE];
    }
    if (HAS(FADT_SLEEP_CONTROL_REG, GAS_LENGTH))
        read_gas(f + FADT_SLEEP_CONTROL_REG, &a->sleep_control);

    kit_line("FADT");
    kit_hex("addr", addr);
    kit_dec("revision", f[8]);
    kit_dec("minor", HAS(FADT_MINOR_VERSION, 1) ? f[FADT_MINOR_VERSION] : 0);
    kit_hex("flags", flags);
    kit_bool("hw_reduced", (flags & FADT_FLAG_HW_REDUCED_ACPI) != 0);
    kit_bool("reset_reg_sup", (flags & FADT_FLAG_RESET_REG_SUP) != 0);
    kit_hex("iapc_boot_arch", boot_arch);
    kit_bool("i8042", (boot_arch & IAPC_BOOT_ARCH_8042) != 0);
    kit_bool("rtc_absent", (boot_arch & IAPC_BOOT_ARCH_CMOS_RTC_NOT_PRESENT) != 0);
    kit_dec("sci_int", kit_rd16(f + FADT_SCI_INT));
    kit_hex("smi_cmd", kit_rd32(f + FADT_SMI_CMD));
    kit_hex("acpi_enable", f[FADT_ACPI_ENABLE]);
    kit_hex("acpi_disable", f[FADT_ACPI_DISABLE]);
    kit_hex("pm1a_evt", kit_rd32(f + FADT_PM1A_EVT_BLK));
    kit_hex("century", f[FADT_CENTURY]);
    kit_hex("dsdt", dsdt);
    kit_hex("facs", facs);
    if (HAS(FADT_HYPERVISOR_VENDOR, 8))
        kit_hex("hypervisor_vendor", kit_rd64(f + FADT_HYPERVISOR_VENDOR));
    kit_end();

    if (a->pm1a_cnt.address != 0) {
        report_gas("pm1a_cnt", &a->pm1a_cnt);
        kit_end();
    }
    if (a->pm1b_cnt.address != 0) {
        report_gas("pm1b_cnt", &a->pm1b_cnt);
        kit_end();
    }
    if (a->pm_timer.address != 0) {
        report_gas("pm_timer", &a->pm_timer);
        kit_end();
    }
    if (a->reset_reg.address != 0) {
        report_gas("reset", &a->reset_reg);
        kit_hex("value", a->reset_value);
        kit_end();
    }
    if (a->sleep_control.address != 0) {
        report_gas("sleep_control", &a->sleep_control);
        kit_end();
    }
    if (HAS(FADT_SLEEP_STATUS_REG, GAS_LENGTH)) {
        struct kit_gas status;
        read_gas(f + FADT_SLEEP_STATUS_REG, &status);
        if (status.address != 0) {
            report_gas("sleep_status", &status);
            kit_end();
        }
    }
#undef HAS

    if (dsdt != 0) {
        const uint8_t *d = report_table(dsdt, "fadt");
        if (d != NULL)
            find_s5(d, kit_rd32(d + 4));
    }
    if (facs != 0)
        report_facs(facs);
}

static void report_madt(const uint8_t *m, uint64_t addr)
{
    uint32_t len = kit_rd32(m + 4);
    uint32_t enabled = 0, online_capable = 0, entries = 0;

    kit_acpi.madt_flags = kit_rd32(m + MADT_FLAGS);
    kit_line("MADT");
    kit_hex("addr", addr);
    kit_hex("lapic_addr", kit_rd32(m + MADT_LAPIC_ADDR));
    kit_hex("flags", kit_rd32(m + MADT_FLAGS));
    kit_end();

    for (uint32_t off = MADT_ENTRIES; off + 2 <= len;) {
        const uint8_t *e = m + off;
        uint8_t type = e[0], elen = e[1];
        if (elen < 2 || off + elen > len) {
            kit_error("madt-entry-length");
            kit_hex("offset", off);
            kit_dec("length", elen);
            kit_end();
            break;
        }
        entries++;
        if (type == MADT_LOCAL_APIC && elen >= 8) {
            uint32_t flags = kit_rd32(e + 4);
            kit_line("MADT-LAPIC");
            kit_dec("uid", e[2]);
            kit_hex("apic_id", e[3]);
            kit_hex("flags", flags);
            kit_bool("enabled", flags & MADT_LAPIC_ENABLED);
            kit_bool("online_capable", (flags & MADT_LAPIC_ONLINE_CAPABLE) != 0);
            kit_end();
            enabled += flags & MADT_LAPIC_ENABLED;
            online_capable += !(flags & MADT_LAPIC_ENABLED) && (flags & MADT_LAPIC_ONLINE_CAPABLE);
        } else if (type == MADT_LOCAL_X2APIC && elen >= 16) {
            uint32_t flags = kit_rd32(e + 8);
            kit_line("MADT-X2APIC");
            kit_dec("uid", kit_rd32(e + 12));
            kit_hex("apic_id", kit_rd32(e + 4));
            kit_hex("flags", flags);
            kit_bool("enabled", flags & MADT_LAPIC_ENABLED);
            kit_bool("online_capable", (flags & MADT_LAPIC_ONLINE_CAPABLE) != 0);
            kit_end();
            enabled += flags & MADT_LAPIC_ENABLED;
            online_capable += !(flags & MADT_LAPIC_ENABLED) && (flags & MADT_LAPIC_ONLINE_CAPABLE);
        } else if (type == MADT_IO_APIC && elen >= 12) {
            kit_line("MADT-IOAPIC");
            kit_hex("id", e[2]);
            kit_hex("addr", kit_rd32(e + 4));
            kit_dec("gsi_base", kit_rd32(e + 8));
            kit_end();
        } else if (type == MADT_INTERRUPT_OVERRIDE && elen >= 10) {
            kit_line("MADT-ISO");
            kit_dec("bus", e[2]);
            kit_dec("source", e[3]);
            kit_dec("gsi", kit_rd32(e + 4));
            kit_hex("flags", kit_rd16(e + 8));
            kit_end();
        } else if (type == MADT_NMI_SOURCE && elen >= 8) {
            kit_line("MADT-NMI-SOURCE");
            kit_hex("flags", kit_rd16(e + 2));
            kit_dec("gsi", kit_rd32(e + 4));
            kit_end();
        } else if (type == MADT_LOCAL_APIC_NMI && elen >= 6) {
            kit_line("MADT-LAPIC-NMI");
            kit_hex("uid", e[2]);
            kit_hex("flags", kit_rd16(e + 3));
            kit_dec("lint", e[5]);
            kit_end();
        } else if (type == MADT_LOCAL_X2APIC_NMI && elen >= 12) {
            kit_line("MADT-X2APIC-NMI");
            kit_hex("uid", kit_rd32(e + 4));
            kit_hex("flags", kit_rd16(e + 2));
            kit_dec("lint", e[8]);
            kit_end();
        } else if (type == MADT_LOCAL_APIC_OVERRIDE && elen >= 12) {
            kit_line("MADT-LAPIC-OVERRIDE");
            kit_hex("addr", kit_rd64(e + 4));
            kit_end();
        } else {
            kit_line("MADT-OTHER");
            kit_dec("type", type);
            kit_dec("length", elen);
            kit_end();
        }
        off += elen;
    }

    kit_line("CPUS");
    kit_dec("enabled", enabled);
    kit_dec("online_capable", online_capable);
    kit_dec("madt_entries", entries);
    kit_cstr("source", "madt");
    kit_end();
}

static void report_mcfg(const uint8_t *m)
{
    uint32_t len = kit_rd32(m + 4);
    for (uint32_t off = MCFG_ENTRIES; off + MCFG_ENTRY_LENGTH <= len; off += MCFG_ENTRY_LENGTH) {
        const uint8_t *e = m + off;
        /* The base addresses bus 0 of the segment, whatever its first bus (as Linux reads it). */
        if (kit_rd16(e + 8) == 0 && !kit_acpi.have_mcfg) {
            kit_acpi.have_mcfg = 1;
            kit_acpi.mcfg_base = kit_rd64(e);
            kit_acpi.mcfg_bus_start = e[10];
            kit_acpi.mcfg_bus_end = e[11];
        }
        kit_line("MCFG");
        kit_hex("base", kit_rd64(e));
        kit_dec("segment", kit_rd16(e + 8));
        kit_dec("bus_start", e[10]);
        kit_dec("bus_end", e[11]);
        kit_end();
    }
}

static void report_details(const uint8_t *t, uint64_t addr)
{
    if (memcmp(t, "APIC", 4) == 0)
        report_madt(t, addr);
    else if (memcmp(t, "FACP", 4) == 0)
        report_fadt(t, addr);
    else if (memcmp(t, "MCFG", 4) == 0)
        report_mcfg(t);
}

void kit_report_acpi(const struct kit_boot *boot)
{
    const char *source = "none";
    uint64_t rsdp_addr = find_rsdp(boot, &source);
    if (rsdp_addr == 0) {
        kit_error("rsdp-not-found");
        kit_end();
        return;
    }
    const uint8_t *r = kit_phys(rsdp_addr, RSDP_V2_LENGTH);
    uint8_t revision = r[15];
    uint64_t rsdt = kit_rd32(r + 16);
    uint64_t xsdt = 0;
    uint32_t length = RSDP_V1_LENGTH;
    const char *ext_checksum = "none";
    if (revision >= 2) {
        length = kit_rd32(r + 20);
        xsdt = kit_rd64(r + 24);
        if (length >= RSDP_V2_LENGTH && length <= 4096 && kit_phys(rsdp_addr, length) != NULL)
            ext_checksum = kit_sum8(r, length) == 0 ? "ok" : "bad";
        else
            ext_checksum = "bad";
    }
    kit_acpi.found = 1;

    kit_line("ACPI-RSDP");
    kit_hex("addr", rsdp_addr);
    kit_cstr("source", source);
    kit_str("oem", (const char *)r + 9, 6);
    kit_dec("revision", revision);
    kit_cstr("checksum", "ok");
    kit_cstr("ext_checksum", ext_checksum);
    kit_dec("length", length);
    kit_hex("rsdt", rsdt);
    kit_hex("xsdt", xsdt);
    kit_end();

    /* Walk the XSDT when there is one (ACPI 6.5, 5.2.8), else the RSDT. */
    const uint8_t *root = NULL;
    uint32_t entry_size = 8;
    const char *via = "xsdt";
    if (xsdt != 0)
        root = report_table(xsdt, "rsdp");
    if (rsdt != 0) {
        const uint8_t *r32 = report_table(rsdt, "rsdp");
        if (root == NULL) {
            root = r32;
            entry_size = 4;
            via = "rsdt";
        }
    }
    if (root == NULL) {
        kit_error("acpi-root-table-unreadable");
        kit_end();
        return;
    }
    uint32_t root_len = kit_rd32(root + 4);
    uint32_t count = 0;
    for (uint32_t off = SDT_HEADER_LENGTH; off + entry_size <= root_len; off += entry_size) {
        uint64_t addr = entry_size == 8 ? kit_rd64(root + off) : kit_rd32(root + off);
        const uint8_t *t = report_table(addr, via);
        count++;
        if (t != NULL)
            report_details(t, addr);
    }
    kit_line("ACPI-SUMMARY");
    kit_dec("tables", count);
    kit_cstr("root", via);
    kit_end();
}
