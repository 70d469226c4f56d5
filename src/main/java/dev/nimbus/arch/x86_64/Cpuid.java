package dev.nimbus.arch.x86_64;

import dev.nimbus.hypervisor.CpuidEntry;

import static dev.nimbus.hypervisor.CpuidEntry.KVM_CPUID_FLAG_SIGNIFCANT_INDEX;

import java.util.ArrayList;
import java.util.List;

/**
 * Turns the CPUID entries KVM supports (KVM_GET_SUPPORTED_CPUID) into the entries one vCPU
 * gets (KVM_SET_CPUID2): its APIC ID and the guest topology in the identification and
 * topology leaves, the hypervisor bit, TSC-deadline and MTRR, and the physical address width
 * capped at {@code max_phys_bits}. Leaves not named below pass through as KVM reports them,
 * the KVM signature and feature leaves 0x40000000/0x40000001 among them.
 *
 * <p>Bit positions follow the Intel SDM vol. 2A (CPUID) and the AMD APM vol. 3 (appendix E).
 */
// TODO: KVM_FEATURE_MSI_EXT_DEST_ID (0x40000001 EAX bit 15) is not set, because it lets guests
// address APIC IDs above 254 with MSIs only if the MSI routing honours extended destination
// IDs; until it does, guests with more than 255 vCPUs need interrupt remapping.
// TODO: no TSC frequency leaf (0x40000010) and no nested=off (clearing VMX/SVM): both need
// facts from the vCPU or the config that this transform does not take yet.
public final class Cpuid {
    private Cpuid() {}

    // Leaf 0x1.
    static final int LEAF_FEATURES = 0x1;
    /** ECX bit 24: TSC-deadline timer mode (KVM emulates it on every host). */
    static final int ECX_TSC_DEADLINE = 1 << 24;
    /** ECX bit 31: running under a hypervisor. */
    static final int ECX_HYPERVISOR = 1 << 31;
    /** EDX bit 12: MTRRs, which the boot MSRs program. */
    static final int EDX_MTRR = 1 << 12;
    /** EDX bit 28: EBX[23:16] holds the logical processor count. */
    static final int EDX_HTT = 1 << 28;

    // Cache leaves 0x4 (Intel) and 0x8000001D (AMD): EAX fields.
    static final int LEAF_CACHE_INTEL = 0x4;
    static final int LEAF_CACHE_AMD = 0x8000_001D;
    static final int CACHE_TYPE_MASK = 0x1F;
    static final int CACHE_SHARING_SHIFT = 14;
    static final int CACHE_SHARING_MASK = 0xFFF;
    static final int CACHE_CORE_IDS_SHIFT = 26;
    static final int CACHE_CORE_IDS_MASK = 0x3F;

    // Topology leaves 0xB and 0x1F: level types in ECX[15:8].
    static final int LEAF_TOPOLOGY = 0xB;
    static final int LEAF_TOPOLOGY_V2 = 0x1F;
    static final int LEVEL_INVALID = 0;
    static final int LEVEL_SMT = 1;
    static final int LEVEL_CORE = 2;
    static final int LEVEL_DIE = 5;

    // Extended leaves.
    static final int LEAF_EXT_MAX = 0x8000_0000;
    static final int LEAF_EXT_FEATURES = 0x8000_0001;
    /** 0x80000001 ECX bit 1 (AMD CmpLegacy): HTT and the processor count describe cores. */
    static final int ECX_CMP_LEGACY = 1 << 1;
    static final int LEAF_ADDRESS_SIZES = 0x8000_0008;
    /** 0x80000008 ECX (AMD): ApicIdSize at [15:12], NC (threads per package - 1) at [7:0]. */
    static final int ECX_APIC_ID_SIZE_SHIFT = 12;
    static final int ECX_APIC_ID_SIZE_MASK = 0xF << ECX_APIC_ID_SIZE_SHIFT;
    static final int ECX_NC_MASK = 0xFF;
    static final int LEAF_AMD_TOPOLOGY = 0x8000_001E;

