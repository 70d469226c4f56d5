package dev.nimbus.acpi;

import java.util.List;

/**
 * The Multiple APIC Description Table, signature APIC (ACPI 6.5, section 5.2.12): the local
 * APIC of every possible vCPU, the I/O APIC, and how ISA IRQs and NMIs are wired.
 *
 * <p>A vCPU whose APIC id is below 255 gets a Processor Local APIC structure, any other a
 * Processor Local x2APIC structure, as section 5.2.12.12 requires. Boot vCPUs are Enabled; the
 * others up to the maximum are Online Capable, so that the OS reserves room to hot-add them.
 */
public final class Madt {
    /** Revision 5: the first whose Online Capable flag Linux honours. */
    public static final int REVISION = 5;

    public static final long LOCAL_APIC_ADDRESS = 0xFEE0_0000L;
    public static final long IO_APIC_ADDRESS = 0xFEC0_0000L;
    public static final int IO_APIC_ID = 0;
    public static final int IO_APIC_GSI_BASE = 0;

    // Interrupt controller structure types (ACPI 6.5, table 5.21).
    public static final int TYPE_LOCAL_APIC = 0;
    public static final int TYPE_IO_APIC = 1;
    public static final int TYPE_INTERRUPT_SOURCE_OVERRIDE = 2;
    public static final int TYPE_LOCAL_APIC_NMI = 4;
    public static final int TYPE_LOCAL_X2APIC = 9;
    public static final int TYPE_LOCAL_X2APIC_NMI = 10;

    // Local APIC flags (ACPI 6.5, table 5.23).
    public static final int LAPIC_ENABLED = 1 << 0;
    public static final int LAPIC_ONLINE_CAPABLE = 1 << 1;

    /** APIC ids from this value up need x2APIC structures. */
    public static final int X2APIC_ID_MIN = 255;

    /** Processor UID meaning "all processors" in a Local APIC NMI structure. */
    static final int ALL_PROCESSORS_UID8 = 0xFF;

    /** Processor UID meaning "all processors" in a Local x2APIC NMI structure. */
    static final long ALL_PROCESSORS_UID32 = 0xFFFF_FFFFL;

    /** NMI arrives on LINT1 of every local APIC, as on PC hardware. */
    static final int NMI_LINT = 1;

    /** ISA IRQ of the COM1 serial port. */
    static final int SERIAL_IRQ = 4;

    private Madt() {
    }

    /**
     * The MADT for {@code apicIds.size()} possible vCPUs, of which the first {@code bootVcpus}
     * run at boot; {@code apicIds.get(i)} is the APIC id of vCPU {@code i}, whose ACPI
     * processor UID is {@code i}.
     */
    public static Sdt build(int bootVcpus, List<Integer> apicIds) {
        Sdt madt = new Sdt("APIC", REVISION);
        ByteBuilder b = madt.bytes();
        // Flags = 0: no dual 8259 PICs (PCAT_COMPAT clear), the guest has none.
        b.u32(LOCAL_APIC_ADDRESS).u32(0);

        boolean anyX2apic = false;
        for (int uid = 0; uid < apicIds.size(); uid++) {
            byte[] entry = processorEntry(uid, apicIds.get(uid), uid < bootVcpus);
            anyX2apic |= entry[0] == TYPE_LOCAL_X2APIC;
            b.bytes(entry);
        }

        b.u8(TYPE_IO_APIC).u8(12).u8(IO_APIC_ID).u8(0).u32(IO_APIC_ADDRESS)
                .u32(IO_APIC_GSI_BASE);

        // On a hardware-reduced platform Linux assumes no legacy PIC and maps no ISA IRQ to a GSI
        // unless an override names it; the serial port's IRQ 4 goes to GSI 4 with the ISA
        // defaults (flags 0: edge-triggered, active high).
        // There is no override for IRQ 0: the SCI_INT field of a hardware-reduced FADT is 0, and
        // Linux would take an override of IRQ 0 for the SCI's.
        b.u8(TYPE_INTERRUPT_SOURCE_OVERRIDE).u8(10).u8(0).u8(SERIAL_IRQ).u32(SERIAL_IRQ).u16(0);

        b.u8(TYPE_LOCAL_APIC_NMI).u8(6).u8(ALL_PROCESSORS_UID8).u16(0).u8(NMI_LINT);
        if (anyX2apic) {
            b.u8(TYPE_LOCAL_X2APIC_NMI).u8(12).u16(0).u32(ALL_PROCESSORS_UID32).u8(NMI_LINT)
                    .zeros(3);
        }
        return madt;
    }

    /**
     * The processor structure of one vCPU, as the MADT lists it and as its _MAT returns it:
     * Local APIC for APIC ids below 255, Local x2APIC otherwise.
     */
    public static byte[] processorEntry(int uid, int apicId, boolean enabled) {
        int flags = enabled ? LAPIC_ENABLED : LAPIC_ONLINE_CAPABLE;
        ByteBuilder b = new ByteBuilder();
        if (Integer.compareUnsigned(apicId, X2APIC_ID_MIN) < 0) {
            if (uid >= ALL_PROCESSORS_UID8) {
                throw new IllegalArgumentException(
                        "Local APIC entry cannot hold processor UID: uid=" + uid
                                + " apicId=" + apicId);
            }
            b.u8(TYPE_LOCAL_APIC).u8(8).u8(uid).u8(apicId).u32(flags);
        } else {
            if (apicId == -1) {
                throw new IllegalArgumentException("Invalid x2APIC id: apicId=0xffffffff");
            }
            b.u8(TYPE_LOCAL_X2APIC).u8(16).u16(0).u32(Integer.toUnsignedLong(apicId))
                    .u32(flags).u32(uid);
        }
        return b.toByteArray();
    }
}
