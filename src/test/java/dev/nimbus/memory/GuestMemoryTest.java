package dev.nimbus.memory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.List;
import org.junit.jupiter.api.Test;

class GuestMemoryTest {
    @Test
    void accessesAreLittleEndianAndMayBeUnaligned() {
        try (Arena arena = Arena.ofConfined()) {
            GuestMemory mem = GuestMemory.of(List.of(new GuestRegion(0x1000, arena.allocate(64), -1, 0)));
            mem.writeInt(0x1001, 0x11223344);
            assertEquals(0x44, mem.readByte(0x1001));
            assertEquals(0x11223344, mem.readInt(0x1001));
            mem.writeLong(0x1010, 0x0102030405060708L);
            assertEquals(0x0708, mem.readShort(0x1010));
        }
    }

    @Test
    void anAccessOutsideRamOrAcrossAHoleIsRefused() {
        try (Arena arena = Arena.ofConfined()) {
            GuestMemory mem = GuestMemory.of(List.of(
                    new GuestRegion(0, arena.allocate(0x1000), -1, 0),
                    new GuestRegion(0x2000, arena.allocate(0x1000), -1, 0)));
            assertThrows(GuestMemoryException.class, () -> mem.readByte(0x1000));
            assertThrows(GuestMemoryException.class, () -> mem.readInt(0xFFE));
            assertThrows(GuestMemoryException.class, () -> mem.slice(0x2F00, 0x200));
            assertThrows(GuestMemoryException.class, () -> mem.readLong(-8));
            assertThrows(GuestMemoryException.class, () -> mem.slice(0x2000, -1));
            assertTrue(mem.contains(0x2000, 0x1000));
            assertFalse(mem.contains(0x2001, 0x1000));
        }
    }

    @Test
    void memfdBackedRegionsAreSharedAtIncreasingOffsets() throws Exception {
        try (GuestMemory mem = GuestMemory.create(
                List.of(new long[] {0, 1 << 20}, new long[] {1L << 32, 1 << 20}), "test")) {
            assertEquals(2 << 20, mem.totalSize());
            GuestRegion high = mem.regions().get(1);
            assertEquals(1 << 20, high.fdOffset());
            assertTrue(high.fd() >= 0);
            byte[] data = {1, 2, 3};
            mem.write((1L << 32) + 5, data);
            assertArrayEquals(data, mem.read((1L << 32) + 5, 3));
        }
    }

    @Test
    void overlappingRegionsAreRejected() {
        try (Arena arena = Arena.ofConfined()) {
            assertThrows(IllegalArgumentException.class, () -> GuestMemory.of(List.of(
                    new GuestRegion(0, arena.allocate(0x2000), -1, 0),
                    new GuestRegion(0x1000, arena.allocate(0x1000), -1, 0))));
        }
    }
}
