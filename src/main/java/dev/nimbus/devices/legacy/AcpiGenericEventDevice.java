package dev.nimbus.devices.legacy;

import dev.nimbus.devices.BusDevice;
import dev.nimbus.devices.InterruptLine;

/**
 * The register side of the ACPI Generic Event Device (ACPI 6.5, section 5.6.9): one byte of
 * MMIO whose bits say which events are pending, and an edge-triggered interrupt that makes the
 * guest's GED driver run the DSDT's {@code _EVT} method, which reads the byte.
 *
 * <p>The bit layout is the one {@link dev.nimbus.acpi.Ged} gives the AML (CPU, memory and PCI
 * hot-plug, power button). Reading the register returns the pending bits and clears them, so
 * each event is seen once; writes are ignored.
 */
public final class AcpiGenericEventDevice implements BusDevice {
    /** Size of the register window. */
    public static final int LENGTH = 1;

    private final InterruptLine irq;
    private int pending;

    public AcpiGenericEventDevice(InterruptLine irq) {
        this.irq = irq;
    }

    /** Marks {@code events} (Ged event bits) pending and interrupts the guest. */
    public void notifyEvents(int events) {
        synchronized (this) {
            pending |= events;
        }
        irq.trigger();
    }

    /** The events raised and not yet read by the guest. */
    public synchronized int pending() {
        return pending;
    }

    @Override
    public synchronized long read(long offset, int size) {
        if (offset != 0) {
            return 0;
        }
        int value = pending;
        pending = 0;
        return value;
    }

    @Override
    public void write(long offset, int size, long value) {
        // The register is read-only: the guest acknowledges an event by reading it.
    }
}
