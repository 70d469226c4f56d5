package dev.nimbus.acpi;

import java.util.List;

/**
 * The PCI Express memory-mapped configuration table, signature MCFG (PCI Firmware
 * Specification 3.2, section 4.1.2): one ECAM area per PCI segment.
 */
public final class Mcfg {
    public static final int REVISION = 1;

    /** Size of one configuration space base address allocation structure. */
    public static final int ENTRY_SIZE = 16;

    /** Offset of the first entry: the header and 8 reserved bytes. */
    public static final int ENTRIES_OFFSET = Sdt.HEADER_SIZE + 8;

    private Mcfg() {
    }

    /** The MCFG describing {@code segments}. */
    public static Sdt build(List<PciSegment> segments) {
        Sdt mcfg = new Sdt("MCFG", REVISION);
        ByteBuilder b = mcfg.bytes().zeros(8);
        for (PciSegment s : segments) {
            // The base address is that of bus 0 even when the segment starts at a later bus.
            b.u64(s.ecamBase()).u16(s.id()).u8(s.busStart()).u8(s.busEnd()).u32(0);
        }
        return mcfg;
    }
}
