/*
 * The virtio-pci modern transport (virtio 1.2, 4.1) and split virtqueues (2.7), driven the way
 * the spec's driver requirements read: find the device, map the configuration structures its
 * vendor capabilities point at, set up MSI-X, then the initialization sequence of 3.1.1:
 * reset, ACKNOWLEDGE, DRIVER, feature negotiation with the FEATURES_OK check, queue setup,
 * DRIVER_OK. Everything the kit learns is reported as KIT-VIRTIO* lines.
 */
#include "virtio.h"
#include "io.h"

#define VIRTIO_PCI_VENDOR 0x1AF4
#define VIRTIO_PCI_DEVICE_MODERN 0x1040     /* + device type (4.1.2.1) */
#define VIRTIO_PCI_DEVICE_LEGACY_FIRST 0x1000
#define VIRTIO_PCI_DEVICE_LEGACY_LAST 0x103F

/* struct virtio_pci_cap and its cfg_type values (4.1.4). */
#define PCI_CAP_ID_VNDR 0x09
#define PCI_CAP_ID_MSIX 0x11
#define VIRTIO_CAP_CFG_TYPE 3
#define VIRTIO_CAP_BAR 4
#define VIRTIO_CAP_OFFSET 8
#define VIRTIO_CAP_LENGTH 12
#define VIRTIO_CAP_NOTIFY_MULTIPLIER 16
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG 3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4

/* struct virtio_pci_common_cfg (4.1.4.3). */
#define VIRTIO_PCI_COMMON_DFSELECT 0
#define VIRTIO_PCI_COMMON_DF 4
#define VIRTIO_PCI_COMMON_GFSELECT 8
#define VIRTIO_PCI_COMMON_GF 12
#define VIRTIO_PCI_COMMON_MSIX 16
#define VIRTIO_PCI_COMMON_NUMQ 18
#define VIRTIO_PCI_COMMON_STATUS 20
#define VIRTIO_PCI_COMMON_CFGGENERATION 21
#define VIRTIO_PCI_COMMON_Q_SELECT 22
#define VIRTIO_PCI_COMMON_Q_SIZE 24
#define VIRTIO_PCI_COMMON_Q_MSIX 26
#define VIRTIO_PCI_COMMON_Q_ENABLE 28
#define VIRTIO_PCI_COMMON_Q_NOFF 30
#define VIRTIO_PCI_COMMON_Q_DESCLO 32
#define VIRTIO_PCI_COMMON_Q_DESCHI 36
#define VIRTIO_PCI_COMMON_Q_AVAILLO 40
#define VIRTIO_PCI_COMMON_Q_AVAILHI 44
#define VIRTIO_PCI_COMMON_Q_USEDLO 48
#define VIRTIO_PCI_COMMON_Q_USEDHI 52
#define VIRTIO_MSI_NO_VECTOR 0xFFFF

/* Device status bits (2.1). */
#define VIRTIO_CONFIG_S_ACKNOWLEDGE 1
#define VIRTIO_CONFIG_S_DRIVER 2
#define VIRTIO_CONFIG_S_DRIVER_OK 4
#define VIRTIO_CONFIG_S_FEATURES_OK 8
#define VIRTIO_CONFIG_S_NEEDS_RESET 0x40
#define VIRTIO_CONFIG_S_FAILED 0x80

/* PCI command register and the MSI-X capability (PCI 3.0, 6.2.2 and 6.8.2). */
#define PCI_COMMAND 0x04
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4
#define PCI_MSIX_FLAGS 2
#define PCI_MSIX_TABLE 4
#define PCI_MSIX_FLAGS_QSIZE 0x7FF
#define PCI_MSIX_FLAGS_MASKALL 0x4000
#define PCI_MSIX_FLAGS_ENABLE 0x8000
#define PCI_MSIX_BIR 0x7
#define PCI_MSIX_ENTRY_SIZE 16
#define PCI_MSIX_ENTRY_LOWER_ADDR 0
#define PCI_MSIX_ENTRY_UPPER_ADDR 4
#define PCI_MSIX_ENTRY_DATA 8
#define PCI_MSIX_ENTRY_VECTOR_CTRL 12
#define PCI_MSIX_ENTRY_CTRL_MASKBIT 1

