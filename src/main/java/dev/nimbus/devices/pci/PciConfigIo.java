package dev.nimbus.devices.pci;

import dev.nimbus.devices.BusDevice;

/**
 * Configuration mechanism #1 (PCI Local Bus Spec 3.0, 3.2.2.3.2) at I/O ports 0xCF8 to 0xCFF:
 * the guest writes a dword CONFIG_ADDRESS to 0xCF8 (enable bit 31, bus, device, function and
 * dword register), then reads or writes CONFIG_DATA at 0xCFC, with byte or word accesses at
 * 0xCFD to 0xCFF for the other lanes of that dword.
 */
final class PciConfigIo implements BusDevice {
    static final int CONFIG_ADDRESS_ENABLE = 0x8000_0000;
    /** Enable, bus, device, function and register bits; reserved bits 30:24 and 1:0 read 0. */
    static final int CONFIG_ADDRESS_MASK = 0x80FF_FFFC;

    private final PciSegment segment;
    private int configAddress;

    PciConfigIo(PciSegment segment) {
        this.segment = segment;
    }

    @Override
    public long read(long offset, int size) {
        if (offset < 4) {
            int address;
            synchronized (this) {
                address = configAddress;
            }
            return lanes(address & 0xFFFF_FFFFL, (int) offset, size);
        }
        int lane = (int) offset - 4;
        if (lane + size > 4) {
            return allOnes(size);
        }
        int address;
        synchronized (this) {
            address = configAddress;
        }
        if ((address & CONFIG_ADDRESS_ENABLE) == 0) {
            return allOnes(size);
        }
        long dword = segment.readConfig(bus(address), device(address), function(address),
                (address & 0xFC) >>> 2);
        return lanes(dword, lane, size);
    }

    @Override
    public void write(long offset, int size, long value) {
        if (offset < 4) {
            // Only a full dword write at 0xCF8 is CONFIG_ADDRESS; narrower writes to 0xCF8-0xCFB
            // are ordinary I/O cycles the bridge passes on, and nothing here claims them.
            if (offset == 0 && size == 4) {
                synchronized (this) {
                    configAddress = (int) value & CONFIG_ADDRESS_MASK;
                }
            }
            return;
        }
        int lane = (int) offset - 4;
        if (lane + size > 4) {
            return;
        }
        int address;
        synchronized (this) {
            address = configAddress;
        }
        if ((address & CONFIG_ADDRESS_ENABLE) == 0) {
            return;
        }
        segment.writeConfig(bus(address), device(address), function(address),
                (address & 0xFC) + lane, size, (int) value);
    }

    private static int bus(int address) {
        return (address >>> 16) & 0xFF;
    }

    private static int device(int address) {
        return (address >>> 11) & 0x1F;
    }

    private static int function(int address) {
        return (address >>> 8) & 0x7;
    }

    static long lanes(long dword, int lane, int size) {
        if (lane + size > 4) {
            return allOnes(size);
        }
        return (dword >>> (lane * 8)) & allOnes(size);
    }

    static long allOnes(int size) {
        return size >= 8 ? -1L : (1L << (size * 8)) - 1;
    }
}
