package dev.nimbus.hypervisor;

/** One CPUID leaf (and sub-leaf) and the registers it returns; as struct kvm_cpuid_entry2. */
public record CpuidEntry(int function, int index, int flags, int eax, int ebx, int ecx, int edx) {
    /** kvm_cpuid_entry2.flags: the leaf has sub-leaves selected by ECX. */
    public static final int KVM_CPUID_FLAG_SIGNIFCANT_INDEX = 1;

    public CpuidEntry withRegisters(int eax, int ebx, int ecx, int edx) {
        return new CpuidEntry(function, index, flags, eax, ebx, ecx, edx);
    }
}