    /**
     * The CPUID entries for vCPU {@code vcpuIndex}.
     *
     * @param supported what KVM_GET_SUPPORTED_CPUID returned
     * @param topology the guest topology; gives the vCPU's APIC ID
     * @param maxPhysBits the most physical address bits to show the guest
     * @param vcpuIndex the vCPU, 0 to {@code topology.vcpus() - 1}
     */
    public static List<CpuidEntry> forVcpu(List<CpuidEntry> supported, CpuTopology topology,
            int maxPhysBits, int vcpuIndex) {
        if (vcpuIndex < 0 || vcpuIndex >= topology.vcpus()) {
            throw new IllegalArgumentException(String.format(
                    "vCPU index outside the topology: index=%d vcpus=%d",
                    vcpuIndex, topology.vcpus()));
        }
        if (maxPhysBits < 1) {
            throw new IllegalArgumentException("max_phys_bits must be positive: " + maxPhysBits);
        }
        CpuidEntry leaf0 = find(supported, 0, 0);
        if (leaf0 == null) {
            throw new IllegalArgumentException("Supported CPUID lacks leaf 0");
        }
        CpuVendor vendor = CpuVendor.of(leaf0);
        int maxBasic = leaf0.eax();
        CpuidEntry extMax = find(supported, LEAF_EXT_MAX, 0);
        int maxExtended = extMax == null ? 0 : extMax.eax();
        int apicId = topology.apicId(vcpuIndex);

        List<CpuidEntry> out = new ArrayList<>(supported.size() + 8);
        boolean topologyDone = false;
        boolean topologyV2Done = false;
        boolean amdTopologyDone = false;
        for (CpuidEntry e : supported) {
            switch (e.function()) {
                case LEAF_FEATURES -> out.add(features(e, topology, apicId));
                case LEAF_CACHE_INTEL, LEAF_CACHE_AMD -> out.add(cache(e, topology));
                case LEAF_TOPOLOGY -> {
                    if (!topologyDone && maxBasic >= LEAF_TOPOLOGY) {
                        out.addAll(topologyLeaf(topology, apicId));
                    }
                    topologyDone = true;
                }
                case LEAF_TOPOLOGY_V2 -> {
                    if (!topologyV2Done && maxBasic >= LEAF_TOPOLOGY_V2) {
                        out.addAll(topologyV2Leaf(topology, apicId));
                    }
                    topologyV2Done = true;
                }
                case LEAF_EXT_FEATURES -> out.add(vendor == CpuVendor.AMD
                        && topology.threadsPerPackage() > 1
                        ? e.withEcx(e.ecx() | ECX_CMP_LEGACY) : e);
                case LEAF_ADDRESS_SIZES -> out.add(addressSizes(e, vendor, topology, maxPhysBits));
                case LEAF_AMD_TOPOLOGY -> {
                    if (vendor == CpuVendor.AMD) {
                        out.add(amdTopology(topology, vcpuIndex, apicId));
                        amdTopologyDone = true;
                    } else {
                        out.add(e);
                    }
                }
                default -> out.add(e);
            }
        }
        // KVM may leave out leaves whose content is ours to define; the maximum leaves say
        // whether the guest will look for them.
        if (!topologyDone && maxBasic >= LEAF_TOPOLOGY) {
            out.addAll(topologyLeaf(topology, apicId));
        }
        if (!topologyV2Done && maxBasic >= LEAF_TOPOLOGY_V2) {
            out.addAll(topologyV2Leaf(topology, apicId));
        }
        if (!amdTopologyDone && vendor == CpuVendor.AMD && maxExtended >= LEAF_AMD_TOPOLOGY) {
            out.add(amdTopology(topology, vcpuIndex, apicId));
        }
        return List.copyOf(out);
    }

    /** The entry that answers CPUID({@code function}, {@code index}), or null. */
    public static CpuidEntry find(List<CpuidEntry> entries, int function, int index) {
        for (CpuidEntry e : entries) {
            if (e.matches(function, index)) {
                return e;
            }
        }
        return null;
    }

    /**
     * Leaf 1: initial APIC ID in EBX[31:24], logical processors per package in EBX[23:16]
     * (with HTT to say the count is valid), and the hypervisor, TSC-deadline and MTRR bits.
     */
    private static CpuidEntry features(CpuidEntry e, CpuTopology t, int apicId) {
        int count = Math.min(t.threadsPerPackage(), 0xFF);
        int ebx = (e.ebx() & 0xFFFF) | count << 16 | (apicId & 0xFF) << 24;
        return e.withEbx(ebx)
                .withEcx(e.ecx() | ECX_HYPERVISOR | ECX_TSC_DEADLINE)
                .withEdx(e.edx() | EDX_MTRR | EDX_HTT);
    }

