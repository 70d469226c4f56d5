package dev.nimbus.devices.pci;

import dev.nimbus.devices.Bus;
import dev.nimbus.devices.BusDevice;
import dev.nimbus.log.RateLimitedLog;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.Arrays;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * One PCI segment (domain): bus 0 with 32 device slots, its configuration space reachable
 * through an ECAM window and, on segment 0, through I/O ports 0xCF8/0xCFC (configuration
 * mechanism #1), and the MMIO windows its BARs are allocated from. Segment 0 has the host bridge
 * in slot 0; devices take the first free slot unless they ask for one, as Cloud Hypervisor's
 * {@code pci_device_id} does.
 *
 * <p>The segment decodes BARs: after every configuration write it compares each BAR of the
 * device with what is mapped on the MMIO bus and maps, moves or unmaps it, so a BAR decodes
 * exactly while the command register's memory space enable is set, at the address the guest last
 * programmed. Functions other than 0 and buses other than 0 do not exist (reads return all ones).
 *
 * <p>For the VMM: register {@link #configIo()} at {@link #PCI_CONFIG_IO_PORT} (length
 * {@link #PCI_CONFIG_IO_PORT_SIZE}) on the PIO bus, and {@link #configMmio()} at
 * {@link #ecamBase()} (length {@link #ecamSize()}) on the MMIO bus; then add devices.
 */
public final class PciSegment {
    private static final Logger LOG = System.getLogger(PciSegment.class.getName());
    private static final RateLimitedLog GUEST_ERRORS = new RateLimitedLog(LOG);

    /** CONFIG_ADDRESS at 0xCF8 and CONFIG_DATA at 0xCFC (PCI Local Bus Spec 3.0, 3.2.2.3.2). */
    public static final int PCI_CONFIG_IO_PORT = 0xCF8;
    public static final int PCI_CONFIG_IO_PORT_SIZE = 8;
    /** The ECAM (MMCONFIG) window: 1 MiB per segment for bus 0, 256 MiB reserved in all. */
    public static final long PCI_MMCONFIG_START = 0xE800_0000L;
    public static final long PCI_MMCONFIG_SIZE = 256L << 20;
    public static final long PCI_MMIO_CONFIG_SIZE_PER_SEGMENT = 1L << 20;
    /** The 32-bit PCI MMIO hole below the ECAM window. */
    public static final long MEM_32BIT_DEVICES_START = 0xC000_0000L;
    public static final long MEM_32BIT_DEVICES_SIZE = 640L << 20;
    public static final int NUM_DEVICE_SLOTS = 32;
    public static final int HOST_BRIDGE_SLOT = 0;

    private static final long ALL_ONES = 0xFFFF_FFFFL;

    private final int id;
    private final Bus mmioBus;
    private final BarAllocator mmio32;
    private final BarAllocator mmio64;
    private final Slot[] slots = new Slot[NUM_DEVICE_SLOTS];
    private final boolean[] reserved = new boolean[NUM_DEVICE_SLOTS];
    private final PciConfigIo configIo;
    private final PciConfigMmio configMmio = new PciConfigMmio(this);

    /** A device in a slot, and where its BARs are mapped and allocated. */
    private static final class Slot {
        final PciDevice device;
        final long[] mappedBase = new long[6];
        final long[] allocatedBase = new long[6];
        final BarAllocator[] allocatedFrom = new BarAllocator[6];

        Slot(PciDevice device) {
            this.device = device;
            Arrays.fill(mappedBase, -1);
            Arrays.fill(allocatedBase, -1);
        }
    }

    /**
     * A segment whose BARs map on {@code mmioBus}.
     *
     * @param mmio32 the 32-bit window its 32-bit BARs come from
     * @param mmio64 the window above RAM its 64-bit BARs come from
     */
    public PciSegment(int id, Bus mmioBus, BarAllocator mmio32, BarAllocator mmio64) {
        if (id < 0 || id >= PCI_MMCONFIG_SIZE / PCI_MMIO_CONFIG_SIZE_PER_SEGMENT) {
            throw new IllegalArgumentException("Invalid PCI segment id=" + id);
        }
        this.id = id;
        this.mmioBus = mmioBus;
        this.mmio32 = mmio32;
        this.mmio64 = mmio64;
        this.configIo = id == 0 ? new PciConfigIo(this) : null;
        if (id == 0) {
            slots[HOST_BRIDGE_SLOT] = new Slot(new PciHostBridge());
        }
    }

    /**
     * Segment 0 with the whole 32-bit hole and the 64-bit window {@code [mmio64Start,
     * mmio64End)} (from the end of RAM, plus any hot-plug reservation, up to the platform area).
     */
    public static PciSegment createDefault(Bus mmioBus, long mmio64Start, long mmio64End) {
        return new PciSegment(0, mmioBus,
                new BarAllocator(MEM_32BIT_DEVICES_START,
                        MEM_32BIT_DEVICES_START + MEM_32BIT_DEVICES_SIZE),
                new BarAllocator(mmio64Start, mmio64End));
    }

    public int id() {
        return id;
    }

    /** Guest physical address of this segment's ECAM window (for the MCFG table). */
    public long ecamBase() {
        return PCI_MMCONFIG_START + id * PCI_MMIO_CONFIG_SIZE_PER_SEGMENT;
    }

    public long ecamSize() {
        return PCI_MMIO_CONFIG_SIZE_PER_SEGMENT;
    }

    /** The first bus number (for MCFG and the host bridge's _CRS): always 0. */
    public int startBus() {
        return 0;
    }

    /** The last bus number decoded: always 0, there are no bridges. */
    public int endBus() {
        return 0;
    }

    public BarAllocator mmio32Window() {
        return mmio32;
    }

    public BarAllocator mmio64Window() {
        return mmio64;
    }

    /** The 0xCF8..0xCFF port device; segment 0 only. */
    public BusDevice configIo() {
        if (configIo == null) {
            throw new IllegalStateException("Only segment 0 has port I/O configuration access");
        }
        return configIo;
    }

    /** The ECAM device, to register at {@link #ecamBase()} for {@link #ecamSize()} bytes. */
    public BusDevice configMmio() {
        return configMmio;
    }

    /** Keeps {@code slot} free for a device that asks for it later. */
    public synchronized void reserveSlot(int slot) throws PciException {
        checkSlot(slot);
        if (slots[slot] != null || reserved[slot]) {
            throw new PciException("PCI slot already in use: segment=" + id + " slot=" + slot);
        }
        reserved[slot] = true;
    }

    /**
     * Adds {@code device} in {@code slot} (or the first free, unreserved one) and gives its BARs
     * addresses; returns the slot. The BARs decode once the guest enables memory space.
     */
    public synchronized int addDevice(PciDevice device, OptionalInt slot) throws PciException {
        int s;
        if (slot.isPresent()) {
            s = slot.getAsInt();
            checkSlot(s);
            if (slots[s] != null) {
                throw new PciException("PCI slot already in use: segment=" + id + " slot=" + s);
            }
        } else {
            s = -1;
            for (int i = 0; i < NUM_DEVICE_SLOTS && s < 0; i++) {
                if (slots[i] == null && !reserved[i]) {
                    s = i;
                }
            }
            if (s < 0) {
                throw new PciException("No free PCI slot on segment=" + id + " for "
                        + device.id());
            }
        }
        Slot entry = new Slot(device);
        allocateBars(entry);
        slots[s] = entry;
        reserved[s] = false;
        return s;
    }

    private void checkSlot(int slot) throws PciException {
        if (slot < 0 || slot >= NUM_DEVICE_SLOTS) {
            throw new PciException("Invalid PCI slot=" + slot + " (0 to 31)");
        }
        if (id == 0 && slot == HOST_BRIDGE_SLOT) {
            throw new PciException("PCI slot 0 of segment 0 is the host bridge");
        }
    }

    private void allocateBars(Slot entry) throws PciException {
        PciConfigSpace cs = entry.device.configSpace();
        for (PciBar bar : cs.bars()) {
            BarAllocator window = bar.is64Bit() ? mmio64 : mmio32;
            OptionalLong base = window == null
                    ? OptionalLong.empty()
                    : window.allocate(bar.size(), bar.alignment());
            if (base.isEmpty()) {
                freeAllocations(entry);
                throw new PciException(String.format(
                        "No room for BAR %d of %s: size=0x%x in the %s MMIO window",
                        bar.index(), entry.device.id(), bar.size(),
                        bar.is64Bit() ? "64-bit" : "32-bit"));
            }
            cs.setBarAddress(bar.index(), base.getAsLong());
            entry.allocatedBase[bar.index()] = base.getAsLong();
            entry.allocatedFrom[bar.index()] = window;
        }
    }

    private static void freeAllocations(Slot entry) {
        for (int i = 0; i < 6; i++) {
            if (entry.allocatedFrom[i] != null) {
                entry.allocatedFrom[i].free(entry.allocatedBase[i]);
                entry.allocatedFrom[i] = null;
                entry.allocatedBase[i] = -1;
            }
        }
    }

    /** Unmaps and removes the device in {@code slot}, closes it and returns it (null if none). */
    public synchronized PciDevice removeDevice(int slot) {
        if (slot < 0 || slot >= NUM_DEVICE_SLOTS || slots[slot] == null
                || (id == 0 && slot == HOST_BRIDGE_SLOT)) {
            return null;
        }
        Slot entry = slots[slot];
        for (int i = 0; i < 6; i++) {
            unmap(entry, i);
        }
        freeAllocations(entry);
        slots[slot] = null;
        entry.device.close();
        return entry.device;
    }

    /**
     * Removes and closes every device but the host bridge, stopping their threads: call it when
     * the VM stops, before guest memory is unmapped.
     */
    public synchronized void close() {
        for (int slot = 0; slot < NUM_DEVICE_SLOTS; slot++) {
            removeDevice(slot);
        }
    }

    /** The device in {@code slot}, or null. */
    public synchronized PciDevice device(int slot) {
        return slot >= 0 && slot < NUM_DEVICE_SLOTS && slots[slot] != null
                ? slots[slot].device
                : null;
    }

    /** Where BAR {@code bar} of the device in {@code slot} decodes now, or -1 when it does not. */
    public synchronized long mappedBarBase(int slot, int bar) {
        Slot entry = slots[slot];
        return entry == null ? -1 : entry.mappedBase[bar];
    }

    /** Reads configuration dword {@code reg} of bus/device/function; all ones if absent. */
    synchronized long readConfig(int bus, int device, int function, int reg) {
        if (bus != 0 || function != 0 || device >= NUM_DEVICE_SLOTS || slots[device] == null
                || reg < 0 || reg >= PciConfigSpace.PCI_CFG_SPACE_EXP_SIZE / 4) {
            return ALL_ONES;
        }
        return slots[device].device.readConfigRegister(reg) & ALL_ONES;
    }

    /** Writes {@code size} bytes of configuration space at byte {@code offset}. */
    synchronized void writeConfig(int bus, int device, int function, int offset, int size,
            int value) {
        if (bus != 0 || function != 0 || device >= NUM_DEVICE_SLOTS || slots[device] == null
                || offset < 0 || offset + size > PciConfigSpace.PCI_CFG_SPACE_EXP_SIZE) {
            return;
        }
        Slot entry = slots[device];
        entry.device.writeConfig(offset, size, value);
        updateBars(entry);
    }

    /** Brings the MMIO bus and the allocators in line with the device's BAR registers. */
    private void updateBars(Slot entry) {
        PciConfigSpace cs = entry.device.configSpace();
        boolean decode = cs.memorySpaceEnabled();
        for (PciBar bar : cs.bars()) {
            int i = bar.index();
            long address = cs.barAddress(i);
            if (address != entry.allocatedBase[i]) {
                follow(entry, bar, address);
            }
            long wanted = decode && address != 0 ? address : -1;
            if (wanted != entry.mappedBase[i]) {
                unmap(entry, i);
                map(entry, bar, wanted);
            }
        }
    }

    /**
     * The guest moved a BAR: give its old range back to the allocator and claim the new one
     * where it lies in a window, so hot-plugged devices are not placed on top of it.
     */
    private void follow(Slot entry, PciBar bar, long address) {
        int i = bar.index();
        if (entry.allocatedFrom[i] != null) {
            entry.allocatedFrom[i].free(entry.allocatedBase[i]);
        }
        entry.allocatedFrom[i] = null;
        entry.allocatedBase[i] = -1;
        for (BarAllocator window : new BarAllocator[] {mmio32, mmio64}) {
            if (window != null && window.reserve(address, bar.size())) {
                entry.allocatedFrom[i] = window;
                entry.allocatedBase[i] = address;
                return;
            }
        }
    }

    private void map(Slot entry, PciBar bar, long base) {
        if (base < 0) {
            return;
        }
        int i = bar.index();
        String name = entry.device.id() + " BAR" + i;
        try {
            mmioBus.register(base, bar.size(), new BarWindow(entry.device, i), name);
        } catch (IllegalArgumentException e) {
            GUEST_ERRORS.log(Level.WARNING, () -> String.format(
                    "Cannot decode %s at 0x%x: %s", name, base, e.getMessage()));
            return;
        }
        entry.mappedBase[i] = base;
        entry.device.barMapped(i, base);
    }

    private void unmap(Slot entry, int bar) {
        long base = entry.mappedBase[bar];
        if (base < 0) {
            return;
        }
        entry.device.barUnmapped(bar, base);
        mmioBus.unregister(base);
        entry.mappedBase[bar] = -1;
    }

    /** Routes MMIO accesses inside one BAR to its device. */
    private record BarWindow(PciDevice device, int bar) implements BusDevice {
        @Override
        public long read(long offset, int size) {
            return device.readBar(bar, offset, size);
        }

        @Override
        public void write(long offset, int size, long value) {
            device.writeBar(bar, offset, size, value);
        }
    }
}
