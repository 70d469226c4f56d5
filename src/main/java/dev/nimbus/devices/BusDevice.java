package dev.nimbus.devices;

/**
 * A device reachable on the port I/O or MMIO bus. Offsets are relative to the start of the range
 * the device was registered at; values are little-endian, {@code size} is 1, 2, 4 or 8 bytes.
 *
 * <p>Both calls come from vCPU threads, possibly several at once: a device guards its own state.
 */
public interface BusDevice {
    /** Returns the value the guest reads; unimplemented registers read as all ones or zero. */
    long read(long offset, int size);

    void write(long offset, int size, long value);
}
