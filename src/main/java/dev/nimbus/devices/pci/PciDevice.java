package dev.nimbus.devices.pci;

/**
 * A PCI function on a {@link PciSegment}: its configuration space and the MMIO behind its BARs.
 *
 * <p>The segment owns the address decoding. It calls the configuration methods with the
 * segment's lock held (one access at a time), reads the BARs from {@link #configSpace()} after
 * every configuration write, and maps or unmaps each BAR on the MMIO bus as the guest sets the
 * memory-space-enable bit or moves the BAR; {@link #barMapped} and {@link #barUnmapped} tell the
 * device, so it can move what the kernel decodes for it (ioeventfds).
 *
 * <p>{@link #readBar} and {@link #writeBar} come from vCPU threads, several at a time, without
 * the segment's lock: a device guards its own state.
 */
public interface PciDevice {
    /** A name for logs and bus ranges, e.g. {@code _virtio-pci-_disk0}. */
    String id();

    PciConfigSpace configSpace();

    /**
     * The guest reads configuration dword {@code reg} (0 to 1023). Devices whose capabilities
     * have side effects on read override this.
     */
    default int readConfigRegister(int reg) {
        return configSpace().readRegister(reg);
    }

    /** The guest writes {@code size} (1, 2 or 4) bytes of configuration space at {@code offset}. */
    default void writeConfig(int offset, int size, int value) {
        configSpace().write(offset, size, value);
    }

    /** A guest read of {@code size} bytes at {@code offset} inside BAR {@code bar}. */
    long readBar(int bar, long offset, int size);

    /** A guest write of {@code size} bytes at {@code offset} inside BAR {@code bar}. */
    void writeBar(int bar, long offset, int size, long value);

    /** BAR {@code bar} now decodes guest physical addresses from {@code base}. */
    default void barMapped(int bar, long base) {}

    /** BAR {@code bar}, decoded at {@code base} until now, no longer decodes. */
    default void barUnmapped(int bar, long base) {}

    /** Releases host resources (threads, eventfds, interrupt routes) once removed. */
    default void close() {}
}
