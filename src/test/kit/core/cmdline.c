/*
 * Command line switches: "kit.<name>=<value>" tokens separated by spaces. When a switch appears
 * twice the last one wins, so a test can append to a command line to override it.
 */
#include "kit.h"

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int kit_param(const struct kit_boot *boot, const char *key, const char **value, uint32_t *len)
{
    const char *s = boot->cmdline;
    uint32_t n = boot->cmdline_len;
    uint32_t klen = (uint32_t)kit_strlen(key);
    int found = 0;
    uint32_t i = 0;
    while (i < n) {
        while (i < n && is_space(s[i]))
            i++;
        uint32_t start = i;
        while (i < n && !is_space(s[i]))
            i++;
        uint32_t tlen = i - start;
        if (tlen > klen && s[start + klen] == '=' && memcmp(s + start, key, klen) == 0) {
            *value = s + start + klen + 1;
            *len = tlen - klen - 1;
            found = 1;
        }
    }
    return found;
}

int kit_param_is(const struct kit_boot *boot, const char *key, const char *expected)
{
    const char *v;
    uint32_t len;
    uint32_t elen = (uint32_t)kit_strlen(expected);
    return kit_param(boot, key, &v, &len) && len == elen && memcmp(v, expected, len) == 0;
}

int kit_param_hex(const struct kit_boot *boot, const char *key, uint64_t *out)
{
    const char *v;
    uint32_t len;
    uint64_t x = 0;
    if (!kit_param(boot, key, &v, &len))
        return 0;
    if (len > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
        v += 2;
        len -= 2;
    }
    if (len == 0 || len > 16)
        return 0;
    for (uint32_t i = 0; i < len; i++) {
        char c = v[i];
        uint32_t d;
        if (c >= '0' && c <= '9')
            d = (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (uint32_t)(c - 'A' + 10);
        else
            return 0;
        x = (x << 4) | d;
    }
    *out = x;
    return 1;
}

int kit_param_dec(const struct kit_boot *boot, const char *key, uint64_t *out)
{
    const char *v;
    uint32_t len;
    uint64_t x = 0;
    if (!kit_param(boot, key, &v, &len) || len == 0 || len > 18)
        return 0;
    for (uint32_t i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            return 0;
        x = x * 10 + (uint64_t)(v[i] - '0');
    }
    *out = x;
    return 1;
}
