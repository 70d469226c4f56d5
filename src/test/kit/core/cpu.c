/*
 * CPUID of the boot CPU (Intel SDM Vol. 2A, CPUID; AMD APM Vol. 3, appendix E): vendor,
 * family/model, the initial APIC ID, feature bits a VMM commonly filters, and the hypervisor
 * leaves at 0x40000000 (KVM: "KVMKVMKVM\0\0\0", features in 0x40000001 EAX).
 */
#include "kit.h"
#include "io.h"

#define CPUID_1_ECX_X2APIC (1u << 21)
#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define CPUID_1_EDX_TSC (1u << 4)
#define CPUID_1_EDX_APIC (1u << 9)
#define CPUID_80000001_EDX_LM (1u << 29)
#define CPUID_80000001_EDX_PDPE1GB (1u << 26)

#define LEAF_HYPERVISOR 0x40000000u
#define LEAF_EXT_BASE 0x80000000u

static uint32_t str_len(const char *s, uint32_t max)
{
    uint32_t n = 0;
    while (n < max && s[n] != 0)
        n++;
    return n;
}

void kit_report_cpu(void)
{
    uint32_t r[4];
    char vendor[12];
    uint32_t max_leaf, ext_max;

    cpuid(0, 0, r);
    max_leaf = r[0];
    memcpy(vendor, &r[1], 4);
    memcpy(vendor + 4, &r[3], 4);
    memcpy(vendor + 8, &r[2], 4);

    cpuid(1, 0, r);
    uint32_t eax1 = r[0], ebx1 = r[1], ecx1 = r[2], edx1 = r[3];
    uint32_t family = (eax1 >> 8) & 0xF;
    uint32_t model = (eax1 >> 4) & 0xF;
    if (family == 0xF)
        family += (eax1 >> 20) & 0xFF;
    if (family == 0x6 || family >= 0xF)
        model |= ((eax1 >> 16) & 0xF) << 4;

    cpuid(LEAF_EXT_BASE, 0, r);
    ext_max = r[0];
    uint32_t edx_ext1 = 0, phys_bits = 0, virt_bits = 0;
    if (ext_max >= 0x80000001u && ext_max < 0x8000FFFFu) {
        cpuid(0x80000001u, 0, r);
        edx_ext1 = r[3];
    }
    if (ext_max >= 0x80000008u && ext_max < 0x8000FFFFu) {
        cpuid(0x80000008u, 0, r);
        phys_bits = r[0] & 0xFF;
        virt_bits = (r[0] >> 8) & 0xFF;
    }

    kit_line("CPU");
    kit_str("vendor", vendor, 12);
    kit_hex("max_leaf", max_leaf);
    kit_hex("family", family);
    kit_hex("model", model);
    kit_hex("stepping", eax1 & 0xF);
    kit_hex("apic_id", ebx1 >> 24);
    kit_dec("logical", (ebx1 >> 16) & 0xFF);
    if (max_leaf >= 0xB) {
        cpuid(0xB, 0, r);
        kit_hex("x2apic_id", r[3]);
    }
    kit_bool("apic", (edx1 & CPUID_1_EDX_APIC) != 0);
    kit_bool("x2apic", (ecx1 & CPUID_1_ECX_X2APIC) != 0);
    kit_bool("tsc", (edx1 & CPUID_1_EDX_TSC) != 0);
    kit_bool("hypervisor", (ecx1 & CPUID_1_ECX_HYPERVISOR) != 0);
    kit_bool("lm", (edx_ext1 & CPUID_80000001_EDX_LM) != 0);
    kit_bool("pdpe1gb", (edx_ext1 & CPUID_80000001_EDX_PDPE1GB) != 0);
    kit_hex("ext_max_leaf", ext_max);
    kit_dec("phys_bits", phys_bits);
    kit_dec("virt_bits", virt_bits);
    kit_hex("leaf1_ecx", ecx1);
    kit_hex("leaf1_edx", edx1);
    kit_end();

    /* The hypervisor leaves are only defined when CPUID.1:ECX.hypervisor is set. */
    if (ecx1 & CPUID_1_ECX_HYPERVISOR) {
        char hv[12];
        cpuid(LEAF_HYPERVISOR, 0, r);
        uint32_t hv_max = r[0];
        memcpy(hv, &r[1], 4);
        memcpy(hv + 4, &r[2], 4);
        memcpy(hv + 8, &r[3], 4);
        kit_line("HYPERVISOR");
        kit_hex("max_leaf", hv_max);
        kit_str("vendor", hv, str_len(hv, 12));
        if (hv_max >= LEAF_HYPERVISOR + 1 && hv_max < LEAF_HYPERVISOR + 0x100) {
            cpuid(LEAF_HYPERVISOR + 1, 0, r);
            kit_hex("features", r[0]);
            kit_hex("features_edx", r[3]);
        }
        kit_end();
    }

    if (ext_max >= 0x80000004u && ext_max < 0x8000FFFFu) {
        char brand[48];
        for (uint32_t i = 0; i < 3; i++) {
            cpuid(0x80000002u + i, 0, r);
            memcpy(brand + 16 * i, r, 16);
        }
        uint32_t start = 0, len = str_len(brand, 48);
        while (start < len && brand[start] == ' ')
            start++;
        kit_line("CPU-BRAND");
        kit_text(brand + start, len - start);
        kit_end();
    }
}
