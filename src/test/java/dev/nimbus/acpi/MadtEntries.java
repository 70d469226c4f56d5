package dev.nimbus.acpi;

import static dev.nimbus.acpi.GuestTables.u16;
import static dev.nimbus.acpi.GuestTables.u32;
import static dev.nimbus.acpi.GuestTables.u8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;

/** The interrupt controller structures of a MADT, decoded per ACPI 6.5 section 5.2.12. */
final class MadtEntries {
    record Processor(int type, long uid, long apicId, long flags) {
    }

    record IoApic(int id, long address, long gsiBase) {
    }

    record Override(int bus, int source, long gsi, int flags) {
    }

    record Nmi(int type, long uid, int flags, int lint) {
    }

    final long localApicAddress;
    final long flags;
    final List<Processor> processors = new ArrayList<>();
    final List<IoApic> ioApics = new ArrayList<>();
    final List<Override> overrides = new ArrayList<>();
    final List<Nmi> nmis = new ArrayList<>();

    MadtEntries(byte[] madt) {
        localApicAddress = u32(madt, 36);
        flags = u32(madt, 40);
        int off = 44;
        while (off < madt.length) {
            int type = u8(madt, off);
            int len = u8(madt, off + 1);
            switch (type) {
                case 0 -> {
                    assertEquals(8, len);
                    processors.add(new Processor(type, u8(madt, off + 2), u8(madt, off + 3),
                            u32(madt, off + 4)));
                }
                case 1 -> {
                    assertEquals(12, len);
                    ioApics.add(new IoApic(u8(madt, off + 2), u32(madt, off + 4),
                            u32(madt, off + 8)));
                }
                case 2 -> {
                    assertEquals(10, len);
                    overrides.add(new Override(u8(madt, off + 2), u8(madt, off + 3),
                            u32(madt, off + 4), u16(madt, off + 8)));
                }
                case 4 -> {
                    assertEquals(6, len);
                    nmis.add(new Nmi(type, u8(madt, off + 2), u16(madt, off + 3),
                            u8(madt, off + 5)));
                }
                case 9 -> {
                    assertEquals(16, len);
                    assertEquals(0, u16(madt, off + 2), "x2APIC reserved bytes");
                    processors.add(new Processor(type, u32(madt, off + 12), u32(madt, off + 4),
                            u32(madt, off + 8)));
                }
                case 10 -> {
                    assertEquals(12, len);
                    nmis.add(new Nmi(type, u32(madt, off + 4), u16(madt, off + 2),
                            u8(madt, off + 8)));
                }
                default -> fail("unexpected MADT structure type " + type + " at " + off);
            }
            off += len;
        }
        assertEquals(madt.length, off, "MADT structures end with the table");
    }
}
