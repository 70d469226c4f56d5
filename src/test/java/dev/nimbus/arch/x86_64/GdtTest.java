package dev.nimbus.arch.x86_64;

import dev.nimbus.hypervisor.Segment;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.nimbus.memory.GuestMemory;
import org.junit.jupiter.api.Test;

class GdtTest {
    // Descriptors assembled by hand from Intel SDM vol. 3 figure 3-8: limit 0xFFFFF in bits
    // 0-15 and 48-51, the access byte in bits 40-47, G/DB/L/AVL in bits 52-55.
    private static final long FLAT_CODE32 = 0x00CF_9B00_0000_FFFFL;
    private static final long FLAT_CODE64 = 0x00AF_9B00_0000_FFFFL;
    private static final long FLAT_DATA = 0x00CF_9300_0000_FFFFL;
    private static final long BUSY_TSS = 0x0000_8B00_0000_0067L;

    @Test
    void protectedModeGdtHasFlat32BitCode() {
        Gdt gdt = Gdt.forMode(EntryMode.PROTECTED_32);
        assertEquals(0, gdt.entry(0));
        assertEquals(FLAT_CODE32, gdt.entry(1));
        assertEquals(FLAT_DATA, gdt.entry(2));
        assertEquals(BUSY_TSS, gdt.entry(3));
    }

    @Test
    void longModeGdtHas64BitCode() {
        Gdt gdt = Gdt.forMode(EntryMode.LONG_64);
        assertEquals(FLAT_CODE64, gdt.entry(1));
        assertEquals(FLAT_DATA, gdt.entry(2));
        assertEquals(BUSY_TSS, gdt.entry(3));
    }

    @Test
    void entryPlacesBaseAndLimitBits() {
        long e = Gdt.entry(0x00_93, 0x1234_5678, 0xABCDE);
        assertEquals(0x1200_0000_0000_0000L, e & 0xFF00_0000_0000_0000L);
        assertEquals(0x0000_0034_5678_0000L, e & 0x0000_00FF_FFFF_0000L);
        assertEquals(0x000A_0000_0000_BCDEL, e & 0x000F_0000_0000_FFFFL);
        Segment s = Gdt.segment(e, 5);
        assertEquals(0x1234_5678L, s.base());
        assertEquals(0xABCDE, s.limit());
        assertEquals(40, s.selector());
    }

    @Test
    void codeSegmentOf32BitEntry() {
        Segment cs = Gdt.forMode(EntryMode.PROTECTED_32).code();
        assertEquals(new Segment(0, 0xFFFF_FFFF, 0x08, 0xB, 1, 0, 1, 1, 0, 1, 0, 0), cs);
    }

    @Test
    void codeSegmentOf64BitEntry() {
        Segment cs = Gdt.forMode(EntryMode.LONG_64).code();
        assertEquals(new Segment(0, 0xFFFF_FFFF, 0x08, 0xB, 1, 0, 0, 1, 1, 1, 0, 0), cs);
    }

    @Test
    void dataAndTaskSegments() {
        Gdt gdt = Gdt.forMode(EntryMode.PROTECTED_32);
        assertEquals(new Segment(0, 0xFFFF_FFFF, 0x10, 0x3, 1, 0, 1, 1, 0, 1, 0, 0), gdt.data());
        assertEquals(new Segment(0, 0x67, 0x18, 0xB, 1, 0, 0, 0, 0, 0, 0, 0), gdt.tss());
    }

    @Test
    void notPresentDescriptorIsUnusable() {
        assertEquals(1, Gdt.segment(0, 0).unusable());
    }

    @Test
    void writePutsDescriptorsAtBootGdtAndZeroIdt() {
        try (GuestMemory mem = TestGuest.memory(RamLayout.of(1 << 20))) {
            mem.writeLong(Layout.BOOT_IDT_START, -1);
            Gdt gdt = Gdt.forMode(EntryMode.LONG_64);
            gdt.write(mem);
            for (int i = 0; i < Gdt.ENTRIES; i++) {
                assertEquals(gdt.entry(i), mem.readLong(Layout.BOOT_GDT_START + 8L * i));
            }
            assertEquals(0, mem.readLong(Layout.BOOT_IDT_START));
            assertEquals(new DescriptorTable(0x500, 31), gdt.gdtr());
            assertEquals(new DescriptorTable(0x520, 7), Gdt.idtr());
        }
    }
}
