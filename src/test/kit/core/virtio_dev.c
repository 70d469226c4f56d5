/*
 * What the kit does with each virtio device, chosen with kit.virtio=<name>,<name>,... (rng,
 * console, blk, net; in the order given). Every result is reported so that the host can check
 * it against what it sees: bytes in the disk image, frames in a network namespace, the console
 * file, the entropy source. See README.md for the switches and lines.
 */
#include "virtio.h"
#include "io.h"

/* virtio-console (virtio 1.2, 5.3): port 0's receiveq and transmitq, no multiport. */
#define VIRTIO_CONSOLE_F_SIZE 0
#define VIRTIO_CONSOLE_COLS 0
#define VIRTIO_CONSOLE_ROWS 2

/* virtio-blk (5.2). */
#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_GEOMETRY 4
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_CFG_CAPACITY 0
#define VIRTIO_BLK_CFG_SIZE_MAX 8
#define VIRTIO_BLK_CFG_SEG_MAX 12
#define VIRTIO_BLK_CFG_BLK_SIZE 20
#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_ID_BYTES 20
#define VIRTIO_BLK_S_OK 0
#define SECTOR_SIZE 512
#define BLK_MAX_SECTORS 16

/* virtio-net (5.1): receiveq1 = 0, transmitq1 = 1; the header is 12 bytes in virtio 1.x. */
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_CFG_MAC 0
#define VIRTIO_NET_CFG_STATUS 6
#define VIRTIO_NET_S_LINK_UP 1
#define VIRTIO_NET_HDR_SIZE 12
#define NET_RX_BUFFERS 8
#define NET_BUFFER_SIZE 2048
#define ETH_HLEN 14
#define ETH_ZLEN 60
#define ETH_FRAME_MAX 1514
#define NET_DEFAULT_TIMEOUT_MS 30000

/*
 * The kit's test frame: Ethernet with the IEEE 802 local experimental EtherType 1, then
 * "NIMBUSKT", a big-endian sequence number and pattern length, the pattern (kit_pattern with
 * seed seq ^ KIT_FRAME_SEED) and a big-endian CRC-32 over magic to pattern; zero padding up
 * to 60 bytes.
 */
#define KIT_ETHERTYPE 0x88B5
#define KIT_FRAME_MAGIC "NIMBUSKT"
#define KIT_FRAME_SEED 0x4E4B5446u
#define KIT_FRAME_HEADER (ETH_HLEN + 8 + 4 + 2)
#define KIT_FRAME_MAX_PATTERN (ETH_FRAME_MAX - KIT_FRAME_HEADER - 4)

#define RNG_DEFAULT_BYTES 64
#define RNG_MAX_BYTES 4096

