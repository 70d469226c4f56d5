package dev.nimbus.arch.x86_64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CpuTopologyTest {
    @Test
    void flatTopologyApicIdIsTheVcpuIndex() {
        for (int n : new int[] {1, 2, 3, 7, 64, 255, 300}) {
            CpuTopology t = CpuTopology.flat(n);
            for (int i = 0; i < n; i++) {
                assertEquals(i, t.apicId(i), "vcpus=" + n + " index=" + i);
            }
        }
    }

    @Test
    void apicIdPacksThreadCoreDieAndPackage() {
        // 2 threads (1 bit), 3 cores (2 bits), 2 dies (1 bit), 2 packages.
        CpuTopology t = new CpuTopology(2, 3, 2, 2);
        assertEquals(1, t.threadWidth());
        assertEquals(3, t.coreWidth());
        assertEquals(4, t.dieWidth());
        assertEquals(0, t.apicId(0));
        assertEquals(0b0_0_10_1, t.apicId(5)); // thread 1, core 2
        assertEquals(0b0_1_00_0, t.apicId(6)); // die 1
        assertEquals(0b0_1_10_1, t.apicId(11));
        assertEquals(0b1_0_00_0, t.apicId(12)); // package 1
        assertEquals(0b1_1_10_1, t.apicId(23));
        assertEquals(29, t.maxApicId());
        assertEquals(24, t.vcpus());
        assertEquals(12, t.threadsPerPackage());
    }

    @Test
    void x2apicModeOnceAnApicIdPasses254() {
        assertFalse(CpuTopology.flat(255).requiresX2apicMode());
        assertTrue(CpuTopology.flat(256).requiresX2apicMode());
        // 240 vCPUs in 80 packages of 3 cores: each package spans 4 IDs, the top one is 318.
        CpuTopology sparse = new CpuTopology(1, 3, 1, 80);
        assertEquals(318, sparse.maxApicId());
        assertTrue(sparse.requiresX2apicMode());
        // 240 vCPUs in 2 packages of 60 two-thread cores: the top ID is 247.
        CpuTopology dense = new CpuTopology(2, 60, 1, 2);
        assertEquals(247, dense.maxApicId());
        assertFalse(dense.requiresX2apicMode());
    }

    @Test
    void countsMustBePositive() {
        assertThrows(IllegalArgumentException.class, () -> new CpuTopology(0, 1, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new CpuTopology(1, 1, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> CpuTopology.flat(0));
    }
}
