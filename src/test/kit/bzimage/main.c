/*
 * The bzImage guest: reads the zero page (struct boot_params, Linux
 * arch/x86/include/uapi/asm/bootparam.h and Documentation/arch/x86/zero-page.rst) and reports
 * what the loader put there, then runs the common reports.
 */
#include "../core/kit.h"
#include "../core/entry.h"

/* boot_params offsets */
#define BP_ACPI_RSDP_ADDR 0x070
#define BP_EXT_RAMDISK_IMAGE 0x0C0
#define BP_EXT_RAMDISK_SIZE 0x0C4
#define BP_EXT_CMD_LINE_PTR 0x0C8
#define BP_E820_ENTRIES 0x1E8
#define BP_SETUP_SECTS 0x1F1
#define BP_BOOT_FLAG 0x1FE
#define BP_HEADER 0x202
#define BP_VERSION 0x206
#define BP_TYPE_OF_LOADER 0x210
#define BP_LOADFLAGS 0x211
#define BP_CODE32_START 0x214
#define BP_RAMDISK_IMAGE 0x218
#define BP_RAMDISK_SIZE 0x21C
#define BP_HEAP_END_PTR 0x224
#define BP_EXT_LOADER_VER 0x226
#define BP_EXT_LOADER_TYPE 0x227
#define BP_CMD_LINE_PTR 0x228
#define BP_KERNEL_ALIGNMENT 0x230
#define BP_XLOADFLAGS 0x236
#define BP_CMDLINE_SIZE 0x238
#define BP_HARDWARE_SUBARCH 0x23C
#define BP_SETUP_DATA 0x250
#define BP_PREF_ADDRESS 0x258
#define BP_INIT_SIZE 0x260
#define BP_E820_TABLE 0x2D0
#define BP_SIZE 0x1000

#define E820_ENTRY_SIZE 20
#define E820_MAX_ENTRIES_ZEROPAGE 128

/* struct setup_data: next (8), type (4), len (4), data */
#define SETUP_DATA_HEADER 16
#define SETUP_DATA_MAX 32

#define CMDLINE_MAX 65536

extern char startup_32[];

static void report_zero_page(const struct kit_boot *boot, const uint8_t *bp, uint64_t addr)
{
    uint64_t ramdisk = kit_rd32(bp + BP_RAMDISK_IMAGE)
                       | (uint64_t)kit_rd32(bp + BP_EXT_RAMDISK_IMAGE) << 32;
    uint64_t ramdisk_size = kit_rd32(bp + BP_RAMDISK_SIZE)
                            | (uint64_t)kit_rd32(bp + BP_EXT_RAMDISK_SIZE) << 32;
    uint32_t e820_entries = bp[BP_E820_ENTRIES];

    kit_line("BOOTPARAMS");
    kit_hex("addr", addr);
    kit_hex("boot_flag", kit_rd16(bp + BP_BOOT_FLAG));
    kit_str("header", (const char *)bp + BP_HEADER, 4);
    kit_hex("version", kit_rd16(bp + BP_VERSION));
    kit_dec("setup_sects", bp[BP_SETUP_SECTS]);
    kit_hex("type_of_loader", bp[BP_TYPE_OF_LOADER]);
    kit_hex("ext_loader_ver", bp[BP_EXT_LOADER_VER]);
    kit_hex("ext_loader_type", bp[BP_EXT_LOADER_TYPE]);
    kit_hex("loadflags", bp[BP_LOADFLAGS]);
    kit_hex("xloadflags", kit_rd16(bp + BP_XLOADFLAGS));
    kit_hex("code32_start", kit_rd32(bp + BP_CODE32_START));
    kit_hex("heap_end_ptr", kit_rd16(bp + BP_HEAP_END_PTR));
    kit_hex("cmd_line_ptr", kit_rd32(bp + BP_CMD_LINE_PTR));
    kit_hex("ext_cmd_line_ptr", kit_rd32(bp + BP_EXT_CMD_LINE_PTR));
    kit_hex("cmdline_size", kit_rd32(bp + BP_CMDLINE_SIZE));
    kit_hex("ramdisk_image", ramdisk);
    kit_hex("ramdisk_size", ramdisk_size);
    kit_hex("acpi_rsdp_addr", kit_rd64(bp + BP_ACPI_RSDP_ADDR));
    kit_hex("hardware_subarch", kit_rd32(bp + BP_HARDWARE_SUBARCH));
    kit_hex("kernel_alignment", kit_rd32(bp + BP_KERNEL_ALIGNMENT));
    kit_hex("pref_address", kit_rd64(bp + BP_PREF_ADDRESS));
    kit_hex("init_size", kit_rd32(bp + BP_INIT_SIZE));
    kit_hex("setup_data", kit_rd64(bp + BP_SETUP_DATA));
    kit_dec("e820_entries", e820_entries);
    kit_end();

    kit_report_cmdline(boot);

    if (e820_entries > E820_MAX_ENTRIES_ZEROPAGE) {
        kit_error("e820-entries");
        kit_dec("count", e820_entries);
        kit_end();
        e820_entries = E820_MAX_ENTRIES_ZEROPAGE;
    }
    for (uint32_t i = 0; i < e820_entries; i++) {
        const uint8_t *e = bp + BP_E820_TABLE + i * E820_ENTRY_SIZE;
        kit_report_mem(i, kit_rd64(e), kit_rd64(e + 8), kit_rd32(e + 16), "e820");
    }
    kit_report_mem_summary();

    if (ramdisk_size != 0)
        kit_report_module(boot, 0, "initrd", ramdisk, ramdisk_size);

    /* The setup_data list: entries of any type, reported by type and length only. */
    uint64_t sd = kit_rd64(bp + BP_SETUP_DATA);
    for (uint32_t i = 0; sd != 0 && i < SETUP_DATA_MAX; i++) {
        const uint8_t *h = kit_phys(sd, SETUP_DATA_HEADER);
        kit_line("SETUP-DATA");
        kit_dec("i", i);
        kit_hex("addr", sd);
        if (h == NULL) {
            kit_bool("readable", 0);
            kit_end();
            break;
        }
        kit_hex("type", kit_rd32(h + 8));
        kit_hex("len", kit_rd32(h + 12));
        kit_end();
        sd = kit_rd64(h);
    }
}

void bz_main(uint64_t boot_params, struct kit_entry *entry)
{
    const uint8_t *bp = boot_params ? kit_phys(boot_params, BP_SIZE) : NULL;
    struct kit_boot boot = {
        .path = "bzimage",
        .entry_bits = (uint32_t)entry->bits,
        .load_addr = (uintptr_t)startup_32,
        .cmdline = "",
    };

    if (bp != NULL) {
        uint64_t cmd = kit_rd32(bp + BP_CMD_LINE_PTR) | (uint64_t)kit_rd32(bp + BP_EXT_CMD_LINE_PTR) << 32;
        if (cmd != 0) {
            uint32_t len = kit_strnlen_phys(cmd, CMDLINE_MAX);
            const char *text = kit_phys(cmd, len);
            if (text != NULL) {
                boot.cmdline_addr = cmd;
                boot.cmdline = text;
                boot.cmdline_len = len;
            }
        }
        boot.rsdp_addr = kit_rd64(bp + BP_ACPI_RSDP_ADDR);
    }

    kit_ready(&boot);
    kit_report_entry(entry);
    if (bp == NULL) {
        kit_error("boot-params-missing");
        kit_hex("rsi", boot_params);
        kit_end();
    } else {
        report_zero_page(&boot, bp, boot_params);
    }
    kit_finish(&boot);
}
