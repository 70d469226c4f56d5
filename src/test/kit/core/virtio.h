/*
 * The kit's virtio 1.x driver over PCI (virtio 1.2, 4.1): the transport in virtio.c, the
 * device actions in virtio_dev.c. Split virtqueues only, one request in flight at a time
 * except for receive buffers, no event index, no indirect descriptors.
 */
#ifndef KIT_VIRTIO_H
#define KIT_VIRTIO_H

#include "kit.h"

/* Device types (virtio 1.2, 5). */
#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG 4

/* Reserved feature bits (virtio 1.2, 6). */
#define VIRTIO_F_VERSION_1 32
#define VIRTIO_F_ACCESS_PLATFORM 33

#define KIT_VQ_MAX 4
#define KIT_VQ_SIZE_MAX 16

/* struct virtq_desc, virtq_avail, virtq_used (virtio 1.2, 2.7.5 to 2.7.8). */
struct virtq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2

struct virtq_avail {
    uint16_t flags;
    uint16_t idx;
    uint16_t ring[KIT_VQ_SIZE_MAX];
};

struct virtq_used_elem {
    uint32_t id;
    uint32_t len;
};

struct virtq_used {
    uint16_t flags;
    uint16_t idx;
    struct virtq_used_elem ring[KIT_VQ_SIZE_MAX];
};

struct kit_vq {
    uint16_t index;
    uint16_t size;
    uint16_t max;
    volatile struct virtq_desc *desc;
    volatile struct virtq_avail *avail;
    volatile struct virtq_used *used;
    uint16_t avail_idx;         /* the driver's next available index */
    uint16_t last_used;         /* the next used index the driver will read */
    uint64_t notify_addr;
    uint16_t msix_entry;        /* 0xFFFF: no vector */
    uint8_t idt_vector;
};

struct kit_vdev {
    struct kit_pci_fn *fn;
    uint32_t type;
    const char *name;
    uint64_t common;            /* addresses of the configuration structures */
    uint64_t isr;
    uint64_t device;
    uint64_t notify;
    uint32_t notify_multiplier;
    uint8_t msix_cap;
    uint64_t msix_table;
    uint32_t msix_size;
    int use_irq;                /* MSI-X vectors are set up and the kit halts for them */
    uint16_t num_queues;
    uint64_t offered;
    uint64_t accepted;
    uint8_t config_idt_vector;
    uint32_t nq;
    struct kit_vq q[KIT_VQ_MAX];
    uint32_t timeout_ms;
};

/* One buffer of a descriptor chain: guest memory the device reads, or writes when write=1. */
struct kit_buf {
    void *addr;
    uint32_t len;
    int write;
};

static inline uint64_t kit_bit(uint32_t n)
{
    return (uint64_t)1 << n;
}

void *kit_dma_alloc(uint32_t size, uint32_t align);
int kit_virtio_open(struct kit_vdev *d, const struct kit_boot *boot, uint32_t type,
                    uint64_t wanted, uint32_t nqueues);
void kit_virtio_close(struct kit_vdev *d);
uint8_t kit_vcfg_read8(struct kit_vdev *d, uint32_t off);
uint16_t kit_vcfg_read16(struct kit_vdev *d, uint32_t off);
uint32_t kit_vcfg_read32(struct kit_vdev *d, uint32_t off);
uint64_t kit_vcfg_read64(struct kit_vdev *d, uint32_t off);
void kit_vq_add(struct kit_vq *q, uint16_t head, const struct kit_buf *bufs, uint32_t n);
void kit_vq_kick(struct kit_vq *q);
int kit_vq_get(struct kit_vq *q, uint32_t *id, uint32_t *len);
int kit_vq_wait(struct kit_vdev *d, struct kit_vq *q, uint32_t timeout_ms);
int kit_vq_call(struct kit_vdev *d, struct kit_vq *q, const struct kit_buf *bufs, uint32_t n,
                uint32_t *len);
void kit_virtio_error(struct kit_vdev *d, const char *what);

/* xorshift32 bytes: the pattern the kit writes to disks and frames; tests compute it too. */
void kit_pattern(uint32_t seed, uint8_t *out, uint32_t len);

#endif
