package dev.nimbus.devices.pci;

import dev.nimbus.devices.BusDevice;

/**
 * The Enhanced Configuration Access Mechanism window of one segment (PCI Express Base Spec,
 * 7.2.2): each function's 4 KiB of configuration space at offset
 * {@code bus << 20 | device << 15 | function << 12}. Accesses are 1, 2 or 4 bytes and must
 * not cross a dword; others read as all ones and are dropped.
 */
final class PciConfigMmio implements BusDevice {
    private final PciSegment segment;

    PciConfigMmio(PciSegment segment) {
        this.segment = segment;
    }

    @Override
    public long read(long offset, int size) {
        int reg = (int) (offset & 0xFFF);
        if (size > 4 || (reg & 3) + size > 4) {
            return PciConfigIo.allOnes(size);
        }
        long dword = segment.readConfig(bus(offset), device(offset), function(offset), reg >>> 2);
        return PciConfigIo.lanes(dword, reg & 3, size);
    }

    @Override
    public void write(long offset, int size, long value) {
        int reg = (int) (offset & 0xFFF);
        if (size > 4 || (reg & 3) + size > 4) {
            return;
        }
        segment.writeConfig(bus(offset), device(offset), function(offset), reg, size,
                (int) value);
    }

    private static int bus(long offset) {
        return (int) (offset >>> 20) & 0xFF;
    }

    private static int device(long offset) {
        return (int) (offset >>> 15) & 0x1F;
    }

    private static int function(long offset) {
        return (int) (offset >>> 12) & 0x7;
    }
}
