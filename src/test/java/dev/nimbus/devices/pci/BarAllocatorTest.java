package dev.nimbus.devices.pci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class BarAllocatorTest {
    private final BarAllocator window = new BarAllocator(0xC000_0000L, 0xE800_0000L);

    @Test
    void allocationsAreAlignedAndDoNotOverlap() {
        assertEquals(0xC000_0000L, window.allocate(0x1000, 0x1000).getAsLong());
        assertEquals(0xC080_0000L, window.allocate(0x80000, 0x80_0000).getAsLong());
        assertEquals(0xC000_1000L, window.allocate(0x1000, 0x1000).getAsLong(),
                "first fit fills the gap below");
        assertEquals(0xC008_0000L, window.allocate(0x80000, 0x80000).getAsLong());
    }

    @Test
    void freedRangesAreReused() {
        long a = window.allocate(0x10_0000, 0x10_0000).getAsLong();
        window.allocate(0x10_0000, 0x10_0000);
        assertTrue(window.free(a));
        assertFalse(window.free(a));
        assertEquals(a, window.allocate(0x10_0000, 0x10_0000).getAsLong());
    }

    @Test
    void aFullWindowRefuses() {
        assertTrue(window.allocate(0x2800_0000L, 0x1000).isPresent());
        assertTrue(window.allocate(0x1000, 0x1000).isEmpty());
    }

    @Test
    void reserveTakesExactRangesInsideTheWindowOnly() {
        assertTrue(window.reserve(0xD000_0000L, 0x1000));
        assertFalse(window.reserve(0xD000_0800L, 0x1000), "overlaps");
        assertFalse(window.reserve(0xCFFF_F800L, 0x1000), "overlaps from below");
        assertFalse(window.reserve(0xE7FF_F000L, 0x2000), "leaves the window");
        assertFalse(window.reserve(0xFFFF_FFFF_FFFF_F000L, 0x2000), "wraps");
        assertTrue(window.reserve(0xD000_1000L, 0x1000), "adjacent is fine");
    }
}
