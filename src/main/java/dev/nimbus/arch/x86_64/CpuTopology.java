package dev.nimbus.arch.x86_64;

/**
 * The guest CPU topology and the APIC ID of each vCPU.
 *
 * <p>An x2APIC ID packs the thread, core, die and package numbers into bit fields, each as
 * wide as its count needs rounded up to a power of two (Intel SDM vol. 3, 10.12.8; the same
 * scheme CPUID leaves 0xB and 0x1F describe). vCPU indexes count threads first, then cores,
 * dies and packages. With one thread per core and a single die and package (the default,
 * {@link #flat}), the APIC ID of every vCPU equals its index.
 *
 * @param threadsPerCore threads per core
 * @param coresPerDie cores per die
 * @param diesPerPackage dies per package
 * @param packages packages (sockets)
 */
public record CpuTopology(int threadsPerCore, int coresPerDie, int diesPerPackage,
        int packages) {
    /** APIC IDs above this do not fit xAPIC mode's 8-bit ID with 0xFF kept for broadcast. */
    public static final int MAX_XAPIC_ID = 254;

    public CpuTopology {
        if (threadsPerCore < 1 || coresPerDie < 1 || diesPerPackage < 1 || packages < 1
                || (long) threadsPerCore * coresPerDie * diesPerPackage * packages > 0xFFFF) {
            throw new IllegalArgumentException(String.format(
                    "Bad CPU topology: threads_per_core=%d cores_per_die=%d"
                            + " dies_per_package=%d packages=%d",
                    threadsPerCore, coresPerDie, diesPerPackage, packages));
        }
    }

    /** One package, one die, one thread per core, {@code vcpus} cores: CH's default. */
    public static CpuTopology flat(int vcpus) {
        return new CpuTopology(1, vcpus, 1, 1);
    }

    /** Logical processors in one package. */
    public int threadsPerPackage() {
        return threadsPerCore * coresPerDie * diesPerPackage;
    }

    /** Total logical processors. */
    public int vcpus() {
        return threadsPerPackage() * packages;
    }

    /** APIC ID bits for the thread number. */
    public int threadWidth() {
        return bitsFor(threadsPerCore);
    }

    /** APIC ID bits for thread and core numbers together (the shift to the die number). */
    public int coreWidth() {
        return threadWidth() + bitsFor(coresPerDie);
    }

    /** APIC ID bits for thread, core and die numbers (the shift to the package number). */
    public int dieWidth() {
        return coreWidth() + bitsFor(diesPerPackage);
    }

    /** The x2APIC ID of vCPU {@code index}. */
    public int apicId(int index) {
        int thread = index % threadsPerCore;
        int core = index / threadsPerCore % coresPerDie;
        int die = index / (threadsPerCore * coresPerDie) % diesPerPackage;
        int pkg = index / threadsPerPackage();
        return thread | core << threadWidth() | die << coreWidth() | pkg << dieWidth();
    }

    /** Core number of vCPU {@code index} within its package (all dies counted). */
    public int coreInPackage(int index) {
        return index / threadsPerCore % (coresPerDie * diesPerPackage);
    }

    /** Die number of vCPU {@code index} counted over all packages. */
    public int globalDie(int index) {
        return index / (threadsPerCore * coresPerDie);
    }

    /** The highest APIC ID any vCPU gets. */
    public int maxApicId() {
        return apicId(vcpus() - 1);
    }

    /**
     * Whether vCPUs must start in x2APIC mode (APIC base MSR bit 10): needed once an APIC ID
     * exceeds 254, since xAPIC mode cannot address it.
     */
    public boolean requiresX2apicMode() {
        return maxApicId() > MAX_XAPIC_ID;
    }

    private static int bitsFor(int count) {
        return 32 - Integer.numberOfLeadingZeros(count - 1);
    }
}