static void put_u16be(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put_u32be(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get_u16be(const uint8_t *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t get_u32be(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A field of bytes in hex, two digits each: head=00ff10... */
static void hex_field(const char *key, const uint8_t *p, uint32_t n)
{
    static const char digits[] = "0123456789abcdef";
    char s[64];
    if (n > sizeof(s) / 2)
        n = sizeof(s) / 2;
    for (uint32_t i = 0; i < n; i++) {
        s[2 * i] = digits[p[i] >> 4];
        s[2 * i + 1] = digits[p[i] & 0xF];
    }
    kit_str(key, s, 2 * n);
}

static void mac_field(const char *key, const uint8_t *mac)
{
    static const char digits[] = "0123456789abcdef";
    char s[17];
    for (int i = 0; i < 6; i++) {
        s[3 * i] = digits[mac[i] >> 4];
        s[3 * i + 1] = digits[mac[i] & 0xF];
        if (i < 5)
            s[3 * i + 2] = ':';
    }
    kit_str(key, s, 17);
}

/* --- parameter lists: "a,b,c" with items "<n>", "<n>+<count>", "<n>:<seed>" --- */

struct list {
    const char *p;
    const char *end;
};

static int list_open(const struct kit_boot *boot, const char *key, struct list *l)
{
    uint32_t len;
    if (!kit_param(boot, key, &l->p, &len))
        return 0;
    l->end = l->p + len;
    return 1;
}

static int list_next(struct list *l, const char **item, uint32_t *len)
{
    if (l->p >= l->end)
        return 0;
    *item = l->p;
    while (l->p < l->end && *l->p != ',')
        l->p++;
    *len = (uint32_t)(l->p - *item);
    if (l->p < l->end)
        l->p++;
    return 1;
}

/* A decimal number, or hexadecimal with 0x, from s; advances s; 0 when there is none. */
static int parse_number(const char **s, const char *end, uint64_t *out)
{
    const char *p = *s;
    uint64_t v = 0;
    int base = 10;
    if (end - p > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
    }
    const char *digits_start = p;
    for (; p < end; p++) {
        char c = *p;
        uint32_t d;
        if (c >= '0' && c <= '9')
            d = (uint32_t)(c - '0');
        else if (base == 16 && c >= 'a' && c <= 'f')
            d = (uint32_t)(c - 'a' + 10);
        else if (base == 16 && c >= 'A' && c <= 'F')
            d = (uint32_t)(c - 'A' + 10);
        else
            break;
        v = base == 16 ? v << 4 | d : v * 10 + d;
    }
    if (p == digits_start)
        return 0;
    *s = p;
    *out = v;
    return 1;
}

static int parse_mac(const char *s, uint32_t len, uint8_t *mac)
{
    if (len != 17)
        return 0;
    for (int i = 0; i < 6; i++) {
        uint8_t v = 0;
        for (int k = 0; k < 2; k++) {
            char c = s[3 * i + k];
            uint32_t d;
            if (c >= '0' && c <= '9')
                d = (uint32_t)(c - '0');
            else if (c >= 'a' && c <= 'f')
                d = (uint32_t)(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
                d = (uint32_t)(c - 'A' + 10);
            else
                return 0;
            v = (uint8_t)(v << 4 | d);
        }
        if (i < 5 && s[3 * i + 2] != ':')
            return 0;
        mac[i] = v;
    }
    return 1;
}

static void bad_param(const char *key, const char *item, uint32_t len)
{
    kit_error("bad-parameter");
    kit_cstr("key", key);
    kit_str("value", item, len);
    kit_end();
}

/* --- rng --- */

static int run_rng(const struct kit_boot *boot)
{
    struct kit_vdev d;
    uint64_t want = RNG_DEFAULT_BYTES;
    kit_param_dec(boot, "kit.rng.bytes", &want);
    if (want == 0 || want > RNG_MAX_BYTES)
        want = RNG_DEFAULT_BYTES;
    if (!kit_virtio_open(&d, boot, VIRTIO_ID_RNG, 0, 1)) {
        kit_virtio_close(&d);
        return 0;
    }
    uint8_t *buf = kit_dma_alloc(RNG_MAX_BYTES, 64);
    uint32_t got = 0, requests = 0, empty = 0;
    int ok = 1;
    /* The device may fill less than asked (5.4.6.1): ask again for the rest. */
    while (got < want && empty < 100) {
        struct kit_buf b = {buf + got, (uint32_t)want - got, 1};
        uint32_t len;
        if (!kit_vq_call(&d, &d.q[0], &b, 1, &len)) {
            ok = 0;
            break;
        }
        requests++;
        if (len > want - got) {
            kit_virtio_error(&d, "virtio-rng-used-length");
            kit_dec("len", len);
            kit_end();
            ok = 0;
            break;
        }
        empty += len == 0;
        got += len;
    }
    uint32_t seen[8] = {0};
    uint32_t zeros = 0, distinct = 0;
    for (uint32_t i = 0; i < got; i++) {
        zeros += buf[i] == 0;
        seen[buf[i] / 32] |= 1u << (buf[i] % 32);
    }
    for (uint32_t v = 0; v < 256; v++)
        distinct += (seen[v / 32] >> (v % 32)) & 1;

    kit_line("VIRTIO-RNG");
    kit_pci_bdf(d.fn);
    kit_dec("requested", want);
    kit_dec("bytes", got);
    kit_dec("requests", requests);
    kit_hex("crc32", kit_crc32(buf, got));
    kit_dec("zeros", zeros);
    kit_dec("distinct", distinct);
    kit_bool("nonzero", zeros < got);
    hex_field("head", buf, got < 16 ? got : 16);
    kit_end();
    if (ok && got < want) {
        kit_virtio_error(&d, "virtio-rng-short");
        kit_dec("bytes", got);
        kit_end();
        ok = 0;
    }
    kit_virtio_close(&d);
    return ok;
}

/* --- console --- */

static uint32_t append(char *dst, uint32_t at, const char *s, uint32_t len)
{
    memcpy(dst + at, s, len);
    return at + len;
}

/*
 * Writes two lines to port 0, each itself a kit line (KIT-VCON) so that a test can parse the
 * console's output like the UART's: the first as a two-descriptor chain split mid-line, the
 * second as one descriptor.
 */
static int run_console(const struct kit_boot *boot)
{
    struct kit_vdev d;
    if (!kit_virtio_open(&d, boot, VIRTIO_ID_CONSOLE, kit_bit(VIRTIO_CONSOLE_F_SIZE), 2)) {
        kit_virtio_close(&d);
        return 0;
    }
    const char *token = "hello";
    uint32_t token_len = 5;
    kit_param(boot, "kit.console.text", &token, &token_len);
    if (token_len > 200)
        token_len = 200;

    char *buf = kit_dma_alloc(1024, 64);
    uint32_t total = 0;
    int ok = 1;
    for (uint32_t n = 1; n <= 2 && ok; n++) {
        char *line = buf + total;
        uint32_t len = 0;
        len = append(line, len, "KIT-VCON n=", 11);
        line[len++] = (char)('0' + n);
        len = append(line, len, " boot=", 6);
        len = append(line, len, boot->path, (uint32_t)kit_strlen(boot->path));
        len = append(line, len, " text=", 6);
        len = append(line, len, token, token_len);
        len = append(line, len, "\r\n", 2);
        struct kit_buf chain[2] = {{line, len / 2, 0}, {line + len / 2, len - len / 2, 0}};
        struct kit_buf one = {line, len, 0};
        uint32_t used;
        ok = n == 1 ? kit_vq_call(&d, &d.q[1], chain, 2, &used)
                    : kit_vq_call(&d, &d.q[1], &one, 1, &used);
        total += len;
    }
    kit_line("VIRTIO-CONSOLE");
    kit_pci_bdf(d.fn);
    kit_dec("lines", ok ? 2 : 0);
    kit_dec("bytes", total);
    kit_hex("crc32", kit_crc32(buf, total));
    if (d.accepted & kit_bit(VIRTIO_CONSOLE_F_SIZE)) {
        kit_dec("cols", kit_vcfg_read16(&d, VIRTIO_CONSOLE_COLS));
        kit_dec("rows", kit_vcfg_read16(&d, VIRTIO_CONSOLE_ROWS));
    }
    kit_end();
    kit_virtio_close(&d);
    return ok;
}

/* --- blk --- */

struct blk {
    struct kit_vdev d;
    uint8_t *hdr;               /* struct virtio_blk_req header: type, reserved, sector */
    uint8_t *data;
    uint8_t *check;
    uint8_t *status;
    uint64_t capacity;
};

static int blk_request(struct blk *b, uint32_t type, uint64_t sector, uint8_t *data,
                       uint32_t len, uint32_t *status)
{
    uint32_t t = type;
    memcpy(b->hdr, &t, 4);
    memset(b->hdr + 4, 0, 4);
    memcpy(b->hdr + 8, &sector, 8);
    *b->status = 0xFF;
    struct kit_buf chain[3] = {{b->hdr, 16, 0}, {data, len, type != VIRTIO_BLK_T_OUT}, {0, 0, 0}};
    uint32_t n = 1;
    if (len != 0)
        n++;
    chain[n].addr = b->status;
    chain[n].len = 1;
    chain[n].write = 1;
    uint32_t used;
    if (!kit_vq_call(&b->d, &b->d.q[0], chain, n + 1, &used))
        return 0;
    *status = *(volatile uint8_t *)b->status;
    return 1;
}

/* "<sector>[+<count>]" then optionally ":<seed>". */
static int parse_range(const char *item, uint32_t len, uint64_t *sector, uint64_t *count,
                       uint64_t *seed)
{
    const char *p = item, *end = item + len;
    *count = 1;
    if (!parse_number(&p, end, sector))
        return 0;
    if (p < end && *p == '+') {
        p++;
        if (!parse_number(&p, end, count) || *count == 0 || *count > BLK_MAX_SECTORS)
            return 0;
    }
    if (seed != NULL) {
        if (p >= end || *p != ':')
            return 0;
        p++;
        if (!parse_number(&p, end, seed))
            return 0;
    }
    return p == end;
}

static int blk_get_id(struct blk *b)
{
    uint32_t status;
    memset(b->data, 0, VIRTIO_BLK_ID_BYTES);
    if (!blk_request(b, VIRTIO_BLK_T_GET_ID, 0, b->data, VIRTIO_BLK_ID_BYTES, &status))
        return 0;
    uint32_t n = 0;
    while (n < VIRTIO_BLK_ID_BYTES && b->data[n] != 0)
        n++;
    kit_line("VIRTIO-BLK-ID");
    kit_pci_bdf(b->d.fn);
    kit_dec("status", status);
    kit_str("serial", (const char *)b->data, n);
    kit_end();
    return 1;
}

static int blk_reads(struct blk *b, const struct kit_boot *boot)
{
    struct list l;
    const char *item;
    uint32_t len;
    int ok = 1;
    if (!list_open(boot, "kit.blk.read", &l)) {
        l.p = "0";
        l.end = l.p + 1;
    }
    while (list_next(&l, &item, &len)) {
        uint64_t sector, count;
        uint32_t status;
        if (!parse_range(item, len, &sector, &count, NULL)) {
            bad_param("kit.blk.read", item, len);
            ok = 0;
            continue;
        }
        uint32_t bytes = (uint32_t)count * SECTOR_SIZE;
        memset(b->data, 0, bytes);
        if (!blk_request(b, VIRTIO_BLK_T_IN, sector, b->data, bytes, &status))
            return 0;
        kit_line("VIRTIO-BLK-READ");
        kit_pci_bdf(b->d.fn);
        kit_dec("sector", sector);
        kit_dec("count", count);
        kit_dec("status", status);
        kit_hex("crc32", kit_crc32(b->data, bytes));
        kit_end();
        ok &= status == VIRTIO_BLK_S_OK;
    }
    return ok;
}

/* Writes kit_pattern(seed) to each range, reads it back and compares. */
static int blk_writes(struct blk *b, const struct kit_boot *boot)
{
    struct list l;
    const char *item;
    uint32_t len;
    int ok = 1;
    if (!list_open(boot, "kit.blk.write", &l))
        return 1;
    while (list_next(&l, &item, &len)) {
        uint64_t sector, count, seed;
        uint32_t status, back = 0xFF;
        if (!parse_range(item, len, &sector, &count, &seed)) {
            bad_param("kit.blk.write", item, len);
            ok = 0;
            continue;
        }
        uint32_t bytes = (uint32_t)count * SECTOR_SIZE;
        kit_pattern((uint32_t)seed, b->data, bytes);
        if (!blk_request(b, VIRTIO_BLK_T_OUT, sector, b->data, bytes, &status))
            return 0;
        int verify = 0;
        if (status == VIRTIO_BLK_S_OK) {
            memset(b->check, 0, bytes);
            if (!blk_request(b, VIRTIO_BLK_T_IN, sector, b->check, bytes, &back))
                return 0;
            verify = back == VIRTIO_BLK_S_OK && memcmp(b->check, b->data, bytes) == 0;
        }
        kit_line("VIRTIO-BLK-WRITE");
        kit_pci_bdf(b->d.fn);
        kit_dec("sector", sector);
        kit_dec("count", count);
        kit_hex("seed", seed);
        kit_dec("status", status);
        kit_hex("crc32", kit_crc32(b->data, bytes));
        kit_bool("verify", verify);
        kit_end();
        ok &= status == VIRTIO_BLK_S_OK && verify;
    }
    return ok;
}

static int run_blk(const struct kit_boot *boot)
{
    static struct blk b;
    uint64_t wanted = kit_bit(VIRTIO_BLK_F_SIZE_MAX) | kit_bit(VIRTIO_BLK_F_SEG_MAX)
                      | kit_bit(VIRTIO_BLK_F_GEOMETRY) | kit_bit(VIRTIO_BLK_F_RO)
                      | kit_bit(VIRTIO_BLK_F_BLK_SIZE) | kit_bit(VIRTIO_BLK_F_FLUSH);
    if (!kit_virtio_open(&b.d, boot, VIRTIO_ID_BLOCK, wanted, 1)) {
        kit_virtio_close(&b.d);
        return 0;
    }
    b.hdr = kit_dma_alloc(16, 16);
    b.status = kit_dma_alloc(1, 16);
    b.data = kit_dma_alloc(BLK_MAX_SECTORS * SECTOR_SIZE, 4096);
    b.check = kit_dma_alloc(BLK_MAX_SECTORS * SECTOR_SIZE, 4096);
    b.capacity = kit_vcfg_read64(&b.d, VIRTIO_BLK_CFG_CAPACITY);
    uint64_t acc = b.d.accepted;

    kit_line("VIRTIO-BLK");
    kit_pci_bdf(b.d.fn);
    kit_dec("capacity", b.capacity);
    if (acc & kit_bit(VIRTIO_BLK_F_BLK_SIZE))
        kit_dec("blk_size", kit_vcfg_read32(&b.d, VIRTIO_BLK_CFG_BLK_SIZE));
    if (acc & kit_bit(VIRTIO_BLK_F_SEG_MAX))
        kit_dec("seg_max", kit_vcfg_read32(&b.d, VIRTIO_BLK_CFG_SEG_MAX));
    if (acc & kit_bit(VIRTIO_BLK_F_SIZE_MAX))
        kit_dec("size_max", kit_vcfg_read32(&b.d, VIRTIO_BLK_CFG_SIZE_MAX));
    kit_bool("ro", (acc & kit_bit(VIRTIO_BLK_F_RO)) != 0);
    kit_bool("flush", (acc & kit_bit(VIRTIO_BLK_F_FLUSH)) != 0);
    kit_end();

    int ok = blk_get_id(&b);
    ok = ok && blk_reads(&b, boot);
    ok = ok && blk_writes(&b, boot);
    if (ok && (acc & kit_bit(VIRTIO_BLK_F_FLUSH))) {
        uint32_t status;
        ok = blk_request(&b, VIRTIO_BLK_T_FLUSH, 0, NULL, 0, &status);
        if (ok) {
            kit_line("VIRTIO-BLK-FLUSH");
            kit_pci_bdf(b.d.fn);
            kit_dec("status", status);
            kit_end();
            ok = status == VIRTIO_BLK_S_OK;
        }
    }
    kit_virtio_close(&b.d);
    return ok;
}

/* --- net --- */

struct net {
    struct kit_vdev d;
    uint8_t mac[6];
    uint8_t *tx;
    uint8_t *rx[NET_RX_BUFFERS];
    uint32_t rx_count;
};

static uint32_t frame_pattern_len(const struct kit_boot *boot, uint32_t seq)
{
    uint64_t size;
    if (kit_param_dec(boot, "kit.net.size", &size) && size <= KIT_FRAME_MAX_PATTERN)
        return (uint32_t)size;
    return 32 + (seq * 389u) % 1400u;
}

/* Builds the kit frame `seq` at f; returns its length. */
static uint32_t build_frame(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint32_t seq,
                            uint32_t plen)
{
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    put_u16be(f + 12, KIT_ETHERTYPE);
    memcpy(f + ETH_HLEN, KIT_FRAME_MAGIC, 8);
    put_u32be(f + ETH_HLEN + 8, seq);
    put_u16be(f + ETH_HLEN + 12, plen);
    kit_pattern(seq ^ KIT_FRAME_SEED, f + KIT_FRAME_HEADER, plen);
    uint32_t crc = kit_crc32(f + ETH_HLEN, KIT_FRAME_HEADER - ETH_HLEN + plen);
    put_u32be(f + KIT_FRAME_HEADER + plen, crc);
    uint32_t len = KIT_FRAME_HEADER + plen + 4;
    if (len < ETH_ZLEN) {
        memset(f + len, 0, ETH_ZLEN - len);
        len = ETH_ZLEN;
    }
    return len;
}

/* Whether f is a kit frame whose CRC and pattern hold; its sequence number in *seq. */
static int check_frame(const uint8_t *f, uint32_t len, uint32_t *seq)
{
    static uint8_t expect[ETH_FRAME_MAX];
    if (len < KIT_FRAME_HEADER + 4 || get_u16be(f + 12) != KIT_ETHERTYPE
        || memcmp(f + ETH_HLEN, KIT_FRAME_MAGIC, 8) != 0)
        return 0;
    *seq = get_u32be(f + ETH_HLEN + 8);
    uint32_t plen = get_u16be(f + ETH_HLEN + 12);
    if (KIT_FRAME_HEADER + plen + 4 > len || plen > KIT_FRAME_MAX_PATTERN)
        return 0;
    uint32_t crc = kit_crc32(f + ETH_HLEN, KIT_FRAME_HEADER - ETH_HLEN + plen);
    kit_pattern(*seq ^ KIT_FRAME_SEED, expect, plen);
    return crc == get_u32be(f + KIT_FRAME_HEADER + plen)
           && memcmp(expect, f + KIT_FRAME_HEADER, plen) == 0;
}

static int net_send(struct net *n, const struct kit_boot *boot, uint32_t count)
{
    uint8_t dst[6] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    const char *v;
    uint32_t len;
    if (kit_param(boot, "kit.net.dst", &v, &len) && !parse_mac(v, len, dst)) {
        bad_param("kit.net.dst", v, len);
        return 0;
    }
    for (uint32_t seq = 0; seq < count; seq++) {
        memset(n->tx, 0, VIRTIO_NET_HDR_SIZE);
        uint8_t *f = n->tx + VIRTIO_NET_HDR_SIZE;
        uint32_t flen = build_frame(f, dst, n->mac, seq, frame_pattern_len(boot, seq));
        struct kit_buf b = {n->tx, VIRTIO_NET_HDR_SIZE + flen, 0};
        uint32_t used;
        if (!kit_vq_call(&n->d, &n->d.q[1], &b, 1, &used))
            return 0;
        kit_line("VIRTIO-NET-TX");
        kit_pci_bdf(n->d.fn);
        kit_dec("seq", seq);
        kit_dec("len", flen);
        kit_hex("crc32", kit_crc32(f, flen));
        kit_end();
    }
    return 1;
}

static void post_rx(struct net *n, uint16_t id)
{
    struct kit_buf b = {n->rx[id], NET_BUFFER_SIZE, 1};
    kit_vq_add(&n->d.q[0], id, &b, 1);
}

static int net_receive(struct net *n, const struct kit_boot *boot, uint32_t count)
{
    uint64_t timeout = NET_DEFAULT_TIMEOUT_MS;
    kit_param_dec(boot, "kit.net.timeout_ms", &timeout);
    struct kit_vq *q = &n->d.q[0];
    uint32_t buffers = q->size < NET_RX_BUFFERS ? q->size : NET_RX_BUFFERS;
    for (uint32_t i = 0; i < buffers; i++)
        post_rx(n, (uint16_t)i);
    kit_vq_kick(q);
    kit_line("VIRTIO-NET-LISTEN");
    kit_pci_bdf(n->d.fn);
    kit_dec("buffers", buffers);
    kit_dec("count", count);
    mac_field("mac", n->mac);
    kit_end();

    const char *source;
    uint64_t per_ms = kit_udiv64(kit_tsc_hz(&source), 1000, NULL);
    uint64_t deadline = rdtsc() + per_ms * timeout;
    uint32_t ignored = 0;
    while (n->rx_count < count) {
        uint64_t now = rdtsc();
        uint32_t left_ms = now >= deadline ? 0 : (uint32_t)kit_udiv64(deadline - now,
                                                                      (uint32_t)per_ms, NULL);
        uint32_t id, len, seq = 0;
        if (!kit_vq_wait(&n->d, q, left_ms) || !kit_vq_get(q, &id, &len)) {
            kit_virtio_error(&n->d, "virtio-net-rx-timeout");
            kit_dec("received", n->rx_count);
            kit_dec("ignored", ignored);
            kit_end();
            return 0;
        }
        if (id >= buffers || len < VIRTIO_NET_HDR_SIZE || len > NET_BUFFER_SIZE) {
            kit_virtio_error(&n->d, "virtio-net-rx-used");
            kit_dec("id", id);
            kit_dec("len", len);
            kit_end();
            return 0;
        }
        const uint8_t *f = n->rx[id] + VIRTIO_NET_HDR_SIZE;
        uint32_t flen = len - VIRTIO_NET_HDR_SIZE;
        if (flen >= ETH_HLEN && get_u16be(f + 12) == KIT_ETHERTYPE) {
            int ok = check_frame(f, flen, &seq);
            kit_line("VIRTIO-NET-RX");
            kit_pci_bdf(n->d.fn);
            kit_dec("seq", seq);
            kit_dec("len", flen);
            kit_hex("crc32", kit_crc32(f, flen));
            kit_bool("ok", ok);
            mac_field("src", f + 6);
            mac_field("dst", f);
            kit_end();
            n->rx_count++;
        } else {
            ignored++;
        }
        post_rx(n, (uint16_t)id);
        kit_vq_kick(q);
    }
    kit_line("VIRTIO-NET-RX-DONE");
    kit_pci_bdf(n->d.fn);
    kit_dec("received", n->rx_count);
    kit_dec("ignored", ignored);
    kit_end();
    return 1;
}

static int run_net(const struct kit_boot *boot)
{
    static struct net n;
    uint64_t send = 0, recv = 0;
    kit_param_dec(boot, "kit.net.send", &send);
    kit_param_dec(boot, "kit.net.recv", &recv);
    if (!kit_virtio_open(&n.d, boot, VIRTIO_ID_NET,
                         kit_bit(VIRTIO_NET_F_MAC) | kit_bit(VIRTIO_NET_F_STATUS), 2)) {
        kit_virtio_close(&n.d);
        return 0;
    }
    n.rx_count = 0;
    n.tx = kit_dma_alloc(NET_BUFFER_SIZE, 64);
    for (uint32_t i = 0; i < NET_RX_BUFFERS; i++)
        n.rx[i] = kit_dma_alloc(NET_BUFFER_SIZE, 64);
    if (n.d.accepted & kit_bit(VIRTIO_NET_F_MAC)) {
        for (uint32_t i = 0; i < 6; i++)
            n.mac[i] = kit_vcfg_read8(&n.d, VIRTIO_NET_CFG_MAC + i);
    } else {
        /* A locally administered address of the kit's own. */
        static const uint8_t own[6] = {0x02, 0x4B, 0x49, 0x54, 0x00, 0x01};
        memcpy(n.mac, own, 6);
    }
    kit_line("VIRTIO-NET");
    kit_pci_bdf(n.d.fn);
    mac_field("mac", n.mac);
    kit_cstr("mac_source", n.d.accepted & kit_bit(VIRTIO_NET_F_MAC) ? "device" : "kit");
    if (n.d.accepted & kit_bit(VIRTIO_NET_F_STATUS)) {
        uint32_t status = kit_vcfg_read16(&n.d, VIRTIO_NET_CFG_STATUS);
        kit_hex("status", status);
        kit_bool("link_up", (status & VIRTIO_NET_S_LINK_UP) != 0);
    }
    kit_end();

    int ok = net_send(&n, boot, (uint32_t)send);
    ok = ok && net_receive(&n, boot, (uint32_t)recv);
    kit_virtio_close(&n.d);
    return ok;
}

/* Runs the devices named by kit.virtio in order and sums up. */
void kit_virtio_run(const struct kit_boot *boot)
{
    struct list l;
    const char *item;
    uint32_t len, devices = 0, ok = 0;
    if (!list_open(boot, "kit.virtio", &l))
        return;
    while (list_next(&l, &item, &len)) {
        int r;
#define IS(s) (len == sizeof(s) - 1 && memcmp(item, s, len) == 0)
        if (IS("rng")) {
            r = run_rng(boot);
        } else if (IS("console")) {
            r = run_console(boot);
        } else if (IS("blk")) {
            r = run_blk(boot);
        } else if (IS("net")) {
            r = run_net(boot);
        } else {
            bad_param("kit.virtio", item, len);
            continue;
        }
#undef IS
        devices++;
        ok += r != 0;
    }
    kit_irq_stop();
    kit_line("VIRTIO-SUMMARY");
    kit_dec("devices", devices);
    kit_dec("ok", ok);
    kit_end();
}
