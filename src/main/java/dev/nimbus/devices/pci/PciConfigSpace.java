package dev.nimbus.devices.pci;

import java.util.ArrayList;
import java.util.List;

/**
 * The configuration space of a type 0 (endpoint) PCI function: the 64-byte header, BARs and a
 * capability list in the first 256 bytes (PCI Local Bus Spec 3.0, chapter 6). The PCI Express
 * extended space (0x100 to 0xFFF, reachable through ECAM) holds no capabilities and reads as
 * zero, which tells a driver the extended capability list is empty.
 *
 * <p>Each register has a mask of the bits the guest may write; everything else is read-only. BAR
 * sizing falls out of that: the low bits of a BAR are not writable, so writing all ones and
 * reading back gives {@code ~(size - 1)} plus the type bits.
 *
 * <p>Not thread-safe: {@link PciSegment} serialises configuration accesses.
 */
public final class PciConfigSpace {
    /** Bytes of configuration space a function has behind ECAM. */
    public static final int PCI_CFG_SPACE_EXP_SIZE = 4096;
    /** Bytes of conventional configuration space. */
    public static final int PCI_CFG_SPACE_SIZE = 256;

    // Header offsets, include/uapi/linux/pci_regs.h.
    public static final int PCI_VENDOR_ID = 0x00;
    public static final int PCI_DEVICE_ID = 0x02;
    public static final int PCI_COMMAND = 0x04;
    public static final int PCI_STATUS = 0x06;
    public static final int PCI_CLASS_REVISION = 0x08;
    public static final int PCI_CACHE_LINE_SIZE = 0x0C;
    public static final int PCI_HEADER_TYPE = 0x0E;
    public static final int PCI_BASE_ADDRESS_0 = 0x10;
    public static final int PCI_SUBSYSTEM_VENDOR_ID = 0x2C;
    public static final int PCI_SUBSYSTEM_ID = 0x2E;
    public static final int PCI_ROM_ADDRESS = 0x30;
    public static final int PCI_CAPABILITY_LIST = 0x34;
    public static final int PCI_INTERRUPT_LINE = 0x3C;
    public static final int PCI_INTERRUPT_PIN = 0x3D;

    public static final int PCI_COMMAND_IO = 0x1;
    public static final int PCI_COMMAND_MEMORY = 0x2;
    public static final int PCI_COMMAND_MASTER = 0x4;
    public static final int PCI_COMMAND_PARITY = 0x40;
    public static final int PCI_COMMAND_SERR = 0x100;
    public static final int PCI_COMMAND_INTX_DISABLE = 0x400;
    public static final int PCI_STATUS_CAP_LIST = 0x10;

    public static final int PCI_BASE_ADDRESS_MEM_TYPE_64 = 0x04;
    public static final int PCI_BASE_ADDRESS_MEM_PREFETCH = 0x08;
    public static final int PCI_BASE_ADDRESS_MEM_MASK = ~0xF;

    public static final int PCI_CAP_ID_VNDR = 0x09;
    public static final int PCI_CAP_ID_MSIX = 0x11;

    /** Command bits a guest may set; the others (VGA snoop, fast back-to-back ...) read as 0. */
    private static final int COMMAND_WRITABLE = PCI_COMMAND_IO | PCI_COMMAND_MEMORY
            | PCI_COMMAND_MASTER | PCI_COMMAND_PARITY | PCI_COMMAND_SERR
            | PCI_COMMAND_INTX_DISABLE;
    /** Capabilities live after the header, dword-aligned, inside the conventional 256 bytes. */
    private static final int FIRST_CAPABILITY_OFFSET = 0x40;

    private final int[] registers = new int[PCI_CFG_SPACE_SIZE / 4];
    private final int[] writable = new int[PCI_CFG_SPACE_SIZE / 4];
    private final PciBar[] bars = new PciBar[6];
    private int nextCapability = FIRST_CAPABILITY_OFFSET;
    private int lastCapability;

    /**
     * A function with the given identity.
     *
     * @param classCode base class, sub-class and programming interface, e.g. 0x060000 for a
     *     host bridge
     */
    public PciConfigSpace(int vendorId, int deviceId, int revisionId, int classCode,
            int subsystemVendorId, int subsystemId) {
        registers[0] = (deviceId & 0xFFFF) << 16 | (vendorId & 0xFFFF);
        registers[1] = 0;
        writable[1] = COMMAND_WRITABLE;
        registers[2] = (classCode & 0xFF_FFFF) << 8 | (revisionId & 0xFF);
        writable[3] = 0xFF; // cache line size; header type 0, single function
        registers[11] = (subsystemId & 0xFFFF) << 16 | (subsystemVendorId & 0xFFFF);
        writable[15] = 0xFF; // interrupt line; interrupt pin 0: no INTx
    }

    /** Declares a memory BAR. The address stays 0 until {@link #setBarAddress}. */
    public void addBar(PciBar bar) {
        int i = bar.index();
        if (bars[i] != null || (bar.is64Bit() && bars[i + 1] != null)
                || (i > 0 && bars[i - 1] != null && bars[i - 1].is64Bit())) {
            throw new IllegalArgumentException("BAR slot already used: index=" + i);
        }
        bars[i] = bar;
        int reg = PCI_BASE_ADDRESS_0 / 4 + i;
        long addressMask = ~(bar.size() - 1);
        registers[reg] = (bar.is64Bit() ? PCI_BASE_ADDRESS_MEM_TYPE_64 : 0)
                | (bar.prefetchable() ? PCI_BASE_ADDRESS_MEM_PREFETCH : 0);
        writable[reg] = (int) addressMask & PCI_BASE_ADDRESS_MEM_MASK;
        if (bar.is64Bit()) {
            writable[reg + 1] = (int) (addressMask >>> 32);
        }
    }

