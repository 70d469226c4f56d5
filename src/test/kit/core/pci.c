/*
 * PCI bus 0: enumerated twice, through configuration mechanism #1 (I/O ports 0xCF8/0xCFC, PCI
 * Local Bus Specification 3.0, 3.2.2.3.2) and through the ECAM window the MCFG table describes
 * (PCI Express Base Specification, 7.2.2), with the 256 bytes of every function compared
 * between the two. Then each function's BARs are sized (PCI 3.0, 6.2.5.1) and its capability
 * list is walked; virtio vendor capabilities (virtio 1.2, 4.1.4) and MSI-X (PCI 3.0, 6.8.2)
 * are decoded.
 *
 * The driver code (virtio.c) reads and writes configuration space through kit_pci_read and
 * kit_pci_write: ECAM when there is one, else mechanism #1; kit.pci.cfg=cf8|ecam chooses.
 */
#include "kit.h"
#include "io.h"

struct kit_pci kit_pci;

#define PCI_CONFIG_ADDRESS 0xCF8
#define PCI_CONFIG_DATA 0xCFC
#define PCI_CONFIG_ENABLE 0x80000000u
#define PCI_CFG_SIZE 256
#define PCI_SLOTS 32
#define PCI_FUNCTIONS 8

/* Type 0/1 header offsets (PCI 3.0, 6.1). */
#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_REVISION_ID 0x08
#define PCI_HEADER_TYPE 0x0E
#define PCI_BASE_ADDRESS_0 0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2C
#define PCI_SUBSYSTEM_ID 0x2E
#define PCI_CAPABILITY_LIST 0x34
#define PCI_INTERRUPT_PIN 0x3D

#define PCI_COMMAND_IO 0x1
#define PCI_COMMAND_MEMORY 0x2
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_HEADER_TYPE_MULTI 0x80
#define PCI_BASE_ADDRESS_SPACE_IO 0x1
#define PCI_BASE_ADDRESS_MEM_TYPE_64 0x4
#define PCI_BASE_ADDRESS_MEM_PREFETCH 0x8

#define PCI_CAP_ID_PM 0x01
#define PCI_CAP_ID_MSI 0x05
#define PCI_CAP_ID_VNDR 0x09
#define PCI_CAP_ID_EXP 0x10
#define PCI_CAP_ID_MSIX 0x11
#define PCI_CAP_LIST_MAX 48

/* MSI-X capability (PCI 3.0, 6.8.2). */
#define PCI_MSIX_FLAGS 2
#define PCI_MSIX_TABLE 4
#define PCI_MSIX_PBA 8
#define PCI_MSIX_FLAGS_QSIZE 0x7FF
#define PCI_MSIX_FLAGS_MASKALL 0x4000
#define PCI_MSIX_FLAGS_ENABLE 0x8000
#define PCI_MSIX_BIR 0x7

/* struct virtio_pci_cap (virtio 1.2, 4.1.4). */
#define VIRTIO_PCI_VENDOR 0x1AF4
#define VIRTIO_CAP_CFG_TYPE 3
#define VIRTIO_CAP_BAR 4
#define VIRTIO_CAP_OFFSET 8
#define VIRTIO_CAP_LENGTH 12
#define VIRTIO_CAP_NOTIFY_MULTIPLIER 16
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2

/* Where the kit moves BARs that lie above 4 GiB, unless kit.pci.mmio32 says otherwise. */
#define MMIO32_DEFAULT_START 0xC0000000ull
#define MMIO32_DEFAULT_END 0xFEC00000ull

static uint32_t cf8_address(uint32_t bus, uint32_t dev, uint32_t fn, uint32_t off)
{
    return PCI_CONFIG_ENABLE | bus << 16 | dev << 11 | fn << 8 | (off & 0xFC);
}

static uint32_t cf8_read(uint32_t bus, uint32_t dev, uint32_t fn, uint32_t off, uint32_t size)
{
    outl(PCI_CONFIG_ADDRESS, cf8_address(bus, dev, fn, off));
    uint16_t port = (uint16_t)(PCI_CONFIG_DATA + (off & 3));
    return size == 1 ? inb(port) : size == 2 ? inw(port) : inl(port);
}