/* MSI address: the local APIC window, destination ID in bits 19:12 (SDM Vol. 3, 11.11.1). */
#define MSI_ADDR_BASE 0xFEE00000u
#define MSI_ADDR_DEST_SHIFT 12

#define RESET_TIMEOUT_MS 1000
#define DEFAULT_TIMEOUT_MS 10000

/*
 * Memory the devices read and write: queues and buffers, below 4 GiB in both guests. All four
 * devices together take about 80 KiB.
 */
#define DMA_POOL_SIZE (128u << 10)
static uint8_t dma_pool[DMA_POOL_SIZE] __attribute__((aligned(4096)));
static uint32_t dma_used;

/* Zeroed memory from the pool; the kit stops with an error when the pool is spent. */
void *kit_dma_alloc(uint32_t size, uint32_t align)
{
    uint32_t start = (dma_used + align - 1) & ~(align - 1);
    if (start > DMA_POOL_SIZE || size > DMA_POOL_SIZE - start) {
        kit_error("kit-out-of-memory");
        kit_dec("size", size);
        kit_dec("used", dma_used);
        kit_end();
        kit_halt();
    }
    dma_used = start + size;
    memset(dma_pool + start, 0, size);
    return dma_pool + start;
}

void kit_pattern(uint32_t seed, uint8_t *out, uint32_t len)
{
    uint32_t x = seed ? seed : 0x9E3779B9u;
    for (uint32_t i = 0; i < len; i++) {
        if (i % 4 == 0) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
        }
        out[i] = (uint8_t)(x >> (8 * (i % 4)));
    }
}

static const char *type_name(uint32_t type)
{
    switch (type) {
    case VIRTIO_ID_NET:
        return "net";
    case VIRTIO_ID_BLOCK:
        return "blk";
    case VIRTIO_ID_CONSOLE:
        return "console";
    case VIRTIO_ID_RNG:
        return "rng";
    default:
        return "other";
    }
}

/* KIT-ERROR what=<what> bdf=... type=...; the caller may add fields before kit_end(). */
void kit_virtio_error(struct kit_vdev *d, const char *what)
{
    kit_error(what);
    if (d->fn != NULL)
        kit_pci_bdf(d->fn);
    kit_cstr("type", type_name(d->type));
}

/* The function of the first virtio device of `type`: modern ID, or transitional by subsystem. */
static struct kit_pci_fn *find_device(uint32_t type)
{
    for (uint32_t i = 0; i < kit_pci.count; i++) {
        struct kit_pci_fn *f = &kit_pci.fn[i];
        if (f->vendor != VIRTIO_PCI_VENDOR)
            continue;
        if (f->device == VIRTIO_PCI_DEVICE_MODERN + type)
            return f;
        if (f->device >= VIRTIO_PCI_DEVICE_LEGACY_FIRST
            && f->device <= VIRTIO_PCI_DEVICE_LEGACY_LAST && f->subsys == type)
            return f;
    }
    return NULL;
}

static uint8_t common_read8(struct kit_vdev *d, uint32_t off)
{
    return mmio_read8(d->common + off);
}

static uint16_t common_read16(struct kit_vdev *d, uint32_t off)
{
    return mmio_read16(d->common + off);
}

static uint32_t common_read32(struct kit_vdev *d, uint32_t off)
{
    return mmio_read32(d->common + off);
}

static void common_write8(struct kit_vdev *d, uint32_t off, uint8_t v)
{
    mmio_write8(d->common + off, v);
}

static void common_write16(struct kit_vdev *d, uint32_t off, uint16_t v)
{
    mmio_write16(d->common + off, v);
}

static void common_write32(struct kit_vdev *d, uint32_t off, uint32_t v)
{
    mmio_write32(d->common + off, v);
}

