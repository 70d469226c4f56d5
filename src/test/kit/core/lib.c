/*
 * Freestanding helpers: the mem* functions gcc may emit calls to, 64-bit division without
 * libgcc, access to physical memory, and the CRC-32 used to check boot modules.
 */
#include "kit.h"

void *memset(void *d, int c, size_t n)
{
    uint8_t *p = d;
    while (n--)
        *p++ = (uint8_t)c;
    return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
    uint8_t *p = d;
    const uint8_t *q = s;
    while (n--)
        *p++ = *q++;
    return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *p = a, *q = b;
    for (size_t i = 0; i < n; i++) {
        if (p[i] != q[i])
            return p[i] < q[i] ? -1 : 1;
    }
    return 0;
}

size_t kit_strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

/* Shift-and-subtract division: the 32-bit build has no libgcc for 64-bit division. */
uint64_t kit_udiv64(uint64_t n, uint32_t d, uint32_t *rem)
{
    uint64_t q = 0;
    uint64_t r = 0;
    for (int i = 63; i >= 0; i--) {
        r = (r << 1) | ((n >> i) & 1);
        if (r >= d) {
            r -= d;
            q |= (uint64_t)1 << i;
        }
    }
    if (rem)
        *rem = (uint32_t)r;
    return q;
}

/*
 * A pointer to physical memory [addr, addr + len), or NULL where the kit cannot reach it. Both
 * guests see physical memory one to one below 4 GiB: the PVH guest runs with paging off and the
 * bzImage guest identity maps the first 4 GiB.
 */
const void *kit_phys(uint64_t addr, uint64_t len)
{
    if (addr >= KIT_PHYS_LIMIT || len > KIT_PHYS_LIMIT - addr)
        return NULL;
    return (const void *)(uintptr_t)addr;
}

/* Length of the NUL terminated string at addr, at most max. */
uint32_t kit_strnlen_phys(uint64_t addr, uint32_t max)
{
    const char *s = kit_phys(addr, 1);
    uint32_t n = 0;
    if (s == NULL)
        return 0;
    while (n < max && addr + n < KIT_PHYS_LIMIT && s[n] != 0)
        n++;
    return n;
}

/* CRC-32 as in IEEE 802.3 and zlib (reflected polynomial 0xEDB88320), table built on first use. */
static uint32_t crc_table[256];
static int crc_table_ready;

uint32_t kit_crc32(const void *data, uint64_t len)
{
    const uint8_t *p = data;
    uint32_t crc = 0xFFFFFFFFu;
    if (!crc_table_ready) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            crc_table[i] = c;
        }
        crc_table_ready = 1;
    }
    while (len--)
        crc = crc_table[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
    return crc ^ 0xFFFFFFFFu;
}

/* The ACPI checksum rule: all bytes of a table sum to zero modulo 256. */
uint8_t kit_sum8(const void *data, uint32_t len)
{
    const uint8_t *p = data;
    uint8_t sum = 0;
    while (len--)
        sum = (uint8_t)(sum + *p++);
    return sum;
}