static void cf8_write(uint32_t bus, uint32_t dev, uint32_t fn, uint32_t off, uint32_t size,
                      uint32_t v)
{
    outl(PCI_CONFIG_ADDRESS, cf8_address(bus, dev, fn, off));
    uint16_t port = (uint16_t)(PCI_CONFIG_DATA + (off & 3));
    if (size == 1)
        outb(port, (uint8_t)v);
    else if (size == 2)
        outw(port, (uint16_t)v);
    else
        outl(port, v);
}

static uint64_t ecam_address(uint32_t bus, uint32_t dev, uint32_t fn, uint32_t off)
{
    return kit_pci.ecam_base + ((uint64_t)bus << 20 | dev << 15 | fn << 12 | off);
}

static uint32_t ecam_read(uint32_t bus, uint32_t dev, uint32_t fn, uint32_t off, uint32_t size)
{
    uint64_t a = ecam_address(bus, dev, fn, off);
    return size == 1 ? mmio_read8(a) : size == 2 ? mmio_read16(a) : mmio_read32(a);
}

static void ecam_write(uint32_t bus, uint32_t dev, uint32_t fn, uint32_t off, uint32_t size,
                       uint32_t v)
{
    uint64_t a = ecam_address(bus, dev, fn, off);
    if (size == 1)
        mmio_write8(a, (uint8_t)v);
    else if (size == 2)
        mmio_write16(a, (uint16_t)v);
    else
        mmio_write32(a, v);
}

static uint32_t raw_read(int ecam, uint32_t bus, uint32_t dev, uint32_t fn, uint32_t off,
                         uint32_t size)
{
    return ecam ? ecam_read(bus, dev, fn, off, size) : cf8_read(bus, dev, fn, off, size);
}

uint32_t kit_pci_read(const struct kit_pci_fn *f, uint32_t off, uint32_t size)
{
    return raw_read(kit_pci.use_ecam, f->bus, f->dev, f->fn, off, size);
}

void kit_pci_write(const struct kit_pci_fn *f, uint32_t off, uint32_t size, uint32_t value)
{
    if (kit_pci.use_ecam)
        ecam_write(f->bus, f->dev, f->fn, off, size, value);
    else
        cf8_write(f->bus, f->dev, f->fn, off, size, value);
}

/* The bdf field: "00:01.0". */
void kit_pci_bdf(const struct kit_pci_fn *f)
{
    char s[7];
    static const char hex[] = "0123456789abcdef";
    s[0] = hex[f->bus >> 4];
    s[1] = hex[f->bus & 0xF];
    s[2] = ':';
    s[3] = hex[f->dev >> 4];
    s[4] = hex[f->dev & 0xF];
    s[5] = '.';
    s[6] = (char)('0' + f->fn);
    kit_str("bdf", s, 7);
}

/*
 * Mechanism #1 is there when the address register keeps what was written to it (the check
 * firmware and Linux's pci_check_type1 make).
 */
static int cf8_present(void)
{
    outl(PCI_CONFIG_ADDRESS, PCI_CONFIG_ENABLE);
    int present = inl(PCI_CONFIG_ADDRESS) == PCI_CONFIG_ENABLE;
    outl(PCI_CONFIG_ADDRESS, 0);
    return present;
}

/* One bit per function of bus 0 (slot * 8 + function) that answers through a mechanism. */
struct scan {
    uint32_t found[PCI_SLOTS * PCI_FUNCTIONS / 32];
    uint32_t count;
};

static void scan_bus0(int ecam, struct scan *s)
{
    memset(s, 0, sizeof(*s));
    for (uint32_t dev = 0; dev < PCI_SLOTS; dev++) {
        if ((raw_read(ecam, 0, dev, 0, PCI_VENDOR_ID, 2) & 0xFFFF) == 0xFFFF)
            continue;
        uint32_t fns = raw_read(ecam, 0, dev, 0, PCI_HEADER_TYPE, 1) & PCI_HEADER_TYPE_MULTI
                       ? PCI_FUNCTIONS : 1;
        for (uint32_t fn = 0; fn < fns; fn++) {
            if ((raw_read(ecam, 0, dev, fn, PCI_VENDOR_ID, 2) & 0xFFFF) == 0xFFFF)
                continue;
            uint32_t i = dev * PCI_FUNCTIONS + fn;
            s->found[i / 32] |= 1u << (i % 32);
            s->count++;
        }
    }
}