    /**
     * Cache leaves: the host's caches as KVM reports them, but no cache is said to be shared
     * beyond one guest die, since host sharing counts host APIC IDs, not ours. Leaf 4 also
     * gets the guest's core ID count per package.
     */
    private static CpuidEntry cache(CpuidEntry e, CpuTopology t) {
        if ((e.eax() & CACHE_TYPE_MASK) == 0) {
            return e;
        }
        int dieIds = maxIds(t.coreWidth(), CACHE_SHARING_MASK);
        int sharing = Math.min((e.eax() >>> CACHE_SHARING_SHIFT) & CACHE_SHARING_MASK, dieIds);
        int eax = e.eax() & ~(CACHE_SHARING_MASK << CACHE_SHARING_SHIFT)
                | sharing << CACHE_SHARING_SHIFT;
        if (e.function() == LEAF_CACHE_INTEL) {
            int coreIds = maxIds(t.dieWidth() - t.threadWidth(), CACHE_CORE_IDS_MASK);
            eax = eax & ~(CACHE_CORE_IDS_MASK << CACHE_CORE_IDS_SHIFT)
                    | coreIds << CACHE_CORE_IDS_SHIFT;
        }
        return e.withEax(eax);
    }

    /** Leaf 0xB: SMT and core levels, the core level spanning the package. */
    private static List<CpuidEntry> topologyLeaf(CpuTopology t, int apicId) {
        return List.of(
                level(LEAF_TOPOLOGY, 0, LEVEL_SMT, t.threadWidth(), t.threadsPerCore(), apicId),
                level(LEAF_TOPOLOGY, 1, LEVEL_CORE, t.dieWidth(), t.threadsPerPackage(), apicId),
                level(LEAF_TOPOLOGY, 2, LEVEL_INVALID, 0, 0, apicId));
    }

    /** Leaf 0x1F: SMT, core and die levels. */
    private static List<CpuidEntry> topologyV2Leaf(CpuTopology t, int apicId) {
        int threadsPerDie = t.threadsPerCore() * t.coresPerDie();
        return List.of(
                level(LEAF_TOPOLOGY_V2, 0, LEVEL_SMT, t.threadWidth(), t.threadsPerCore(),
                        apicId),
                level(LEAF_TOPOLOGY_V2, 1, LEVEL_CORE, t.coreWidth(), threadsPerDie, apicId),
                level(LEAF_TOPOLOGY_V2, 2, LEVEL_DIE, t.dieWidth(), t.threadsPerPackage(),
                        apicId),
                level(LEAF_TOPOLOGY_V2, 3, LEVEL_INVALID, 0, 0, apicId));
    }

    /**
     * One topology level: EAX[4:0] = shift to the next level's ID, EBX[15:0] = logical
     * processors at this level, ECX = {@code type << 8 | level}, EDX = x2APIC ID.
     */
    private static CpuidEntry level(int leaf, int n, int type, int shift, int count,
            int apicId) {
        return new CpuidEntry(leaf, n, KVM_CPUID_FLAG_SIGNIFCANT_INDEX, shift & 0x1F,
                count & 0xFFFF, type << 8 | n, apicId);
    }

    /**
     * 0x80000008: physical address bits (EAX[7:0]) capped at {@code maxPhysBits}, and the
     * guest physical address size (EAX[23:16]) set to match; on AMD also the thread count
     * (ECX NC) and the APIC ID bits per package (ECX ApicIdSize).
     */
    private static CpuidEntry addressSizes(CpuidEntry e, CpuVendor vendor, CpuTopology t,
            int maxPhysBits) {
        int phys = Math.min(e.eax() & 0xFF, maxPhysBits);
        CpuidEntry r = e.withEax(e.eax() & 0xFF00_FF00 | phys | phys << 16);
        if (vendor == CpuVendor.AMD) {
            int nc = Math.min(t.threadsPerPackage() - 1, ECX_NC_MASK);
            int ecx = e.ecx() & ~(ECX_APIC_ID_SIZE_MASK | ECX_NC_MASK)
                    | (t.dieWidth() & 0xF) << ECX_APIC_ID_SIZE_SHIFT | nc;
            r = r.withEcx(ecx);
        }
        return r;
    }

    /**
     * AMD 0x8000001E: EAX = extended APIC ID; EBX = threads per core - 1 at [15:8] and the
     * core (compute unit) number at [7:0]; ECX = nodes per package - 1 at [10:8] and the node
     * number at [7:0], a guest die being a node.
     */
    private static CpuidEntry amdTopology(CpuTopology t, int vcpuIndex, int apicId) {
        int ebx = (t.threadsPerCore() - 1) << 8 | (t.coreInPackage(vcpuIndex) & 0xFF);
        int ecx = ((t.diesPerPackage() - 1) & 0x7) << 8 | (t.globalDie(vcpuIndex) & 0xFF);
        return new CpuidEntry(LEAF_AMD_TOPOLOGY, 0, 0, apicId, ebx, ecx, 0);
    }

    /** A "maximum addressable IDs - 1" field for an ID {@code width} bits wide, capped. */
    private static int maxIds(int width, int mask) {
        return (int) Math.min((1L << width) - 1, mask);
    }
}