/* A 64-bit field as two 32-bit writes, low half first (4.1.3.1). */
static void common_write64(struct kit_vdev *d, uint32_t off, uint64_t v)
{
    common_write32(d, off, (uint32_t)v);
    common_write32(d, off + 4, (uint32_t)(v >> 32));
}

uint8_t kit_vcfg_read8(struct kit_vdev *d, uint32_t off)
{
    return mmio_read8(d->device + off);
}

uint16_t kit_vcfg_read16(struct kit_vdev *d, uint32_t off)
{
    return mmio_read16(d->device + off);
}

uint32_t kit_vcfg_read32(struct kit_vdev *d, uint32_t off)
{
    return mmio_read32(d->device + off);
}

/* A 64-bit configuration field, read again until config_generation holds still (4.1.4.3.1). */
uint64_t kit_vcfg_read64(struct kit_vdev *d, uint32_t off)
{
    for (int tries = 0;; tries++) {
        uint8_t gen = common_read8(d, VIRTIO_PCI_COMMON_CFGGENERATION);
        uint64_t v = kit_vcfg_read32(d, off) | (uint64_t)kit_vcfg_read32(d, off + 4) << 32;
        if (common_read8(d, VIRTIO_PCI_COMMON_CFGGENERATION) == gen || tries > 100)
            return v;
    }
}

static int set_status(struct kit_vdev *d, uint8_t bits)
{
    uint8_t s = common_read8(d, VIRTIO_PCI_COMMON_STATUS);
    common_write8(d, VIRTIO_PCI_COMMON_STATUS, (uint8_t)(s | bits));
    return common_read8(d, VIRTIO_PCI_COMMON_STATUS);
}

static int status_is_zero(void *ctx)
{
    struct kit_vdev *d = ctx;
    return common_read8(d, VIRTIO_PCI_COMMON_STATUS) == 0;
}

/* Writes 0 to device_status and waits until it reads back 0 (4.1.4.3.2). */
static int reset_device(struct kit_vdev *d)
{
    common_write8(d, VIRTIO_PCI_COMMON_STATUS, 0);
    return kit_wait(status_is_zero, d, RESET_TIMEOUT_MS, 0);
}

/* Address of the structure a virtio capability points at, its BAR moved below 4 GiB if need be. */
static uint64_t cap_address(struct kit_vdev *d, uint8_t cap, uint32_t *length)
{
    uint32_t bar = kit_pci_read(d->fn, cap + VIRTIO_CAP_BAR, 1);
    uint32_t offset = kit_pci_read(d->fn, cap + VIRTIO_CAP_OFFSET, 4);
    *length = kit_pci_read(d->fn, cap + VIRTIO_CAP_LENGTH, 4);
    if (bar >= 6 || !kit_pci_bar_reachable(d->fn, bar))
        return 0;
    if ((uint64_t)offset + *length > d->fn->bar[bar].size) {
        kit_virtio_error(d, "virtio-cap-outside-bar");
        kit_hex("offset", cap);
        kit_end();
        return 0;
    }
    return d->fn->bar[bar].addr + offset;
}

/* The first capability of each configuration type the driver uses (4.1.4: "the first one"). */
static int map_structures(struct kit_vdev *d)
{
    for (uint8_t cap = kit_pci_find_cap(d->fn, PCI_CAP_ID_VNDR, 0); cap != 0;
         cap = kit_pci_find_cap(d->fn, PCI_CAP_ID_VNDR, cap)) {
        uint8_t type = (uint8_t)kit_pci_read(d->fn, cap + VIRTIO_CAP_CFG_TYPE, 1);
        uint32_t len;
        if (type == VIRTIO_PCI_CAP_COMMON_CFG && d->common == 0) {
            d->common = cap_address(d, cap, &len);
        } else if (type == VIRTIO_PCI_CAP_NOTIFY_CFG && d->notify == 0) {
            d->notify = cap_address(d, cap, &len);
            d->notify_multiplier = kit_pci_read(d->fn, cap + VIRTIO_CAP_NOTIFY_MULTIPLIER, 4);
        } else if (type == VIRTIO_PCI_CAP_ISR_CFG && d->isr == 0) {
            d->isr = cap_address(d, cap, &len);
        } else if (type == VIRTIO_PCI_CAP_DEVICE_CFG && d->device == 0) {
            d->device = cap_address(d, cap, &len);
        }
    }
    if (d->common == 0 || d->notify == 0) {
        kit_virtio_error(d, "virtio-structures-missing");
        kit_bool("common", d->common != 0);
        kit_bool("notify", d->notify != 0);
        kit_end();
        return 0;
    }
    return 1;
}

