package dev.nimbus.devices.pci;

/**
 * A memory Base Address Register a device declares: which BAR slot, how big, 32- or 64-bit and
 * prefetchable or not (PCI Local Bus Spec 3.0, 6.2.5.1). A 64-bit BAR takes slot {@code index}
 * and {@code index + 1}. The address is not part of it: the segment allocates one when the device
 * is added, and the guest may move it.
 *
 * @param index BAR slot, 0 to 5
 * @param size bytes decoded; a power of two of at least 16
 * @param is64Bit whether the BAR is a 64-bit memory BAR (placed in the 64-bit MMIO window)
 * @param prefetchable whether reads have no side effects and may be merged
 * @param alignment the alignment the allocator gives it; at least {@code size}
 */
public record PciBar(int index, long size, boolean is64Bit, boolean prefetchable,
        long alignment) {
    public PciBar {
        if (index < 0 || index > 5 || (is64Bit && index == 5)) {
            throw new IllegalArgumentException("Invalid BAR index=" + index + " is64Bit="
                    + is64Bit);
        }
        if (size < 16 || Long.bitCount(size) != 1) {
            throw new IllegalArgumentException(String.format(
                    "BAR size must be a power of two of at least 16: size=0x%x", size));
        }
        if (!is64Bit && size > 0x8000_0000L) {
            throw new IllegalArgumentException(String.format(
                    "A 32-bit BAR cannot decode size=0x%x", size));
        }
        if (alignment < size || Long.bitCount(alignment) != 1) {
            throw new IllegalArgumentException(String.format(
                    "BAR alignment must be a power of two of at least its size: size=0x%x "
                            + "alignment=0x%x", size, alignment));
        }
    }

    /** A BAR aligned to its own size, the least the PCI spec allows. */
    public PciBar(int index, long size, boolean is64Bit, boolean prefetchable) {
        this(index, size, is64Bit, prefetchable, size);
    }
}
