package dev.nimbus.devices.legacy;

import dev.nimbus.devices.BusDevice;

/**
 * The ACPI power management timer at I/O port 0x608: a free-running 32-bit counter at
 * 3.579545 MHz (ACPI 6.5, section 4.8.3.3; 32 bits wide as the FADT's TMR_VAL_EXT says).
 */
public final class AcpiPmTimer implements BusDevice {
    public static final int BASE = 0x608;
    public static final int LENGTH = 4;
    static final long FREQUENCY_HZ = 3_579_545;

    private final long startNanos = System.nanoTime();

    @Override
    public long read(long offset, int size) {
        long ns = System.nanoTime() - startNanos;
        // Whole seconds and the remainder apart, so the product cannot overflow.
        long ticks = (ns / 1_000_000_000L) * FREQUENCY_HZ
                + (ns % 1_000_000_000L) * FREQUENCY_HZ / 1_000_000_000L;
        long v = ticks & 0xFFFF_FFFFL;
        return v >>> (8 * offset);
    }

    @Override
    public void write(long offset, int size, long value) {
        // Read-only.
    }
}
