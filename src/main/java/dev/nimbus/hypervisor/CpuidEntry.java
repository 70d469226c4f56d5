package dev.nimbus.hypervisor;

/**
 * One CPUID leaf/subleaf: the fields of KVM's {@code struct kvm_cpuid_entry2}.
 *
 * @param function leaf (EAX input)
 * @param index subleaf (ECX input); meaningful only with {@link #KVM_CPUID_FLAG_SIGNIFCANT_INDEX}
 * @param flags KVM_CPUID_FLAG_ bits
 * @param eax output EAX
 * @param ebx output EBX
 * @param ecx output ECX
 * @param edx output EDX
 */
public record CpuidEntry(int function, int index, int flags, int eax, int ebx, int ecx,
        int edx) {
    /** The subleaf index selects the entry (spelled as in linux/kvm.h). */
    public static final int KVM_CPUID_FLAG_SIGNIFCANT_INDEX = 1;

    /** Whether this entry answers CPUID({@code function}, {@code index}). */
    public boolean matches(int function, int index) {
        return this.function == function
                && ((flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) == 0 || this.index == index);
    }

    /** This entry with EAX replaced by {@code v}. */
    public CpuidEntry withEax(int v) {
        return new CpuidEntry(function, index, flags, v, ebx, ecx, edx);
    }

    /** This entry with EBX replaced by {@code v}. */
    public CpuidEntry withEbx(int v) {
        return new CpuidEntry(function, index, flags, eax, v, ecx, edx);
    }

    /** This entry with ECX replaced by {@code v}. */
    public CpuidEntry withEcx(int v) {
        return new CpuidEntry(function, index, flags, eax, ebx, v, edx);
    }

    /** This entry with EDX replaced by {@code v}. */
    public CpuidEntry withEdx(int v) {
        return new CpuidEntry(function, index, flags, eax, ebx, ecx, v);
    }

    @Override
    public String toString() {
        return String.format("CpuidEntry[0x%08x.%d flags=%d eax=0x%08x ebx=0x%08x ecx=0x%08x"
                + " edx=0x%08x]", function, index, flags, eax, ebx, ecx, edx);
    }
}
