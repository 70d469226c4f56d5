/*
 * Reports common to both boot paths: the ready line, the command line, the memory map and the
 * boot modules, then the CPU, RTC and ACPI reports, the done line and the chosen action.
 */
#include "kit.h"
#include "io.h"
#include "entry.h"

/* POST code port: Cloud Hypervisor logs each byte written here with a timestamp. */
#define DEBUG_PORT 0x80

/* E820 / PVH memory map type of usable RAM (ACPI 6.5, 15.1 "AddressRangeMemory"). */
#define E820_TYPE_RAM 1

static uint32_t mem_entries;
static uint64_t mem_ram_bytes;
static uint64_t mem_ram_top;

void kit_ready(const struct kit_boot *boot)
{
    uint64_t value;
    kit_line("READY");
    kit_dec("kit", KIT_VERSION);
    kit_cstr("boot", boot->path);
    kit_dec("entry", boot->entry_bits);
    kit_hex("load", boot->load_addr);
    kit_end();

    if (kit_param_hex(boot, "kit.debugport", &value)) {
        kit_line("DEBUGPORT");
        kit_hex("port", DEBUG_PORT);
        kit_hex("value", value & 0xFF);
        kit_end();
        outb(DEBUG_PORT, (uint8_t)value);
    }

    /* A byte-wide port console (--debug-console): the text, then a newline. */
    const char *text;
    uint32_t len;
    if (kit_param_hex(boot, "kit.portcon", &value)
            && kit_param(boot, "kit.portcon.text", &text, &len)) {
        uint16_t port = (uint16_t)value;
        kit_line("PORTCON");
        kit_hex("port", port);
        kit_dec("len", len);
        kit_end();
        for (uint32_t i = 0; i < len; i++)
            outb(port, (uint8_t)text[i]);
        outb(port, '\n');
    }
}

void kit_report_cmdline(const struct kit_boot *boot)
{
    kit_line("CMDLINE");
    kit_hex("addr", boot->cmdline_addr);
    kit_dec("len", boot->cmdline_len);
    kit_text(boot->cmdline, boot->cmdline_len);
    kit_end();
}

void kit_report_mem(uint32_t index, uint64_t addr, uint64_t size, uint32_t type,
                    const char *source)
{
    kit_line("MEM");
    kit_dec("i", index);
    kit_hex("addr", addr);
    kit_hex("size", size);
    kit_dec("type", type);
    kit_cstr("source", source);
    kit_end();

    mem_entries++;
    if (type == E820_TYPE_RAM) {
        mem_ram_bytes += size;
        if (addr + size > mem_ram_top)
            mem_ram_top = addr + size;
    }
}

void kit_report_mem_summary(void)
{
    uint32_t rem;
    kit_line("MEM-SUMMARY");
    kit_dec("entries", mem_entries);
    kit_hex("ram_bytes", mem_ram_bytes);
    kit_dec("ram_kib", kit_udiv64(mem_ram_bytes, 1024, &rem));
    kit_hex("ram_top", mem_ram_top);
    kit_end();
}

/* One boot module (PVH module or Linux initrd) with a CRC-32 of its bytes. */
void kit_report_module(const struct kit_boot *boot, uint32_t index, const char *source,
                       uint64_t addr, uint64_t size)
{
    const void *bytes = kit_phys(addr, size);
    kit_line("MODULE");
    kit_dec("i", index);
    kit_cstr("source", source);
    kit_hex("addr", addr);
    kit_hex("size", size);
    if (kit_param_is(boot, "kit.crc", "off")) {
        kit_cstr("crc32", "skipped");
    } else if (bytes == NULL) {
        kit_cstr("crc32", "unreachable");
    } else {
        kit_hex("crc32", kit_crc32(bytes, size));
    }
    kit_end();
}

void kit_finish(const struct kit_boot *boot)
{
    kit_report_cpu();
    kit_report_rtc();
    kit_report_acpi(boot);
    if (!kit_param_is(boot, "kit.pci", "off")) {
        kit_report_pci(boot);
        kit_virtio_run(boot);
    }

    kit_line("DONE");
    kit_dec("lines", kit_lines() + 1);
    kit_dec("errors", kit_errors());
    kit_end();

    kit_act(boot);
}

#define CPUID_80000001_EDX_LM (1u << 29)
#define MSR_EFER 0xC0000080u

/* EFER exists on CPUs with long mode; reading it elsewhere would fault. */
void kit_record_efer(struct kit_entry *e)
{
    uint32_t r[4];
    cpuid(0x80000000u, 0, r);
    if (r[0] < 0x80000001u || r[0] >= 0x8000FFFFu)
        return;
    cpuid(0x80000001u, 0, r);
    if (r[3] & CPUID_80000001_EDX_LM) {
        e->efer = rdmsr(MSR_EFER);
        e->have_efer = 1;
    }
}

static void put_reg(const char *name32, const char *name64, uint64_t v, uint64_t bits)
{
    if (bits == 64)
        kit_hex(name64, v);
    else
        kit_hex(name32, v & 0xFFFFFFFFu);
}

static uint64_t table_base(const uint8_t *t, uint64_t bits)
{
    uint64_t base = 0;
    memcpy(&base, t + 2, bits == 64 ? 8 : 4);
    return base;
}

/* KIT-ENTRY: the registers the loader handed over, with e-names for 32-bit entry. */
void kit_report_entry(const struct kit_entry *e)
{
    uint64_t bits = e->bits == 64 ? 64 : 32;
    kit_line("ENTRY");
    kit_dec("bits", bits);
    if (!e->partial)
        put_reg("eax", "rax", e->rax, bits);
    put_reg("ebx", "rbx", e->rbx, bits);
    if (!e->partial) {
        put_reg("ecx", "rcx", e->rcx, bits);
        put_reg("edx", "rdx", e->rdx, bits);
    }
    put_reg("esi", "rsi", e->rsi, bits);
    put_reg("edi", "rdi", e->rdi, bits);
    put_reg("ebp", "rbp", e->rbp, bits);
    put_reg("esp", "rsp", e->rsp, bits);
    put_reg("eflags", "rflags", e->rflags, bits);
    kit_hex("cr0", e->cr0);
    kit_hex("cr3", e->cr3);
    kit_hex("cr4", e->cr4);
    if (e->have_efer)
        kit_hex("efer", e->efer);
    kit_hex("cs", e->cs);
    kit_hex("ds", e->ds);
    kit_hex("es", e->es);
    kit_hex("ss", e->ss);
    kit_hex("fs", e->fs);
    kit_hex("gs", e->gs);
    kit_hex("gdt_base", table_base(e->gdtr, bits));
    kit_hex("gdt_limit", (uint32_t)e->gdtr[0] | (uint32_t)e->gdtr[1] << 8);
    kit_hex("idt_base", table_base(e->idtr, bits));
    kit_hex("idt_limit", (uint32_t)e->idtr[0] | (uint32_t)e->idtr[1] << 8);
    kit_end();
}
