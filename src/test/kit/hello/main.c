/*
 * The hello guest: the smallest useful PVH payload, for boot benchmarks. It prints one line,
 * KIT-HELLO, then finds the power-off register in the ACPI tables without printing them and
 * powers off (or does the kit.action given on the command line: halt and tick keep it alive).
 * It shares pvh/head.S and the kit's core with the PVH guest; only errors print after the
 * hello line.
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

static const char DEFAULT_ACTION[] = "kit.action=poweroff";

extern char pvh_start[];

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
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
    uint32_t magic;
    if (si != NULL)
        memcpy(&magic, si + SI_MAGIC, 4);
    if (si != NULL && magic == XEN_HVM_START_MAGIC_VALUE) {
        uint64_t cmd = rd64(si + SI_CMDLINE_PADDR);
        uint32_t len = cmd != 0 ? kit_strnlen_phys(cmd, CMDLINE_MAX) : 0;
        const char *text = len != 0 ? kit_phys(cmd, len) : NULL;
        if (text != NULL) {
            boot.cmdline_addr = cmd;
            boot.cmdline = text;
            boot.cmdline_len = len;
        }
        boot.rsdp_addr = rd64(si + SI_RSDP_PADDR);
    }

    kit_line("HELLO");
    kit_cstr("boot", boot.path);
    kit_end();

    /* Without a kit.action the hello guest powers off, unlike the reporting guests. */
    const char *value;
    uint32_t value_len;
    if (!kit_param(&boot, "kit.action", &value, &value_len)) {
        boot.cmdline = DEFAULT_ACTION;
        boot.cmdline_len = sizeof DEFAULT_ACTION - 1;
    }
    kit_quiet = 1;
    kit_report_acpi(&boot);
    kit_act(&boot);
}