    /** The BARs declared, in slot order. */
    public List<PciBar> bars() {
        List<PciBar> list = new ArrayList<>();
        for (PciBar b : bars) {
            if (b != null) {
                list.add(b);
            }
        }
        return list;
    }

    /** The declared BAR in slot {@code index}, or null. */
    public PciBar bar(int index) {
        return index >= 0 && index < bars.length ? bars[index] : null;
    }

    /** The address BAR {@code index} holds now, as the guest last programmed it. */
    public long barAddress(int index) {
        PciBar bar = bars[index];
        int reg = PCI_BASE_ADDRESS_0 / 4 + index;
        long low = registers[reg] & PCI_BASE_ADDRESS_MEM_MASK & 0xFFFF_FFFFL;
        if (bar.is64Bit()) {
            return (long) registers[reg + 1] << 32 | low;
        }
        return low;
    }

    /** Places BAR {@code index} at {@code address}, as firmware would before the guest runs. */
    public void setBarAddress(int index, long address) {
        PciBar bar = bars[index];
        if (bar == null || (address & (bar.size() - 1)) != 0
                || (!bar.is64Bit() && (address >>> 32) != 0)) {
            throw new IllegalArgumentException(String.format(
                    "Invalid address for BAR index=%d address=0x%x", index, address));
        }
        int reg = PCI_BASE_ADDRESS_0 / 4 + index;
        registers[reg] = (registers[reg] & ~PCI_BASE_ADDRESS_MEM_MASK) | (int) address;
        if (bar.is64Bit()) {
            registers[reg + 1] = (int) (address >>> 32);
        }
    }

    /** Whether the command register lets the function decode its memory BARs. */
    public boolean memorySpaceEnabled() {
        return (registers[1] & PCI_COMMAND_MEMORY) != 0;
    }

    /**
     * Appends a capability to the list and returns its offset in configuration space.
     *
     * @param id capability id (PCI_CAP_ID_*)
     * @param body the bytes after the id and next-pointer bytes
     * @param writableMask per byte of {@code body}, the bits the guest may write; null: none
     */
    public int addCapability(int id, byte[] body, byte[] writableMask) {
        if (writableMask != null && writableMask.length != body.length) {
            throw new IllegalArgumentException("Capability mask length " + writableMask.length
                    + " differs from body length " + body.length);
        }
        int offset = nextCapability;
        int length = 2 + body.length;
        if (offset + length > PCI_CFG_SPACE_SIZE) {
            throw new IllegalStateException("No room for a capability of length=" + length
                    + " at offset=0x" + Integer.toHexString(offset));
        }
        setByte(offset, id);
        setByte(offset + 1, 0);
        for (int i = 0; i < body.length; i++) {
            setByte(offset + 2 + i, body[i]);
            if (writableMask != null) {
                setWritableByte(offset + 2 + i, writableMask[i]);
            }
        }
        if (lastCapability == 0) {
            setByte(PCI_CAPABILITY_LIST, offset);
            registers[1] |= PCI_STATUS_CAP_LIST << 16;
        } else {
            setByte(lastCapability + 1, offset);
        }
        lastCapability = offset;
        nextCapability = (offset + length + 3) & ~3;
        return offset;
    }

    /** Reads dword register {@code reg} (0 to 1023) as the guest sees it. */
    public int readRegister(int reg) {
        return reg >= 0 && reg < registers.length ? registers[reg] : 0;
    }

    /** Reads {@code size} (1, 2 or 4) bytes at {@code offset}, within one dword. */
    public int read(int offset, int size) {
        int shift = (offset & 3) * 8;
        int value = readRegister(offset >>> 2) >>> shift;
        return size == 4 ? value : value & ((1 << (size * 8)) - 1);
    }

    /**
     * A guest write of {@code size} (1, 2 or 4) bytes at {@code offset}, within one dword; only
     * writable bits change.
     */
    public void write(int offset, int size, int value) {
        int reg = offset >>> 2;
        if (reg >= registers.length || (offset & 3) + size > 4) {
            return;
        }
        int shift = (offset & 3) * 8;
        int laneMask = size == 4 ? -1 : ((1 << (size * 8)) - 1) << shift;
        int mask = writable[reg] & laneMask;
        registers[reg] = (registers[reg] & ~mask) | ((value << shift) & mask);
    }

    /** Sets a byte regardless of the guest's write mask (device-side state). */
    public void setByte(int offset, int value) {
        int shift = (offset & 3) * 8;
        int reg = offset >>> 2;
        registers[reg] = (registers[reg] & ~(0xFF << shift)) | ((value & 0xFF) << shift);
    }

    /** Sets a 16-bit field regardless of the guest's write mask. */
    public void setWord(int offset, int value) {
        setByte(offset, value);
        setByte(offset + 1, value >>> 8);
    }

    /** Sets a 32-bit field regardless of the guest's write mask. */
    public void setDword(int offset, int value) {
        setWord(offset, value);
        setWord(offset + 2, value >>> 16);
    }

    private void setWritableByte(int offset, int mask) {
        int shift = (offset & 3) * 8;
        int reg = offset >>> 2;
        writable[reg] = (writable[reg] & ~(0xFF << shift)) | ((mask & 0xFF) << shift);
    }
}
