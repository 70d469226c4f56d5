package dev.nimbus.arch.x86_64;

import dev.nimbus.hypervisor.CpuidEntry;

/** CPU vendor, from the CPUID leaf 0 signature. */
public enum CpuVendor {
    INTEL,
    /** AMD, and Hygon, which follows AMD's CPUID topology leaves. */
    AMD,
    OTHER;

    // "GenuineIntel" in EBX, EDX, ECX order.
    private static final int INTEL_EBX = 0x756E6547;
    private static final int INTEL_EDX = 0x49656E69;
    private static final int INTEL_ECX = 0x6C65746E;
    // "AuthenticAMD".
    private static final int AMD_EBX = 0x68747541;
    private static final int AMD_EDX = 0x69746E65;
    private static final int AMD_ECX = 0x444D4163;
    // "HygonGenuine".
    private static final int HYGON_EBX = 0x6F677948;
    private static final int HYGON_EDX = 0x6E65476E;
    private static final int HYGON_ECX = 0x656E6975;

    /** The vendor whose signature leaf 0 carries. */
    public static CpuVendor of(CpuidEntry leaf0) {
        int b = leaf0.ebx();
        int d = leaf0.edx();
        int c = leaf0.ecx();
        if (b == INTEL_EBX && d == INTEL_EDX && c == INTEL_ECX) {
            return INTEL;
        }
        if ((b == AMD_EBX && d == AMD_EDX && c == AMD_ECX)
                || (b == HYGON_EBX && d == HYGON_EDX && c == HYGON_ECX)) {
            return AMD;
        }
        return OTHER;
    }
}
