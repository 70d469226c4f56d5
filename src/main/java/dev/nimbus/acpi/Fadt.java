package dev.nimbus.acpi;

/**
 * The Fixed ACPI Description Table, signature FACP (ACPI 6.5, section 5.2.9), for a
 * hardware-reduced platform.
 *
 * <p>Hardware-reduced ACPI (section 4.1) has no PM1 event or control blocks and no SCI; the OS
 * powers off through the sleep control register and resets through the reset register, both
 * at {@link #ACPI_SHUTDOWN_PORT}. The PM timer is still advertised: Linux reads its address from
 * X_PM_TMR_BLK even on such platforms and uses the timer as a clocksource and to check the TSC.
 */
public final class Fadt {
    /** Revision 6 (ACPI 6.0 and later); its fixed layout is 276 bytes long. */
    public static final int REVISION = 6;
    public static final int MINOR_VERSION = 5;
    public static final int LENGTH = 276;

    // Field offsets (ACPI 6.5, table 5.9).
    public static final int DSDT = 40;
    public static final int SCI_INT = 46;
    public static final int PM_TMR_BLK = 76;
    public static final int FLAGS = 112;
    public static final int RESET_REG = 116;
    public static final int RESET_VALUE = 128;
    public static final int FADT_MINOR_VERSION = 131;
    public static final int X_DSDT = 140;
    public static final int X_PM_TMR_BLK = 208;
    public static final int SLEEP_CONTROL_REG = 244;
    public static final int SLEEP_STATUS_REG = 256;
    public static final int HYPERVISOR_VENDOR_IDENTITY = 268;

    // Fixed feature flags (ACPI 6.5, table 5.10).
    public static final int TMR_VAL_EXT = 1 << 8;
    public static final int RESET_REG_SUP = 1 << 10;
    public static final int HW_REDUCED_ACPI = 1 << 20;

    /** I/O port of the sleep control, sleep status and reset registers. */
    public static final int ACPI_SHUTDOWN_PORT = 0x600;

    /** Value the OS writes to the reset register to reset the machine. */
    public static final int RESET_VALUE_RESET = 1;

    /** I/O port of the 32-bit ACPI PM timer. */
    public static final int PM_TIMER_PORT = 0x608;

    /** Hypervisor Vendor Identity, eight bytes; like the OEM ID, it names Nimbus. */
    public static final String HYPERVISOR_VENDOR = "NIMBUSVM";

    private Fadt() {
    }

    /** The FADT for a DSDT at guest physical address {@code dsdtGpa}. */
    public static Sdt build(long dsdtGpa) {
        Sdt fadt = new Sdt("FACP", REVISION);
        ByteBuilder b = fadt.bytes();
        b.zeros(LENGTH - Sdt.HEADER_SIZE);

        b.set32(FLAGS, HW_REDUCED_ACPI | RESET_REG_SUP | TMR_VAL_EXT);
        b.setBytes(RESET_REG, GenericAddress.ioPort8(ACPI_SHUTDOWN_PORT).toByteArray());
        b.set8(RESET_VALUE, RESET_VALUE_RESET);
        b.set8(FADT_MINOR_VERSION, MINOR_VERSION);
        // The 32-bit DSDT field stays 0: a nonzero X_DSDT supersedes it.
        b.set64(X_DSDT, dsdtGpa);
        b.setBytes(X_PM_TMR_BLK, GenericAddress.ioPort32(PM_TIMER_PORT).toByteArray());
        b.setBytes(SLEEP_CONTROL_REG, GenericAddress.ioPort8(ACPI_SHUTDOWN_PORT).toByteArray());
        b.setBytes(SLEEP_STATUS_REG, GenericAddress.ioPort8(ACPI_SHUTDOWN_PORT).toByteArray());
        b.setBytes(HYPERVISOR_VENDOR_IDENTITY,
                ByteBuilder.asciiBytes(HYPERVISOR_VENDOR));
        return fadt;
    }
}
