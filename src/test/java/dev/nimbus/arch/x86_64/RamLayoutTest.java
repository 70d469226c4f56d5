package dev.nimbus.arch.x86_64;

import static dev.nimbus.arch.x86_64.E820Entry.E820_RAM;
import static dev.nimbus.arch.x86_64.E820Entry.E820_RESERVED;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class RamLayoutTest {
    private static final long MIB = 1L << 20;
    private static final long GIB = 1L << 30;
    private static final E820Entry LOW = new E820Entry(0, 0xA0000, E820_RAM);
    private static final E820Entry ECAM =
            new E820Entry(0xE800_0000L, 256 * MIB, E820_RESERVED);

    @Test
    void guestOf128MibIsOneRangeFromZero() {
        RamLayout l = RamLayout.of(128 * MIB);
        assertEquals(List.of(new RamRange(0, 128 * MIB)), l.ramRanges());
        assertEquals(List.of(LOW, new E820Entry(MIB, 127 * MIB, E820_RAM), ECAM), l.e820());
        assertEquals(128 * MIB, l.lowRamEnd());
        assertEquals(128 * MIB, l.ramEnd());
    }

    @Test
    void guestOf1GibIsOneRangeFromZero() {
        RamLayout l = RamLayout.of(GIB);
        assertEquals(List.of(new RamRange(0, GIB)), l.ramRanges());
        assertEquals(List.of(LOW, new E820Entry(MIB, GIB - MIB, E820_RAM), ECAM), l.e820());
    }

    @Test
    void guestOf3584MibSplitsAtThe32BitHole() {
        RamLayout l = RamLayout.of(3584 * MIB);
        assertEquals(List.of(new RamRange(0, 3 * GIB), new RamRange(4 * GIB, 512 * MIB)),
                l.ramRanges());
        assertEquals(List.of(LOW,
                new E820Entry(MIB, 3 * GIB - MIB, E820_RAM),
                new E820Entry(4 * GIB, 512 * MIB, E820_RAM),
                ECAM), l.e820());
        assertEquals(3 * GIB, l.lowRamEnd());
        assertEquals(4 * GIB + 512 * MIB, l.ramEnd());
    }

    @Test
    void guestOf6GibPutsThreeGibAbove4Gib() {
        RamLayout l = RamLayout.of(6 * GIB);
        assertEquals(List.of(new RamRange(0, 3 * GIB), new RamRange(4 * GIB, 3 * GIB)),
                l.ramRanges());
        assertEquals(List.of(LOW,
                new E820Entry(MIB, 3 * GIB - MIB, E820_RAM),
                new E820Entry(4 * GIB, 3 * GIB, E820_RAM),
                ECAM), l.e820());
        assertEquals(7 * GIB, l.ramEnd());
    }

    @Test
    void exactly3GibNeedsNoHighRange() {
        RamLayout l = RamLayout.of(3 * GIB);
        assertEquals(List.of(new RamRange(0, 3 * GIB)), l.ramRanges());
        assertEquals(3, l.e820().size());
    }

    @Test
    void ramRangesNeverTouchTheDeviceHole() {
        for (long size : new long[] {128 * MIB, GIB, 3584 * MIB, 6 * GIB, 64 * GIB}) {
            for (RamRange r : RamLayout.of(size).ramRanges()) {
                boolean below = r.end() <= Layout.MEM_32BIT_RESERVED_START;
                boolean above = r.gpa() >= Layout.RAM_64BIT_START;
                assertEquals(true, below || above, "size=" + size + " range=" + r);
            }
            long total = RamLayout.of(size).ramRanges().stream().mapToLong(RamRange::size).sum();
            assertEquals(size, total);
        }
    }

    @Test
    void rangePairsMatchRanges() {
        List<long[]> pairs = RamLayout.of(6 * GIB).ramRangePairs();
        assertArrayEquals(new long[] {0, 3 * GIB}, pairs.get(0));
        assertArrayEquals(new long[] {4 * GIB, 3 * GIB}, pairs.get(1));
    }

    @Test
    void guestSmallerThan640KibHasOnlyLowRam() {
        RamLayout l = RamLayout.of(512 * 1024);
        assertEquals(List.of(new E820Entry(0, 512 * 1024, E820_RAM), ECAM), l.e820());
    }

    @Test
    void sizeMustBePositiveWholePages() {
        assertThrows(IllegalArgumentException.class, () -> RamLayout.of(0));
        assertThrows(IllegalArgumentException.class, () -> RamLayout.of(-4096));
        assertThrows(IllegalArgumentException.class, () -> RamLayout.of(MIB + 1));
    }

    @Test
    void layoutConstantsMatchTheDeviceMap() {
        assertEquals(0xE800_0000L, Layout.PCI_MMCONFIG_START);
        assertEquals(0xF800_0000L, Layout.KVM_TSS_START);
        assertEquals(0xF800_3000L, Layout.KVM_IDENTITY_MAP_START);
        assertEquals(Layout.RAM_64BIT_START,
                Layout.MEM_32BIT_RESERVED_START + Layout.MEM_32BIT_RESERVED_SIZE + 128 * MIB);
        // Page tables, zero page and stack must not overlap one another or the command line.
        assertEquals(true, Layout.PDE_START + 4 * 4096 <= Layout.CMDLINE_START);
        assertEquals(true,
                Layout.ZERO_PAGE_START + Layout.ZERO_PAGE_SIZE <= Layout.BOOT_STACK_START);
        assertEquals(true, Layout.MODLIST_START + 32 <= Layout.MEMMAP_START);
    }
}