static int scan_has(const struct scan *s, uint32_t i)
{
    return (s->found[i / 32] >> (i % 32)) & 1;
}

/* The first byte where the two mechanisms disagree, or -1 when all 256 are the same. */
static int compare_config(uint32_t dev, uint32_t fn)
{
    for (uint32_t off = 0; off < PCI_CFG_SIZE; off += 4) {
        uint32_t a = cf8_read(0, dev, fn, off, 4);
        uint32_t b = ecam_read(0, dev, fn, off, 4);
        if (a != b) {
            for (int k = 0; k < 4; k++) {
                if (((a >> (8 * k)) & 0xFF) != ((b >> (8 * k)) & 0xFF))
                    return (int)off + k;
            }
        }
    }
    return -1;
}

/*
 * Sizes the BARs with decoding off, so the all-ones probe never decodes anywhere, and puts
 * back what was programmed.
 */
static void size_bars(struct kit_pci_fn *f)
{
    uint32_t nbars = f->header == 0 ? 6 : f->header == 1 ? 2 : 0;
    if (nbars == 0)
        return;
    uint32_t cmd = kit_pci_read(f, PCI_COMMAND, 2);
    kit_pci_write(f, PCI_COMMAND, 2, cmd & ~(uint32_t)(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
    for (uint32_t i = 0; i < nbars; i++) {
        uint32_t off = PCI_BASE_ADDRESS_0 + 4 * i;
        uint32_t orig = kit_pci_read(f, off, 4);
        kit_pci_write(f, off, 4, 0xFFFFFFFFu);
        uint32_t probe = kit_pci_read(f, off, 4);
        kit_pci_write(f, off, 4, orig);
        struct kit_pci_bar *b = &f->bar[i];
        if (orig & PCI_BASE_ADDRESS_SPACE_IO) {
            uint32_t mask = probe & ~3u & 0xFFFF;
            b->io = 1;
            b->addr = orig & ~3u;
            b->size = mask ? (~mask & 0xFFFF) + 1 : 0;
            continue;
        }
        b->prefetch = (orig & PCI_BASE_ADDRESS_MEM_PREFETCH) != 0;
        uint64_t mask = probe & ~0xFu;
        b->addr = orig & ~0xFu;
        if ((orig & 0x6) == PCI_BASE_ADDRESS_MEM_TYPE_64 && i + 1 < nbars) {
            uint32_t orig_hi = kit_pci_read(f, off + 4, 4);
            kit_pci_write(f, off + 4, 4, 0xFFFFFFFFu);
            uint32_t probe_hi = kit_pci_read(f, off + 4, 4);
            kit_pci_write(f, off + 4, 4, orig_hi);
            b->is64 = 1;
            b->addr |= (uint64_t)orig_hi << 32;
            mask |= (uint64_t)probe_hi << 32;
            b->size = mask ? ~mask + 1 : 0;
            i++;
        } else {
            b->size = mask ? (~mask & 0xFFFFFFFFu) + 1 : 0;
        }
    }
    kit_pci_write(f, PCI_COMMAND, 2, cmd);
}

static const char *cap_name(uint8_t id)
{
    switch (id) {
    case PCI_CAP_ID_PM:
        return "pm";
    case PCI_CAP_ID_MSI:
        return "msi";
    case PCI_CAP_ID_VNDR:
        return "vendor";
    case PCI_CAP_ID_EXP:
        return "express";
    case PCI_CAP_ID_MSIX:
        return "msix";
    default:
        return "other";
    }
}

static const char *virtio_cfg_name(uint8_t type)
{
    switch (type) {
    case 1:
        return "common";
    case 2:
        return "notify";
    case 3:
        return "isr";
    case 4:
        return "device";
    case 5:
        return "pci";
    case 8:
        return "shared_memory";
    default:
        return "other";
    }
}

/* The next capability with `id` after offset `after` (0: from the start); 0 when none. */
uint8_t kit_pci_find_cap(const struct kit_pci_fn *f, uint8_t id, uint8_t after)
{
    uint8_t off = after ? (uint8_t)(kit_pci_read(f, after + 1u, 1) & 0xFC) : f->cap_ptr;
    for (int n = 0; off >= 0x40 && n < PCI_CAP_LIST_MAX; n++) {
        if (kit_pci_read(f, off, 1) == id)
            return off;
        off = (uint8_t)(kit_pci_read(f, off + 1u, 1) & 0xFC);
    }
    return 0;
}

static void report_caps(const struct kit_pci_fn *f)
{
    uint8_t off = f->cap_ptr;
    for (int n = 0; off != 0; n++) {
        if (off < 0x40 || n >= PCI_CAP_LIST_MAX) {
            kit_error("pci-cap-list");
            kit_pci_bdf(f);
            kit_hex("offset", off);
            kit_end();
            return;
        }
        uint8_t id = (uint8_t)kit_pci_read(f, off, 1);
        uint8_t next = (uint8_t)(kit_pci_read(f, off + 1u, 1) & 0xFC);
        kit_line("PCI-CAP");
        kit_pci_bdf(f);
        kit_hex("offset", off);
        kit_hex("id", id);
        kit_cstr("name", cap_name(id));
        if (id == PCI_CAP_ID_MSIX) {
            uint32_t flags = kit_pci_read(f, off + PCI_MSIX_FLAGS, 2);
            uint32_t table = kit_pci_read(f, off + PCI_MSIX_TABLE, 4);
            uint32_t pba = kit_pci_read(f, off + PCI_MSIX_PBA, 4);
            kit_dec("table_size", (flags & PCI_MSIX_FLAGS_QSIZE) + 1);
            kit_dec("table_bar", table & PCI_MSIX_BIR);
            kit_hex("table_offset", table & ~(uint32_t)PCI_MSIX_BIR);
            kit_dec("pba_bar", pba & PCI_MSIX_BIR);
            kit_hex("pba_offset", pba & ~(uint32_t)PCI_MSIX_BIR);
            kit_bool("enabled", (flags & PCI_MSIX_FLAGS_ENABLE) != 0);
            kit_bool("masked", (flags & PCI_MSIX_FLAGS_MASKALL) != 0);
        }
        kit_end();
        if (id == PCI_CAP_ID_VNDR && f->vendor == VIRTIO_PCI_VENDOR) {
            uint8_t type = (uint8_t)kit_pci_read(f, off + VIRTIO_CAP_CFG_TYPE, 1);
            kit_line("VIRTIO-CAP");
            kit_pci_bdf(f);
            kit_hex("offset", off);
            kit_dec("cfg_type", type);
            kit_cstr("name", virtio_cfg_name(type));
            kit_dec("bar", kit_pci_read(f, off + VIRTIO_CAP_BAR, 1));
            kit_hex("bar_offset", kit_pci_read(f, off + VIRTIO_CAP_OFFSET, 4));
            kit_hex("length", kit_pci_read(f, off + VIRTIO_CAP_LENGTH, 4));
            if (type == VIRTIO_PCI_CAP_NOTIFY_CFG)
                kit_dec("multiplier", kit_pci_read(f, off + VIRTIO_CAP_NOTIFY_MULTIPLIER, 4));
            kit_end();
        }
        off = next;
    }
}

static void report_bars(const struct kit_pci_fn *f)
{
    for (uint32_t i = 0; i < 6; i++) {
        const struct kit_pci_bar *b = &f->bar[i];
        if (b->size == 0)
            continue;
        kit_line("PCI-BAR");
        kit_pci_bdf(f);
        kit_dec("bar", i);
        kit_cstr("type", b->io ? "io" : b->is64 ? "mem64" : "mem32");
        kit_bool("prefetch", b->prefetch);
        kit_hex("addr", b->addr);
        kit_hex("size", b->size);
        kit_end();
    }
}

/* Remembers the function; fills in the header fields through the driver's mechanism. */
static struct kit_pci_fn *add_function(uint32_t dev, uint32_t fn)
{
    if (kit_pci.count >= KIT_PCI_MAX_FUNCTIONS)
        return NULL;
    struct kit_pci_fn *f = &kit_pci.fn[kit_pci.count++];
    memset(f, 0, sizeof(*f));
    f->dev = (uint8_t)dev;
    f->fn = (uint8_t)fn;
    f->vendor = (uint16_t)kit_pci_read(f, PCI_VENDOR_ID, 2);
    f->device = (uint16_t)kit_pci_read(f, PCI_DEVICE_ID, 2);
    uint32_t rev_class = kit_pci_read(f, PCI_REVISION_ID, 4);
    f->revision = (uint8_t)rev_class;
    f->class_code = rev_class >> 8;
    f->header = (uint8_t)(kit_pci_read(f, PCI_HEADER_TYPE, 1) & 0x7F);
    if (f->header == 0) {
        f->subsys_vendor = (uint16_t)kit_pci_read(f, PCI_SUBSYSTEM_VENDOR_ID, 2);
        f->subsys = (uint16_t)kit_pci_read(f, PCI_SUBSYSTEM_ID, 2);
    }
    if (kit_pci_read(f, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST)
        f->cap_ptr = (uint8_t)(kit_pci_read(f, PCI_CAPABILITY_LIST, 1) & 0xFC);
    return f;
}

/* The lowest address at or above `start` where nothing the kit has seen decodes. */
static void place_mmio32_window(const struct kit_boot *boot)
{
    uint64_t start = MMIO32_DEFAULT_START;
    kit_param_hex(boot, "kit.pci.mmio32", &start);
    uint64_t end = MMIO32_DEFAULT_END;
    if (kit_pci.ecam && kit_pci.ecam_base > start && kit_pci.ecam_base < end)
        end = kit_pci.ecam_base;
    for (uint32_t k = 0; k < kit_pci.count; k++) {
        for (uint32_t i = 0; i < 6; i++) {
            const struct kit_pci_bar *b = &kit_pci.fn[k].bar[i];
            if (b->io || b->size == 0 || b->addr == 0)
                continue;
            if (b->addr + b->size > start && b->addr < end)
                start = b->addr + b->size;
        }
    }
    kit_pci.mmio32_next = start;
    kit_pci.mmio32_limit = end;
}

/*
 * Makes a memory BAR decode below 4 GiB, where the kit can reach it: a BAR that is unassigned
 * or lies above 4 GiB (where Nimbus, like Cloud Hypervisor, puts 64-bit BARs) moves to the
 * next free, naturally aligned place of the 32-bit window, with decoding off while both
 * halves change. Reports the move; returns 1 when the BAR is reachable.
 */
int kit_pci_bar_reachable(struct kit_pci_fn *f, uint32_t bar)
{
    if (bar >= 6)
        return 0;
    struct kit_pci_bar *b = &f->bar[bar];
    if (b->io || b->size == 0)
        return 0;
    if (b->addr != 0 && kit_phys(b->addr, b->size) != NULL)
        return 1;
    uint64_t size = b->size;
    uint64_t base = (kit_pci.mmio32_next + size - 1) & ~(size - 1);
    if (base + size > kit_pci.mmio32_limit || (!b->is64 && b->addr != 0)) {
        kit_error("pci-bar-unreachable");
        kit_pci_bdf(f);
        kit_dec("bar", bar);
        kit_hex("addr", b->addr);
        kit_hex("size", size);
        kit_end();
        return 0;
    }
    uint32_t off = PCI_BASE_ADDRESS_0 + 4 * bar;
    uint32_t cmd = kit_pci_read(f, PCI_COMMAND, 2);
    kit_pci_write(f, PCI_COMMAND, 2, cmd & ~(uint32_t)PCI_COMMAND_MEMORY);
    kit_pci_write(f, off, 4, (uint32_t)base);
    if (b->is64)
        kit_pci_write(f, off + 4, 4, 0);
    uint64_t now = kit_pci_read(f, off, 4) & ~0xFu;
    if (b->is64)
        now |= (uint64_t)kit_pci_read(f, off + 4, 4) << 32;
    kit_pci_write(f, PCI_COMMAND, 2, cmd);

    kit_line("PCI-BAR-MOVE");
    kit_pci_bdf(f);
    kit_dec("bar", bar);
    kit_hex("from", b->addr);
    kit_hex("to", now);
    kit_hex("size", size);
    kit_end();
    if (now != base) {
        kit_error("pci-bar-move");
        kit_pci_bdf(f);
        kit_dec("bar", bar);
        kit_hex("wanted", base);
        kit_hex("read", now);
        kit_end();
        return 0;
    }
    b->addr = base;
    kit_pci.mmio32_next = base + size;
    return 1;
}

void kit_report_pci(const struct kit_boot *boot)
{
    struct scan by_cf8, by_ecam;
    uint32_t mismatches = 0;

    kit_pci.cf8 = cf8_present();
    if (kit_acpi.have_mcfg) {
        uint64_t bus0_end = kit_acpi.mcfg_base + (1u << 20);
        kit_pci.ecam = kit_acpi.mcfg_bus_start == 0 && bus0_end > kit_acpi.mcfg_base
                       && kit_phys(kit_acpi.mcfg_base, 1u << 20) != NULL;
        kit_pci.ecam_base = kit_acpi.mcfg_base;
        if (!kit_pci.ecam) {
            kit_error("pci-ecam-unreachable");
            kit_hex("base", kit_acpi.mcfg_base);
            kit_dec("bus_start", kit_acpi.mcfg_bus_start);
            kit_end();
        }
    }
    kit_pci.use_ecam = kit_pci.ecam;
    if (kit_param_is(boot, "kit.pci.cfg", "cf8") && kit_pci.cf8)
        kit_pci.use_ecam = 0;

    memset(&by_cf8, 0, sizeof(by_cf8));
    memset(&by_ecam, 0, sizeof(by_ecam));
    if (kit_pci.cf8)
        scan_bus0(0, &by_cf8);
    if (kit_pci.ecam)
        scan_bus0(1, &by_ecam);

    for (uint32_t i = 0; i < PCI_SLOTS * PCI_FUNCTIONS; i++) {
        int in_cf8 = scan_has(&by_cf8, i), in_ecam = scan_has(&by_ecam, i);
        if (!in_cf8 && !in_ecam)
            continue;
        uint32_t dev = i / PCI_FUNCTIONS, fn = i % PCI_FUNCTIONS;
        int differs = in_cf8 && in_ecam ? compare_config(dev, fn) : -1;
        int use_ecam = kit_pci.use_ecam;
        /* A function only one mechanism sees is read through that one. */
        kit_pci.use_ecam = in_ecam && (use_ecam || !in_cf8);
        struct kit_pci_fn *f = add_function(dev, fn);
        if (f == NULL) {
            kit_pci.use_ecam = use_ecam;
            kit_error("pci-too-many-functions");
            kit_end();
            break;
        }
        size_bars(f);
        uint32_t multi = kit_pci_read(f, PCI_HEADER_TYPE, 1) & PCI_HEADER_TYPE_MULTI;

        kit_line("PCI");
        kit_pci_bdf(f);
        kit_hex("vendor", f->vendor);
        kit_hex("device", f->device);
        kit_hex("class", f->class_code);
        kit_hex("revision", f->revision);
        kit_hex("header", f->header);
        kit_bool("multifunction", multi != 0);
        kit_hex("subsys_vendor", f->subsys_vendor);
        kit_hex("subsys", f->subsys);
        kit_dec("irq_pin", kit_pci_read(f, PCI_INTERRUPT_PIN, 1));
        kit_bool("cf8", in_cf8);
        kit_bool("ecam", in_ecam);
        if (in_cf8 && in_ecam)
            kit_bool("match", differs < 0);
        kit_end();
        if (in_cf8 != in_ecam && kit_pci.cf8 && kit_pci.ecam) {
            mismatches++;
            kit_error("pci-seen-by-one-mechanism");
            kit_pci_bdf(f);
            kit_bool("cf8", in_cf8);
            kit_end();
        } else if (differs >= 0) {
            mismatches++;
            kit_error("pci-config-mismatch");
            kit_pci_bdf(f);
            kit_hex("offset", (uint32_t)differs);
            kit_end();
        }
        report_bars(f);
        report_caps(f);
        kit_pci.use_ecam = use_ecam;
    }
    place_mmio32_window(boot);

    kit_line("PCI-SUMMARY");
    kit_dec("functions", kit_pci.count);
    kit_bool("cf8", kit_pci.cf8);
    kit_dec("cf8_functions", by_cf8.count);
    kit_bool("ecam", kit_pci.ecam);
    kit_hex("ecam_base", kit_pci.ecam ? kit_pci.ecam_base : 0);
    kit_dec("ecam_functions", by_ecam.count);
    kit_dec("mismatches", mismatches);
    kit_cstr("config", kit_pci.use_ecam ? "ecam" : kit_pci.cf8 ? "cf8" : "none");
    kit_hex("mmio32_next", kit_pci.mmio32_next);
    kit_end();
}