static void msix_program(struct kit_vdev *d, uint16_t entry, uint8_t vector)
{
    uint64_t e = d->msix_table + (uint64_t)entry * PCI_MSIX_ENTRY_SIZE;
    mmio_write32(e + PCI_MSIX_ENTRY_LOWER_ADDR,
                 MSI_ADDR_BASE | kit_irq_apic_id() << MSI_ADDR_DEST_SHIFT);
    mmio_write32(e + PCI_MSIX_ENTRY_UPPER_ADDR, 0);
    mmio_write32(e + PCI_MSIX_ENTRY_DATA, vector);  /* fixed delivery, edge */
    mmio_write32(e + PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
}

/*
 * MSI-X with one table entry for configuration changes (entry 0) and one per queue (entry
 * 1 + queue), each with its own IDT vector. A table too small for that gets what Linux falls
 * back to: all queues share entry 1, or with a single entry, everything shares entry 0.
 * Enabled with the function masked while the entries are written, then unmasked. Returns 0
 * (the kit polls) when it cannot be done.
 */
static int setup_msix(struct kit_vdev *d, const struct kit_boot *boot)
{
    d->msix_cap = kit_pci_find_cap(d->fn, PCI_CAP_ID_MSIX, 0);
    const char *why = NULL;
    if (kit_param_is(boot, "kit.virtio.irq", "poll"))
        why = "kit.virtio.irq=poll";
    else if (d->msix_cap == 0)
        why = "no-msix-capability";
    if (why == NULL) {
        uint32_t flags = kit_pci_read(d->fn, d->msix_cap + PCI_MSIX_FLAGS, 2);
        uint32_t table = kit_pci_read(d->fn, d->msix_cap + PCI_MSIX_TABLE, 4);
        uint32_t bir = table & PCI_MSIX_BIR;
        d->msix_size = (flags & PCI_MSIX_FLAGS_QSIZE) + 1;
        if (!kit_pci_bar_reachable(d->fn, bir))
            why = "msix-bar-unreachable";
        else if (!kit_irq_setup())
            why = "apic-unusable";
        else
            d->msix_table = d->fn->bar[bir].addr + (table & ~(uint32_t)PCI_MSIX_BIR);
    }
    const char *mode = d->msix_size >= 1 + d->nq ? "per-queue"
                       : d->msix_size >= 2 ? "shared" : "single";
    if (why == NULL) {
        d->config_idt_vector = kit_irq_alloc();
        int per_queue = d->msix_size >= 1 + d->nq;
        uint8_t shared = per_queue ? 0
                         : d->msix_size >= 2 ? kit_irq_alloc() : d->config_idt_vector;
        for (uint32_t i = 0; i < d->nq; i++) {
            if (per_queue) {
                d->q[i].msix_entry = (uint16_t)(1 + i);
                d->q[i].idt_vector = kit_irq_alloc();
            } else {
                d->q[i].msix_entry = d->msix_size >= 2 ? 1 : 0;
                d->q[i].idt_vector = shared;
            }
            if (d->q[i].idt_vector == 0)
                why = "out-of-vectors";
        }
    }
    if (why != NULL) {
        for (uint32_t i = 0; i < d->nq; i++)
            d->q[i].msix_entry = VIRTIO_MSI_NO_VECTOR;
        kit_line("VIRTIO-MSIX");
        kit_pci_bdf(d->fn);
        kit_cstr("type", type_name(d->type));
        kit_bool("enabled", 0);
        kit_cstr("reason", why);
        kit_end();
        return 0;
    }

    uint32_t off = d->msix_cap + PCI_MSIX_FLAGS;
    uint32_t flags = kit_pci_read(d->fn, off, 2);
    kit_pci_write(d->fn, off, 2, flags | PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
    msix_program(d, 0, d->config_idt_vector);
    for (uint32_t i = 0; i < d->nq; i++) {
        if (d->q[i].msix_entry != 0)
            msix_program(d, d->q[i].msix_entry, d->q[i].idt_vector);
    }
    kit_pci_write(d->fn, off, 2, (flags | PCI_MSIX_FLAGS_ENABLE) & ~PCI_MSIX_FLAGS_MASKALL);

    kit_line("VIRTIO-MSIX");
    kit_pci_bdf(d->fn);
    kit_cstr("type", type_name(d->type));
    kit_bool("enabled", 1);
    kit_dec("table_size", d->msix_size);
    kit_cstr("mode", mode);
    kit_hex("table", d->msix_table);
    kit_hex("apic_id", kit_irq_apic_id());
    kit_hex("config_vector", d->config_idt_vector);
    kit_hex("flags", kit_pci_read(d->fn, off, 2));
    kit_end();
    return 1;
}

/* Largest power of two not above n (split queue sizes are powers of two, 2.7). */
static uint16_t pow2_floor(uint16_t n)
{
    uint16_t p = 1;
    while ((uint32_t)p * 2 <= n)
        p = (uint16_t)(p * 2);
    return p;
}

static int setup_queue(struct kit_vdev *d, struct kit_vq *q)
{
    common_write16(d, VIRTIO_PCI_COMMON_Q_SELECT, q->index);
    q->max = common_read16(d, VIRTIO_PCI_COMMON_Q_SIZE);
    if (q->max == 0) {
        kit_virtio_error(d, "virtio-queue-missing");
        kit_dec("q", q->index);
        kit_end();
        return 0;
    }
    q->size = pow2_floor(q->max < KIT_VQ_SIZE_MAX ? q->max : KIT_VQ_SIZE_MAX);
    /* One page: descriptors, then the available ring, then the used ring (alignment 2.7). */
    uint8_t *page = kit_dma_alloc(4096, 4096);
    q->desc = (volatile struct virtq_desc *)page;
    q->avail = (volatile struct virtq_avail *)(page + 16 * KIT_VQ_SIZE_MAX);
    q->used = (volatile struct virtq_used *)(page + 2048);
    common_write16(d, VIRTIO_PCI_COMMON_Q_SIZE, q->size);
    uint16_t vector = VIRTIO_MSI_NO_VECTOR;
    if (d->use_irq) {
        common_write16(d, VIRTIO_PCI_COMMON_Q_MSIX, q->msix_entry);
        vector = common_read16(d, VIRTIO_PCI_COMMON_Q_MSIX);
        if (vector != q->msix_entry) {
            kit_virtio_error(d, "virtio-queue-vector-refused");
            kit_dec("q", q->index);
            kit_hex("read", vector);
            kit_end();
            return 0;
        }
    }
    common_write64(d, VIRTIO_PCI_COMMON_Q_DESCLO, (uintptr_t)q->desc);
    common_write64(d, VIRTIO_PCI_COMMON_Q_AVAILLO, (uintptr_t)q->avail);
    common_write64(d, VIRTIO_PCI_COMMON_Q_USEDLO, (uintptr_t)q->used);
    uint16_t noff = common_read16(d, VIRTIO_PCI_COMMON_Q_NOFF);
    q->notify_addr = d->notify + (uint64_t)noff * d->notify_multiplier;
    common_write16(d, VIRTIO_PCI_COMMON_Q_ENABLE, 1);

    kit_line("VIRTIO-QUEUE");
    kit_pci_bdf(d->fn);
    kit_cstr("type", type_name(d->type));
    kit_dec("q", q->index);
    kit_dec("max", q->max);
    kit_dec("size", q->size);
    kit_hex("msix_entry", vector);
    kit_hex("vector", d->use_irq ? q->idt_vector : 0);
    kit_dec("notify_off", noff);
    kit_hex("notify", q->notify_addr);
    kit_hex("desc", (uintptr_t)q->desc);
    kit_hex("avail", (uintptr_t)q->avail);
    kit_hex("used", (uintptr_t)q->used);
    kit_bool("enabled", common_read16(d, VIRTIO_PCI_COMMON_Q_ENABLE) == 1);
    kit_end();
    return 1;
}

static void fail(struct kit_vdev *d)
{
    set_status(d, VIRTIO_CONFIG_S_FAILED);
}

static uint64_t read_features(struct kit_vdev *d, uint32_t select_off, uint32_t value_off)
{
    common_write32(d, select_off, 0);
    uint64_t lo = common_read32(d, value_off);
    common_write32(d, select_off, 1);
    return lo | (uint64_t)common_read32(d, value_off) << 32;
}

/*
 * Finds the first device of `type` and brings it to DRIVER_OK with queues 0 .. nqueues-1.
 * `wanted` are the device-specific features the caller can use; VERSION_1 is required and
 * ACCESS_PLATFORM accepted when offered (addresses are physical; there is no IOMMU to
 * program). Returns 1 when the device is ready.
 */
int kit_virtio_open(struct kit_vdev *d, const struct kit_boot *boot, uint32_t type,
                    uint64_t wanted, uint32_t nqueues)
{
    uint64_t timeout;
    memset(d, 0, sizeof(*d));
    d->type = type;
    d->name = type_name(type);
    d->nq = nqueues > KIT_VQ_MAX ? KIT_VQ_MAX : nqueues;
    d->timeout_ms = DEFAULT_TIMEOUT_MS;
    if (kit_param_dec(boot, "kit.virtio.timeout_ms", &timeout) && timeout > 0)
        d->timeout_ms = (uint32_t)timeout;
    for (uint32_t i = 0; i < d->nq; i++) {
        d->q[i].index = (uint16_t)i;
        d->q[i].msix_entry = VIRTIO_MSI_NO_VECTOR;
    }
    d->fn = find_device(type);
    if (d->fn == NULL) {
        kit_virtio_error(d, "virtio-device-not-found");
        kit_end();
        return 0;
    }
    if (!map_structures(d))
        return 0;
    uint32_t cmd = kit_pci_read(d->fn, PCI_COMMAND, 2);
    kit_pci_write(d->fn, PCI_COMMAND, 2, cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);

    if (!reset_device(d)) {
        kit_virtio_error(d, "virtio-reset-timeout");
        kit_end();
        return 0;
    }
    set_status(d, VIRTIO_CONFIG_S_ACKNOWLEDGE);
    set_status(d, VIRTIO_CONFIG_S_DRIVER);

    d->offered = read_features(d, VIRTIO_PCI_COMMON_DFSELECT, VIRTIO_PCI_COMMON_DF);
    if (!(d->offered & kit_bit(VIRTIO_F_VERSION_1))) {
        kit_virtio_error(d, "virtio-not-modern");
        kit_hex("features", d->offered);
        kit_end();
        fail(d);
        return 0;
    }
    d->accepted = d->offered
                  & (wanted | kit_bit(VIRTIO_F_VERSION_1) | kit_bit(VIRTIO_F_ACCESS_PLATFORM));
    common_write32(d, VIRTIO_PCI_COMMON_GFSELECT, 0);
    common_write32(d, VIRTIO_PCI_COMMON_GF, (uint32_t)d->accepted);
    common_write32(d, VIRTIO_PCI_COMMON_GFSELECT, 1);
    common_write32(d, VIRTIO_PCI_COMMON_GF, (uint32_t)(d->accepted >> 32));
    uint64_t driver = read_features(d, VIRTIO_PCI_COMMON_GFSELECT, VIRTIO_PCI_COMMON_GF);
    uint8_t status = (uint8_t)set_status(d, VIRTIO_CONFIG_S_FEATURES_OK);
    d->num_queues = common_read16(d, VIRTIO_PCI_COMMON_NUMQ);

    kit_line("VIRTIO");
    kit_pci_bdf(d->fn);
    kit_cstr("type", d->name);
    kit_dec("id", type);
    kit_hex("device", d->fn->device);
    kit_hex("features", d->offered);
    kit_hex("accepted", d->accepted);
    kit_hex("driver_features", driver);
    kit_dec("num_queues", d->num_queues);
    kit_hex("common", d->common);
    kit_hex("notify", d->notify);
    kit_dec("notify_multiplier", d->notify_multiplier);
    kit_hex("isr", d->isr);
    kit_hex("device_cfg", d->device);
    kit_bool("features_ok", (status & VIRTIO_CONFIG_S_FEATURES_OK) != 0);
    kit_end();
    if (!(status & VIRTIO_CONFIG_S_FEATURES_OK)) {
        kit_virtio_error(d, "virtio-features-refused");
        kit_hex("status", status);
        kit_end();
        fail(d);
        return 0;
    }
    if (d->num_queues < d->nq) {
        kit_virtio_error(d, "virtio-too-few-queues");
        kit_dec("num_queues", d->num_queues);
        kit_end();
        fail(d);
        return 0;
    }

    d->use_irq = setup_msix(d, boot);
    if (d->use_irq) {
        common_write16(d, VIRTIO_PCI_COMMON_MSIX, 0);
        if (common_read16(d, VIRTIO_PCI_COMMON_MSIX) != 0) {
            kit_virtio_error(d, "virtio-config-vector-refused");
            kit_end();
            fail(d);
            return 0;
        }
    }
    for (uint32_t i = 0; i < d->nq; i++) {
        if (!setup_queue(d, &d->q[i])) {
            fail(d);
            return 0;
        }
    }
    status = (uint8_t)set_status(d, VIRTIO_CONFIG_S_DRIVER_OK);
    kit_line("VIRTIO-READY");
    kit_pci_bdf(d->fn);
    kit_cstr("type", d->name);
    kit_hex("status", status);
    kit_cstr("irq", d->use_irq ? "msix" : "poll");
    kit_end();
    if (status & (VIRTIO_CONFIG_S_NEEDS_RESET | VIRTIO_CONFIG_S_FAILED)
        || !(status & VIRTIO_CONFIG_S_DRIVER_OK)) {
        kit_virtio_error(d, "virtio-driver-ok-refused");
        kit_hex("status", status);
        kit_end();
        return 0;
    }
    return 1;
}

/*
 * Reports the interrupts each vector took, then resets the device (what a driver does when
 * it lets go) and turns MSI-X off again.
 */
void kit_virtio_close(struct kit_vdev *d)
{
    if (d->fn == NULL || d->common == 0)
        return;
    if (d->use_irq) {
        kit_line("VIRTIO-IRQS");
        kit_pci_bdf(d->fn);
        kit_cstr("type", d->name);
        kit_dec("config", kit_irq_count[d->config_idt_vector]);
        for (uint32_t i = 0; i < d->nq; i++) {
            char key[4] = {'q', (char)('0' + i), 0, 0};
            kit_dec(key, kit_irq_count[d->q[i].idt_vector]);
        }
        kit_dec("timer", kit_irq_count[KIT_TIMER_VECTOR]);
        kit_end();
    }
    int ok = reset_device(d);
    if (d->use_irq) {
        uint32_t off = d->msix_cap + PCI_MSIX_FLAGS;
        kit_pci_write(d->fn, off, 2, kit_pci_read(d->fn, off, 2) & ~PCI_MSIX_FLAGS_ENABLE);
    }
    kit_line("VIRTIO-RESET");
    kit_pci_bdf(d->fn);
    kit_cstr("type", d->name);
    kit_bool("ok", ok);
    kit_end();
    if (!ok) {
        kit_virtio_error(d, "virtio-reset-timeout");
        kit_end();
    }
}

/* Puts a chain of descriptors head, head + 1, ... in the available ring (2.7.13). */
void kit_vq_add(struct kit_vq *q, uint16_t head, const struct kit_buf *bufs, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        volatile struct virtq_desc *desc = &q->desc[(head + i) % q->size];
        desc->addr = (uintptr_t)bufs[i].addr;
        desc->len = bufs[i].len;
        desc->flags = (uint16_t)((bufs[i].write ? VIRTQ_DESC_F_WRITE : 0)
                                 | (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0));
        desc->next = (uint16_t)((head + i + 1) % q->size);
    }
    q->avail->ring[q->avail_idx % q->size] = head;
    /* The ring entry before the index (2.7.13.2); x86 keeps stores in order. */
    barrier();
    q->avail_idx++;
    q->avail->idx = q->avail_idx;
    barrier();
}

/* Notifies the device: the queue index to its notification address (4.1.5.2). */
void kit_vq_kick(struct kit_vq *q)
{
    mmio_write16(q->notify_addr, q->index);
}

/* Takes the next used element; 0 when the device has not returned one. */
int kit_vq_get(struct kit_vq *q, uint32_t *id, uint32_t *len)
{
    if (q->used->idx == q->last_used)
        return 0;
    barrier();
    volatile struct virtq_used_elem *e = &q->used->ring[q->last_used % q->size];
    *id = e->id;
    *len = e->len;
    q->last_used++;
    return 1;
}

static int has_used(void *ctx)
{
    struct kit_vq *q = ctx;
    return q->used->idx != q->last_used;
}

/* Waits for a used element: with MSI-X the CPU halts until the queue's interrupt. */
int kit_vq_wait(struct kit_vdev *d, struct kit_vq *q, uint32_t timeout_ms)
{
    return kit_wait(has_used, q, timeout_ms, d->use_irq);
}

struct call {
    struct kit_vq *q;
    uint32_t irqs;              /* the queue vector's count before the notification */
    int need_irq;
};

static int call_done(void *ctx)
{
    struct call *c = ctx;
    return has_used(c->q) && (!c->need_irq || kit_irq_count[c->q->idt_vector] != c->irqs);
}

/*
 * One request: the chain at descriptor 0, a notification, and the wait for its completion.
 * With MSI-X the wait also takes the queue's interrupt, which the device must send since the
 * driver never suppresses them (2.7.7); a device that completes without one is reported and
 * the kit polls from then on. Returns 1 with the used length, or 0 after reporting a timeout
 * or a wrong used id.
 */
int kit_vq_call(struct kit_vdev *d, struct kit_vq *q, const struct kit_buf *bufs, uint32_t n,
                uint32_t *len)
{
    struct call c = {q, kit_irq_count[q->idt_vector], d->use_irq};
    uint32_t id;
    kit_vq_add(q, 0, bufs, n);
    kit_vq_kick(q);
    if (!kit_wait(call_done, &c, d->timeout_ms, d->use_irq) && has_used(q) && c.need_irq) {
        kit_virtio_error(d, "virtio-no-interrupt");
        kit_dec("q", q->index);
        kit_hex("vector", q->idt_vector);
        kit_end();
        d->use_irq = 0;
    }
    if (!kit_vq_get(q, &id, len)) {
        kit_virtio_error(d, "virtio-request-timeout");
        kit_dec("q", q->index);
        kit_dec("timeout_ms", d->timeout_ms);
        kit_hex("status", common_read8(d, VIRTIO_PCI_COMMON_STATUS));
        kit_end();
        return 0;
    }
    if (id != 0) {
        kit_virtio_error(d, "virtio-used-id");
        kit_dec("q", q->index);
        kit_dec("id", id);
        kit_end();
        return 0;
    }
    return 1;
}
