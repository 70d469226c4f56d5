package dev.nimbus.arch.x86_64;

import dev.nimbus.hypervisor.CpuidEntry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CpuidTest {
    private static final List<CpuidEntry> INTEL = CpuidFixtures.intelSapphireRapids();
    private static final List<CpuidEntry> AMD = CpuidFixtures.amdEpyc();

    private static CpuidEntry get(List<CpuidEntry> entries, int function, int index) {
        CpuidEntry e = Cpuid.find(entries, function, index);
        assertNotNull(e, String.format("leaf 0x%x.%d", function, index));
        return e;
    }

    private static List<CpuidEntry> leaf(List<CpuidEntry> entries, int function) {
        return entries.stream().filter(e -> e.function() == function).toList();
    }

    @Test
    void fixturesHaveTheVendorsTheyClaim() {
        assertEquals(CpuVendor.INTEL, CpuVendor.of(get(INTEL, 0, 0)));
        assertEquals(CpuVendor.AMD, CpuVendor.of(get(AMD, 0, 0)));
        assertEquals(CpuVendor.AMD, CpuVendor.of(
                new CpuidEntry(0, 0, 0, 0xD, 0x6F677948, 0x656E6975, 0x6E65476E)));
        assertEquals(CpuVendor.OTHER, CpuVendor.of(new CpuidEntry(0, 0, 0, 0xD, 1, 2, 3)));
    }

    @Test
    void leaf1CarriesApicIdCountAndHypervisorBits() {
        CpuidEntry in = get(INTEL, 1, 0);
        List<CpuidEntry> out = Cpuid.forVcpu(INTEL, CpuTopology.flat(4), 46, 2);
        CpuidEntry e = get(out, 1, 0);
        assertEquals(in.eax(), e.eax());
        assertEquals(2, e.ebx() >>> 24); // initial APIC ID
        assertEquals(4, (e.ebx() >>> 16) & 0xFF); // logical processors per package
        assertEquals(in.ebx() & 0xFFFF, e.ebx() & 0xFFFF); // CLFLUSH size, brand index
        assertEquals(in.ecx() | 1 << 31 | 1 << 24, e.ecx()); // hypervisor, TSC-deadline
        assertEquals(in.edx() | 1 << 28 | 1 << 12, e.edx()); // HTT, MTRR
    }

    @Test
    void everyVcpuGetsItsOwnApicId() {
        CpuTopology t = new CpuTopology(2, 3, 1, 2);
        for (int i = 0; i < t.vcpus(); i++) {
            List<CpuidEntry> out = Cpuid.forVcpu(INTEL, t, 46, i);
            int id = t.apicId(i);
            assertEquals(id, get(out, 1, 0).ebx() >>> 24);
            for (CpuidEntry e : leaf(out, 0xB)) {
                assertEquals(id, e.edx());
            }
            for (CpuidEntry e : leaf(out, 0x1F)) {
                assertEquals(id, e.edx());
            }
        }
    }

    @Test
    void leafBDescribesSmtAndCoreLevels() {
        // 2 threads x 3 cores x 2 dies: thread width 1, package width 1 + 2 + 1 = 4.
        CpuTopology t = new CpuTopology(2, 3, 2, 1);
        List<CpuidEntry> b = leaf(Cpuid.forVcpu(INTEL, t, 46, 7), 0xB);
        int id = t.apicId(7);
        assertEquals(List.of(
                new CpuidEntry(0xB, 0, 1, 1, 2, 0x100, id),
                new CpuidEntry(0xB, 1, 1, 4, 12, 0x201, id),
                new CpuidEntry(0xB, 2, 1, 0, 0, 0x002, id)), b);
    }

    @Test
    void leaf1FDescribesSmtCoreAndDieLevels() {
        CpuTopology t = new CpuTopology(2, 3, 2, 1);
        List<CpuidEntry> v2 = leaf(Cpuid.forVcpu(INTEL, t, 46, 7), 0x1F);
        int id = t.apicId(7);
        assertEquals(List.of(
                new CpuidEntry(0x1F, 0, 1, 1, 2, 0x100, id),
                new CpuidEntry(0x1F, 1, 1, 3, 6, 0x201, id),
                new CpuidEntry(0x1F, 2, 1, 4, 12, 0x502, id),
                new CpuidEntry(0x1F, 3, 1, 0, 0, 0x003, id)), v2);
    }

    @Test
    void topologyLeavesOnlyWhereTheMaximumLeafReaches() {
        // The AMD set stops at leaf 0x1C: 0xB is rewritten, 0x1F is not invented.
        List<CpuidEntry> out = Cpuid.forVcpu(AMD, CpuTopology.flat(4), 46, 3);
        assertEquals(3, leaf(out, 0xB).size());
        assertEquals(0, leaf(out, 0x1F).size());
    }

    @Test
    void topologyLeafIsAddedWhenKvmLeftItOut() {
        List<CpuidEntry> without = INTEL.stream().filter(e -> e.function() != 0xB).toList();
        List<CpuidEntry> out = Cpuid.forVcpu(without, CpuTopology.flat(2), 46, 1);
        assertEquals(new CpuidEntry(0xB, 1, 1, 1, 2, 0x201, 1), get(out, 0xB, 1));
    }

    @Test
    void cacheSharingIsClampedToOneDieAndCoreIdsFollowTheGuest() {
        // 4 single-thread cores: one die spans 2 ID bits, so at most 3 + 1 sharers.
        List<CpuidEntry> out = Cpuid.forVcpu(INTEL, CpuTopology.flat(4), 46, 0);
        CpuidEntry l1d = get(out, 4, 0);
        assertEquals(1, (l1d.eax() >>> 14) & 0xFFF); // host: 2 threads share, kept
        assertEquals(3, l1d.eax() >>> 26); // 4 core IDs per package
        assertEquals(get(INTEL, 4, 0).eax() & 0x3FFF, l1d.eax() & 0x3FFF);
        CpuidEntry l3 = get(out, 4, 3);
        assertEquals(3, (l3.eax() >>> 14) & 0xFFF); // host said 128 sharers
        assertEquals(get(INTEL, 4, 3).ebx(), l3.ebx());
        assertEquals(get(INTEL, 4, 4), get(out, 4, 4)); // the null terminator stays

        CpuTopology big = new CpuTopology(2, 8, 2, 1);
        CpuidEntry l3big = get(Cpuid.forVcpu(INTEL, big, 46, 0), 4, 3);
        assertEquals(15, (l3big.eax() >>> 14) & 0xFFF); // 16 IDs in a die
        assertEquals(15, l3big.eax() >>> 26); // 16 core IDs in the package
    }

    @Test
    void physicalAddressBitsAreCappedNotRaised() {
        CpuidEntry capped = get(Cpuid.forVcpu(INTEL, CpuTopology.flat(1), 40, 0), 0x8000_0008, 0);
        assertEquals(40, capped.eax() & 0xFF);
        assertEquals(40, (capped.eax() >>> 16) & 0xFF);
        assertEquals(0x30, (capped.eax() >>> 8) & 0xFF); // linear address bits untouched
        CpuidEntry host = get(Cpuid.forVcpu(INTEL, CpuTopology.flat(1), 52, 0), 0x8000_0008, 0);
        assertEquals(46, host.eax() & 0xFF);
        assertEquals(0, host.ecx()); // Intel: no AMD core count
    }

    @Test
    void kvmSignatureLeavesPassThrough() {
        for (List<CpuidEntry> set : List.of(INTEL, AMD)) {
            List<CpuidEntry> out = Cpuid.forVcpu(set, CpuTopology.flat(8), 46, 5);
            assertEquals(get(set, 0x4000_0000, 0), get(out, 0x4000_0000, 0));
            assertEquals(get(set, 0x4000_0001, 0), get(out, 0x4000_0001, 0));
        }
    }

    @Test
    void leavesOutsideTheTransformAreUnchanged() {
        Set<Integer> touched = Set.of(1, 4, 0xB, 0x1F, 0x8000_0001, 0x8000_0008,
                0x8000_001D, 0x8000_001E);
        for (List<CpuidEntry> set : List.of(INTEL, AMD)) {
            List<CpuidEntry> out = Cpuid.forVcpu(set, new CpuTopology(2, 2, 1, 1), 46, 3);
            for (CpuidEntry e : set) {
                if (!touched.contains(e.function())) {
                    assertEquals(e, get(out, e.function(), e.index()));
                }
            }
            long kept = out.stream().filter(e -> !touched.contains(e.function())).count();
            long had = set.stream().filter(e -> !touched.contains(e.function())).count();
            assertEquals(had, kept);
        }
    }

    @Test
    void intelGetsNoAmdTopologyLeaf() {
        assertNull(Cpuid.find(Cpuid.forVcpu(INTEL, CpuTopology.flat(2), 46, 0),
                0x8000_001E, 0));
    }

    @Test
    void amdCoreCountAndApicIdSize() {
        // 2 threads x 3 cores, 2 packages; vCPU 7 is thread 1 of core 0 in package 1.
        CpuTopology t = new CpuTopology(2, 3, 1, 2);
        assertEquals(9, t.apicId(7));
        List<CpuidEntry> out = Cpuid.forVcpu(AMD, t, 46, 7);
        CpuidEntry sizes = get(out, 0x8000_0008, 0);
        assertEquals(0x002E_302E, sizes.eax()); // host 48 bits capped to 46
        assertEquals(3 << 12 | 5, sizes.ecx()); // ApicIdSize 3, NC = 6 - 1
        CpuidEntry leaf1 = get(out, 1, 0);
        assertEquals(9, leaf1.ebx() >>> 24);
        assertEquals(6, (leaf1.ebx() >>> 16) & 0xFF);
    }

    @Test
    void amdTopologyLeaf8000001E() {
        CpuTopology t = new CpuTopology(2, 3, 2, 2); // 24 vCPUs
        // vCPU 17 is the 6th of package 1: thread 1 of core 2 on die 0, die 2 overall.
        List<CpuidEntry> out = Cpuid.forVcpu(AMD, t, 46, 17);
        CpuidEntry e = get(out, 0x8000_001E, 0);
        assertEquals(t.apicId(17), e.eax());
        assertEquals(1 << 8 | 2, e.ebx()); // 2 threads per core; core 2 in the package
        assertEquals(1 << 8 | 2, e.ecx()); // 2 nodes per package; node (die) 2 overall
        assertEquals(0, e.edx());
        assertEquals(1, leaf(out, 0x8000_001E).size());
    }

    @Test
    void amdCmpLegacyOnlyWithSeveralThreadsPerPackage() {
        List<CpuidEntry> cleared = new ArrayList<>();
        for (CpuidEntry e : AMD) {
            cleared.add(e.function() == 0x8000_0001 ? e.withEcx(e.ecx() & ~2) : e);
        }
        assertEquals(2, get(Cpuid.forVcpu(cleared, CpuTopology.flat(2), 46, 0), 0x8000_0001, 0)
                .ecx() & 2);
        assertEquals(0, get(Cpuid.forVcpu(cleared, CpuTopology.flat(1), 46, 0), 0x8000_0001, 0)
                .ecx() & 2);
    }

    @Test
    void amdCacheSharingIsClampedToOneDie() {
        // The host L3 (0x8000001D.3) is shared by 2; a one-vCPU guest shares it with nobody.
        CpuidEntry in = get(AMD, 0x8000_001D, 3);
        CpuidEntry out = get(Cpuid.forVcpu(AMD, CpuTopology.flat(1), 46, 0), 0x8000_001D, 3);
        assertEquals(1, (in.eax() >>> 14) & 0xFFF);
        assertEquals(0, (out.eax() >>> 14) & 0xFFF);
        assertEquals(in.eax() & 0x3FFF, out.eax() & 0x3FFF);
    }

    @Test
    void processorCountSaturatesAt255() {
        CpuTopology t = new CpuTopology(2, 200, 1, 1);
        assertEquals(0xFF, (get(Cpuid.forVcpu(INTEL, t, 46, 0), 1, 0).ebx() >>> 16) & 0xFF);
    }

    @Test
    void badArguments() {
        assertThrows(IllegalArgumentException.class,
                () -> Cpuid.forVcpu(INTEL, CpuTopology.flat(2), 46, 2));
        assertThrows(IllegalArgumentException.class,
                () -> Cpuid.forVcpu(INTEL, CpuTopology.flat(2), 46, -1));
        assertThrows(IllegalArgumentException.class,
                () -> Cpuid.forVcpu(INTEL.subList(1, INTEL.size()), CpuTopology.flat(2), 46, 0));
        assertThrows(IllegalArgumentException.class,
                () -> Cpuid.forVcpu(INTEL, CpuTopology.flat(2), 0, 0));
    }
}
