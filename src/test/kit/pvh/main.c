/*
 * The PVH guest: reads struct hvm_start_info (Xen public header arch-x86/hvm/start_info.h,
 * the layout Linux's PVH boot uses) and reports it, then runs the common reports.
 */
#include "../core/kit.h"
#include "../core/entry.h"

#define XEN_HVM_START_MAGIC_VALUE 0x336ec578u

/* struct hvm_start_info */
#define SI_MAGIC 0
#define SI_VERSION 4
#define SI_FLAGS 8
#define SI_NR_MODULES 12
#define SI_MODLIST_PADDR 16
#define SI_CMDLINE_PADDR 24
#define SI_RSDP_PADDR 32
#define SI_MEMMAP_PADDR 40          /* version 1 and later */
#define SI_MEMMAP_ENTRIES 48
#define SI_V0_SIZE 40
#define SI_V1_SIZE 56

/* struct hvm_modlist_entry and struct hvm_memmap_table_entry */
#define MOD_PADDR 0
#define MOD_SIZE 8
#define MOD_CMDLINE_PADDR 16
#define MOD_ENTRY_SIZE 32
#define MEMMAP_ADDR 0
#define MEMMAP_SIZE 8
#define MEMMAP_TYPE 16
#define MEMMAP_ENTRY_SIZE 24

#define CMDLINE_MAX 65536
#define MODULES_MAX 64
#define MEMMAP_MAX 1024

extern char pvh_start[];

static void report_start_info(const struct kit_boot *boot, const uint8_t *si, uint32_t addr)
{
    uint32_t version = kit_rd32(si + SI_VERSION);
    uint32_t nr_modules = kit_rd32(si + SI_NR_MODULES);
    uint64_t modlist = kit_rd64(si + SI_MODLIST_PADDR);
    uint64_t memmap = 0;
    uint32_t memmap_entries = 0;
    if (version >= 1 && kit_phys(addr, SI_V1_SIZE) != NULL) {
        memmap = kit_rd64(si + SI_MEMMAP_PADDR);
        memmap_entries = kit_rd32(si + SI_MEMMAP_ENTRIES);
    }

    kit_line("PVH");
    kit_hex("addr", addr);
    kit_hex("magic", kit_rd32(si + SI_MAGIC));
    kit_dec("version", version);
    kit_hex("flags", kit_rd32(si + SI_FLAGS));
    kit_dec("nr_modules", nr_modules);
    kit_hex("modlist_paddr", modlist);
    kit_hex("cmdline_paddr", kit_rd64(si + SI_CMDLINE_PADDR));
    kit_hex("rsdp_paddr", kit_rd64(si + SI_RSDP_PADDR));
    kit_hex("memmap_paddr", memmap);
    kit_dec("memmap_entries", memmap_entries);
    kit_end();

    kit_report_cmdline(boot);

    if (memmap_entries > MEMMAP_MAX)
        memmap_entries = MEMMAP_MAX;
    const uint8_t *map = memmap ? kit_phys(memmap, (uint64_t)memmap_entries * MEMMAP_ENTRY_SIZE)
                                : NULL;
    if (memmap_entries != 0 && map == NULL) {
        kit_error("memmap-unreachable");
        kit_hex("addr", memmap);
        kit_end();
    } else {
        for (uint32_t i = 0; i < memmap_entries; i++) {
            const uint8_t *e = map + i * MEMMAP_ENTRY_SIZE;
            kit_report_mem(i, kit_rd64(e + MEMMAP_ADDR), kit_rd64(e + MEMMAP_SIZE),
                           kit_rd32(e + MEMMAP_TYPE), "pvh");
        }
    }
    kit_report_mem_summary();

    if (nr_modules > MODULES_MAX)
        nr_modules = MODULES_MAX;
    const uint8_t *mods = modlist ? kit_phys(modlist, (uint64_t)nr_modules * MOD_ENTRY_SIZE)
                                  : NULL;
    if (nr_modules != 0 && mods == NULL) {
        kit_error("modlist-unreachable");
        kit_hex("addr", modlist);
        kit_end();
        return;
    }
    for (uint32_t i = 0; i < nr_modules; i++) {
        const uint8_t *m = mods + i * MOD_ENTRY_SIZE;
        kit_report_module(boot, i, "pvh", kit_rd64(m + MOD_PADDR), kit_rd64(m + MOD_SIZE));
        uint64_t cmd = kit_rd64(m + MOD_CMDLINE_PADDR);
        if (cmd != 0) {
            uint32_t len = kit_strnlen_phys(cmd, CMDLINE_MAX);
            kit_line("MODULE-CMDLINE");
            kit_dec("i", i);
            kit_hex("addr", cmd);
            kit_text(kit_phys(cmd, len), len);
            kit_end();
        }
    }
}

void pvh_main(struct kit_entry *entry)
{
    uint32_t si_addr = (uint32_t)entry->rbx;
    const uint8_t *si = si_addr ? kit_phys(si_addr, SI_V0_SIZE) : NULL;
    int magic_ok = si != NULL && kit_rd32(si + SI_MAGIC) == XEN_HVM_START_MAGIC_VALUE;
    struct kit_boot boot = {
        .path = "pvh",
        .entry_bits = 32,
        .load_addr = (uintptr_t)pvh_start,
        .cmdline = "",
    };

    kit_record_efer(entry);
    if (magic_ok) {
        uint64_t cmd = kit_rd64(si + SI_CMDLINE_PADDR);
        if (cmd != 0) {
            boot.cmdline_addr = cmd;
            boot.cmdline_len = kit_strnlen_phys(cmd, CMDLINE_MAX);
            boot.cmdline = kit_phys(cmd, boot.cmdline_len);
            if (boot.cmdline == NULL) {
                boot.cmdline = "";
                boot.cmdline_len = 0;
            }
        }
        boot.rsdp_addr = kit_rd64(si + SI_RSDP_PADDR);
    }

    kit_ready(&boot);
    kit_report_entry(entry);
    if (si == NULL) {
        kit_error("pvh-start-info-missing");
        kit_hex("ebx", si_addr);
        kit_end();
    } else if (!magic_ok) {
        kit_error("pvh-start-info-magic");
        kit_hex("addr", si_addr);
        kit_hex("magic", kit_rd32(si + SI_MAGIC));
        kit_end();
    } else {
        report_start_info(&boot, si, si_addr);
    }
    kit_finish(&boot);
}
