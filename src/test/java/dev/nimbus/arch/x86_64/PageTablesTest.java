package dev.nimbus.arch.x86_64;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.nimbus.memory.GuestMemory;
import org.junit.jupiter.api.Test;

class PageTablesTest {
    @Test
    void identityMapsLow4GibWith2MibPages() {
        try (GuestMemory mem = TestGuest.memory(RamLayout.of(1 << 20))) {
            mem.writeLong(Layout.PML4_START + 8, -1);
            mem.writeLong(Layout.PDPTE_START + 8 * 4, -1);
            PageTables.writeIdentityMap(mem);

            assertEquals(0xB003L, mem.readLong(Layout.PML4_START));
            for (int i = 1; i < 512; i++) {
                assertEquals(0, mem.readLong(Layout.PML4_START + 8L * i), "PML4 entry " + i);
            }
            for (int d = 0; d < 4; d++) {
                assertEquals(0xC003L + 0x1000L * d, mem.readLong(Layout.PDPTE_START + 8L * d));
            }
            for (int i = 4; i < 512; i++) {
                assertEquals(0, mem.readLong(Layout.PDPTE_START + 8L * i), "PDPT entry " + i);
            }
            // Walk every page directory entry: PD d, entry i maps (d * 512 + i) * 2 MiB.
            for (int d = 0; d < 4; d++) {
                for (int i = 0; i < 512; i++) {
                    long pde = mem.readLong(Layout.PDE_START + 0x1000L * d + 8L * i);
                    long gpa = (512L * d + i) << 21;
                    assertEquals(gpa | 0x83, pde, "PD " + d + " entry " + i);
                }
            }
        }
    }

    @Test
    void translationOfHighAddressesLandsOnThemselves() {
        try (GuestMemory mem = TestGuest.memory(RamLayout.of(1 << 20))) {
            PageTables.writeIdentityMap(mem);
            for (long va : new long[] {0, 0x7000, 0x100_0000, 0xBFFF_F000L, 0xFEE0_0000L,
                    0xFFFF_FFFFL}) {
                long pml4e = mem.readLong(Layout.PML4_START + 8 * ((va >>> 39) & 511));
                long pdpte = mem.readLong((pml4e & ~0xFFFL) + 8 * ((va >>> 30) & 511));
                long pde = mem.readLong((pdpte & ~0xFFFL) + 8 * ((va >>> 21) & 511));
                assertEquals(0x80, pde & 0x80, "large page for 0x" + Long.toHexString(va));
                long pa = (pde & ~0x1F_FFFFL & 0xF_FFFF_FFFF_F000L) | (va & 0x1F_FFFF);
                assertEquals(va, pa);
            }
        }
    }
}
