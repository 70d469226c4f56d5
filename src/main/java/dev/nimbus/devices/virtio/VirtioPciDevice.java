package dev.nimbus.devices.virtio;

import static dev.nimbus.devices.virtio.Virtio.VIRTIO_CONFIG_S_DRIVER_OK;
import static dev.nimbus.devices.virtio.Virtio.VIRTIO_CONFIG_S_FEATURES_OK;
import static dev.nimbus.devices.virtio.Virtio.VIRTIO_CONFIG_S_NEEDS_RESET;

import dev.nimbus.devices.pci.GsiAllocator;
import dev.nimbus.devices.pci.MsixTable;
import dev.nimbus.devices.pci.PciBar;
import dev.nimbus.devices.pci.PciConfigSpace;
import dev.nimbus.devices.pci.PciDevice;
import dev.nimbus.hypervisor.HypervisorException;
import dev.nimbus.hypervisor.Vm;
import dev.nimbus.log.RateLimitedLog;
import dev.nimbus.memory.GuestMemory;
import dev.nimbus.sys.EventFd;
import dev.nimbus.sys.SyscallException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The virtio over PCI transport, modern interface only (virtio 1.2, 4.1): a PCI function that
 * drives one {@link VirtioDevice} engine.
 *
 * <p>Identity (4.1.2): vendor 0x1AF4, device 0x1040 + type, revision 1, subsystem vendor and
 * device the same as vendor and device. Everything lives in BAR 0, a 512 KiB memory BAR (64-bit
 * and 8 MiB aligned, or 32-bit), laid out as Cloud Hypervisor lays it out:
 * <pre>
 * 0x00000  common configuration (56 bytes)     VIRTIO_PCI_CAP_COMMON_CFG
 * 0x02000  ISR status (1 byte)                 VIRTIO_PCI_CAP_ISR_CFG
 * 0x04000  device configuration (up to 4 KiB)  VIRTIO_PCI_CAP_DEVICE_CFG
 * 0x06000  notify, one dword per queue         VIRTIO_PCI_CAP_NOTIFY_CFG, multiplier 4
 * 0x08000  MSI-X table (up to 2048 vectors)
 * 0x48000  MSI-X PBA
 * </pre>
 * plus a VIRTIO_PCI_CAP_PCI_CFG window in configuration space. MSI-X has one vector per queue
 * plus one for configuration changes.
 *
 * <p>Queue notifications never reach this class on the fast path: while BAR 0 decodes, each
 * queue's notify address is an ioeventfd, and KVM signals the queue's eventfd, which the device
 * thread waits on. Interrupts leave through {@link MsixTable} irqfds.
 *
 * <p>Locking: common configuration accesses hold this object's lock; the interrupt path (device
 * threads) takes only the MSI-X table's lock and atomics, so {@link VirtioDevice#reset()} may wait
 * for device threads while a vCPU holds this lock.
 */
public final class VirtioPciDevice implements PciDevice {
    private static final Logger LOG = System.getLogger(VirtioPciDevice.class.getName());
    private static final RateLimitedLog GUEST_ERRORS = new RateLimitedLog(LOG);

    // 4.1.2 PCI Device Discovery.
    public static final int VIRTIO_PCI_VENDOR_ID = 0x1AF4;
    public static final int VIRTIO_PCI_DEVICE_ID_BASE = 0x1040;
    public static final int VIRTIO_PCI_MODERN_REVISION = 1;

    // 4.1.4 cfg_type values of struct virtio_pci_cap.
    public static final int VIRTIO_PCI_CAP_COMMON_CFG = 1;
    public static final int VIRTIO_PCI_CAP_NOTIFY_CFG = 2;
    public static final int VIRTIO_PCI_CAP_ISR_CFG = 3;
    public static final int VIRTIO_PCI_CAP_DEVICE_CFG = 4;
    public static final int VIRTIO_PCI_CAP_PCI_CFG = 5;

    // struct virtio_pci_common_cfg, 4.1.4.3 (names from linux/virtio_pci.h).
    public static final int VIRTIO_PCI_COMMON_DFSELECT = 0;
    public static final int VIRTIO_PCI_COMMON_DF = 4;
    public static final int VIRTIO_PCI_COMMON_GFSELECT = 8;
    public static final int VIRTIO_PCI_COMMON_GF = 12;
    public static final int VIRTIO_PCI_COMMON_MSIX = 16;
    public static final int VIRTIO_PCI_COMMON_NUMQ = 18;
    public static final int VIRTIO_PCI_COMMON_STATUS = 20;
    public static final int VIRTIO_PCI_COMMON_CFGGENERATION = 21;
    public static final int VIRTIO_PCI_COMMON_Q_SELECT = 22;
    public static final int VIRTIO_PCI_COMMON_Q_SIZE = 24;
    public static final int VIRTIO_PCI_COMMON_Q_MSIX = 26;
    public static final int VIRTIO_PCI_COMMON_Q_ENABLE = 28;
    public static final int VIRTIO_PCI_COMMON_Q_NOFF = 30;
    public static final int VIRTIO_PCI_COMMON_Q_DESCLO = 32;
    public static final int VIRTIO_PCI_COMMON_Q_DESCHI = 36;
    public static final int VIRTIO_PCI_COMMON_Q_AVAILLO = 40;
    public static final int VIRTIO_PCI_COMMON_Q_AVAILHI = 44;
    public static final int VIRTIO_PCI_COMMON_Q_USEDLO = 48;
    public static final int VIRTIO_PCI_COMMON_Q_USEDHI = 52;

    /** Vector value that unmaps an event (4.1.5.1.2). */
    public static final int VIRTIO_MSI_NO_VECTOR = 0xFFFF;
    public static final int VIRTIO_PCI_ISR_QUEUE = 0x1;
    public static final int VIRTIO_PCI_ISR_CONFIG = 0x2;

    // BAR 0 layout.
    public static final int VIRTIO_COMMON_BAR_INDEX = 0;
    public static final long COMMON_CONFIG_BAR_OFFSET = 0x0000;
    public static final long COMMON_CONFIG_SIZE = 56;
    public static final long ISR_CONFIG_BAR_OFFSET = 0x2000;
    public static final long ISR_CONFIG_SIZE = 1;
    public static final long DEVICE_CONFIG_BAR_OFFSET = 0x4000;
    public static final long DEVICE_CONFIG_SIZE = 0x1000;
    public static final long NOTIFICATION_BAR_OFFSET = 0x6000;
    public static final int NOTIFY_OFF_MULTIPLIER = 4;
    /** The notify region has room for this many queues. */
    public static final int MAX_QUEUES = 0x400;
    public static final long NOTIFICATION_SIZE = (long) MAX_QUEUES * NOTIFY_OFF_MULTIPLIER;
    public static final long MSIX_TABLE_BAR_OFFSET = 0x8000;
    public static final long MSIX_TABLE_SIZE = 0x40000;
    public static final long MSIX_PBA_BAR_OFFSET = 0x48000;
    public static final long MSIX_PBA_SIZE = 0x800;
    public static final long CAPABILITY_BAR_SIZE = 0x80000;
    /** 64-bit BARs are aligned beyond their size, as Cloud Hypervisor does for Windows. */
    public static final long VIRTIO_PCI_BAR_ALIGN = 0x80_0000;

    private static final int VIRTIO_PCI_CAP_LEN = 16;
    private static final int VIRTIO_PCI_NOTIFY_CAP_LEN = 20;
    private static final int VIRTIO_PCI_CFG_CAP_LEN = 20;
    // Offsets inside struct virtio_pci_cap, from the capability start.
    private static final int CAP_BAR = 4;
    private static final int CAP_OFFSET = 8;
    private static final int CAP_LENGTH = 12;
    private static final int CAP_PCI_CFG_DATA = 16;

    private final String id;
    private final VirtioDevice device;
    // TODO: guest memory is fixed at construction; memory hot-plug (ACPI or virtio-mem) needs a
    // way to hand devices the grown GuestMemory before queues may point into the new RAM.
    private final GuestMemory memory;
    private final Vm vm;
    private final PciConfigSpace config;
    private final MsixTable msix;
    private final int msixCapOffset;
    private final int pciCfgCapOffset;
    private final long offeredFeatures;
    private final int[] maxSizes;
    private final EventFd[] notifiers;
    private final VirtioInterrupt interrupt = new Interrupt();

    // Common configuration, guarded by this.
    private int deviceFeatureSelect;
    private int driverFeatureSelect;
    private long driverFeatures;
    private int queueSelect;
    private final int[] queueSize;
    private final boolean[] queueEnabled;
    private final long[] queueDesc;
    private final long[] queueDriver;
    private final long[] queueDevice;
    private int configGeneration;
    private boolean activated;

    // Read by device threads without this lock.
    private final AtomicInteger status = new AtomicInteger();
    private final AtomicInteger isr = new AtomicInteger();
    private final AtomicIntegerArray queueVector;
    private volatile int configVector = VIRTIO_MSI_NO_VECTOR;
    private final AtomicBoolean configChanged = new AtomicBoolean();
    private final AtomicLong needsResetEvents = new AtomicLong();

    // Ioeventfds, guarded by notifyLock.
    private final Object notifyLock = new Object();
    private long ioeventfdBase = -1;
    private final boolean[] ioeventfdRegistered;

    /**
     * A transport for {@code device}.
     *
     * @param memory the guest's RAM, handed to the device at activation
     * @param vm where ioeventfds, irqfds and MSI routes are registered
     * @param gsis where the MSI-X vectors' GSIs come from
     * @param use64BitBar place BAR 0 in the 64-bit window (Cloud Hypervisor does for all but
     *     cold-plugged block devices on segment 0)
     */
    public VirtioPciDevice(VirtioDevice device, GuestMemory memory, Vm vm, GsiAllocator gsis,
            boolean use64BitBar) throws SyscallException {
        int[] sizes = device.queueMaxSizes();
        if (sizes.length == 0 || sizes.length > MAX_QUEUES) {
            throw new IllegalArgumentException("Invalid queue count=" + sizes.length + " for "
                    + device.id());
        }
        if (device.configSize() > DEVICE_CONFIG_SIZE) {
            throw new IllegalArgumentException("Device configuration too large: size="
                    + device.configSize() + " for " + device.id());
        }
        this.id = "_virtio-pci-" + device.id();
        this.device = device;
        this.memory = memory;
        this.vm = vm;
        this.maxSizes = sizes;
        this.offeredFeatures = device.deviceFeatures() | Virtio.bit(Virtio.VIRTIO_F_VERSION_1);
        int n = sizes.length;
        this.queueSize = new int[n];
        this.queueEnabled = new boolean[n];
        this.queueDesc = new long[n];
        this.queueDriver = new long[n];
        this.queueDevice = new long[n];
        this.queueVector = new AtomicIntegerArray(n);
        this.ioeventfdRegistered = new boolean[n];
        this.notifiers = new EventFd[n];
        try {
            for (int q = 0; q < n; q++) {
                notifiers[q] = EventFd.create();
            }
        } catch (SyscallException e) {
            closeNotifiers();
            throw e;
        }
        this.msix = new MsixTable(id, n + 1, vm, gsis);

        int pciDeviceId = VIRTIO_PCI_DEVICE_ID_BASE + device.deviceType();
        this.config = new PciConfigSpace(VIRTIO_PCI_VENDOR_ID, pciDeviceId,
                VIRTIO_PCI_MODERN_REVISION, classCode(device.deviceType()), VIRTIO_PCI_VENDOR_ID,
                pciDeviceId);
        config.addBar(new PciBar(VIRTIO_COMMON_BAR_INDEX, CAPABILITY_BAR_SIZE, use64BitBar,
                false, use64BitBar ? VIRTIO_PCI_BAR_ALIGN : CAPABILITY_BAR_SIZE));
        config.addCapability(PciConfigSpace.PCI_CAP_ID_VNDR, virtioCap(VIRTIO_PCI_CAP_LEN,
                VIRTIO_PCI_CAP_COMMON_CFG, COMMON_CONFIG_BAR_OFFSET, COMMON_CONFIG_SIZE), null);
        config.addCapability(PciConfigSpace.PCI_CAP_ID_VNDR, virtioCap(VIRTIO_PCI_CAP_LEN,
                VIRTIO_PCI_CAP_ISR_CFG, ISR_CONFIG_BAR_OFFSET, ISR_CONFIG_SIZE), null);
        if (device.configSize() > 0) {
            config.addCapability(PciConfigSpace.PCI_CAP_ID_VNDR, virtioCap(VIRTIO_PCI_CAP_LEN,
                    VIRTIO_PCI_CAP_DEVICE_CFG, DEVICE_CONFIG_BAR_OFFSET, device.configSize()),
                    null);
        }
        byte[] notify = virtioCap(VIRTIO_PCI_NOTIFY_CAP_LEN, VIRTIO_PCI_CAP_NOTIFY_CFG,
                NOTIFICATION_BAR_OFFSET, NOTIFICATION_SIZE);
        putLe(notify, 14, NOTIFY_OFF_MULTIPLIER, 4);
        config.addCapability(PciConfigSpace.PCI_CAP_ID_VNDR, notify, null);
        this.pciCfgCapOffset = config.addCapability(PciConfigSpace.PCI_CAP_ID_VNDR,
                virtioCap(VIRTIO_PCI_CFG_CAP_LEN, VIRTIO_PCI_CAP_PCI_CFG, 0, 0),
                pciCfgWritableMask());
        this.msixCapOffset = config.addCapability(PciConfigSpace.PCI_CAP_ID_MSIX,
                msix.capabilityBody(VIRTIO_COMMON_BAR_INDEX, MSIX_TABLE_BAR_OFFSET,
                        VIRTIO_COMMON_BAR_INDEX, MSIX_PBA_BAR_OFFSET),
                MsixTable.capabilityWritableMask());
        synchronized (this) {
            resetCommonConfig();
        }
    }

    /** PCI class code by device type, as Cloud Hypervisor reports them. */
    static int classCode(int type) {
        return switch (type) {
            case Virtio.VIRTIO_ID_NET -> 0x02_00_00; // network controller, Ethernet
            case Virtio.VIRTIO_ID_BLOCK -> 0x01_80_00; // mass storage, other
            default -> 0xFF_FF_00; // unassigned class, virtio non-transitional sub-class
        };
    }

    /** A struct virtio_pci_cap after its cap_vndr and cap_next bytes. */
    private static byte[] virtioCap(int capLen, int cfgType, long offset, long length) {
        byte[] b = new byte[capLen - 2];
        b[0] = (byte) capLen;
        b[1] = (byte) cfgType;
        b[2] = VIRTIO_COMMON_BAR_INDEX;
        putLe(b, CAP_OFFSET - 2, (int) offset, 4);
        putLe(b, CAP_LENGTH - 2, (int) length, 4);
        return b;
    }

    /** 4.1.4.9: cap.bar, cap.offset, cap.length and pci_cfg_data are read-write. */
    private static byte[] pciCfgWritableMask() {
        byte[] m = new byte[VIRTIO_PCI_CFG_CAP_LEN - 2];
        m[CAP_BAR - 2] = (byte) 0xFF;
        Arrays.fill(m, CAP_OFFSET - 2, VIRTIO_PCI_CFG_CAP_LEN - 2, (byte) 0xFF);
        return m;
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public PciConfigSpace configSpace() {
        return config;
    }

    /** The engine this transport drives. */
    public VirtioDevice device() {
        return device;
    }

    /** The MSI-X state, for tests and diagnostics. */
    public MsixTable msix() {
        return msix;
    }

    /** The eventfd a notification of queue {@code index} signals. */
    public EventFd notifier(int index) {
        return notifiers[index];
    }

    /** The interrupt path handed to the device at activation. */
    VirtioInterrupt interrupt() {
        return interrupt;
    }

    /** How often the device was marked DEVICE_NEEDS_RESET. */
    public long needsResetEvents() {
        return needsResetEvents.get();
    }

    /** The device status byte as the driver reads it. */
    public int status() {
        return status.get();
    }

    // ---- configuration space: the PCI_CFG window and MSI-X Message Control ----

    @Override
    public int readConfigRegister(int reg) {
        if (reg == (pciCfgCapOffset + CAP_PCI_CFG_DATA) / 4) {
            int length = config.read(pciCfgCapOffset + CAP_LENGTH, 4);
            if (windowUsable(length)) {
                long value = readBar(config.read(pciCfgCapOffset + CAP_BAR, 1),
                        config.readRegister((pciCfgCapOffset + CAP_OFFSET) / 4) & 0xFFFF_FFFFL,
                        length);
                config.setDword(pciCfgCapOffset + CAP_PCI_CFG_DATA, (int) value);
            }
        }
        return config.readRegister(reg);
    }

    @Override
    public void writeConfig(int offset, int size, int value) {
        config.write(offset, size, value);
        if (overlaps(offset, size, msixCapOffset + MsixTable.PCI_MSIX_FLAGS, 2)) {
            msix.writeMessageControl(config.read(msixCapOffset + MsixTable.PCI_MSIX_FLAGS, 2));
        }
        if (overlaps(offset, size, pciCfgCapOffset + CAP_PCI_CFG_DATA, 4)) {
            int length = config.read(pciCfgCapOffset + CAP_LENGTH, 4);
            if (windowUsable(length)) {
                long data = config.readRegister((pciCfgCapOffset + CAP_PCI_CFG_DATA) / 4)
                        & 0xFFFF_FFFFL;
                writeBar(config.read(pciCfgCapOffset + CAP_BAR, 1),
                        config.readRegister((pciCfgCapOffset + CAP_OFFSET) / 4) & 0xFFFF_FFFFL,
                        length, data & ((1L << (8 * length)) - 1));
            }
        }
    }

    private boolean windowUsable(int length) {
        return (length == 1 || length == 2 || length == 4)
                && config.read(pciCfgCapOffset + CAP_BAR, 1) == VIRTIO_COMMON_BAR_INDEX;
    }

    private static boolean overlaps(int offset, int size, int start, int length) {
        return offset < start + length && start < offset + size;
    }

    // ---- BAR 0 ----

    @Override
    public long readBar(int bar, long offset, int size) {
        if (bar != VIRTIO_COMMON_BAR_INDEX) {
            return 0;
        }
        if (offset >= COMMON_CONFIG_BAR_OFFSET
                && offset + size <= COMMON_CONFIG_BAR_OFFSET + COMMON_CONFIG_SIZE) {
            return readCommon((int) (offset - COMMON_CONFIG_BAR_OFFSET), size);
        }
        if (offset >= ISR_CONFIG_BAR_OFFSET && offset < ISR_CONFIG_BAR_OFFSET + ISR_CONFIG_SIZE) {
            // 4.1.4.5: reading ISR status clears it.
            return isr.getAndSet(0);
        }
        if (offset >= DEVICE_CONFIG_BAR_OFFSET
                && offset < DEVICE_CONFIG_BAR_OFFSET + DEVICE_CONFIG_SIZE) {
            return readDeviceConfig((int) (offset - DEVICE_CONFIG_BAR_OFFSET), size);
        }
        if (offset >= MSIX_TABLE_BAR_OFFSET
                && offset < MSIX_TABLE_BAR_OFFSET + MSIX_TABLE_SIZE) {
            return msix.readTable(offset - MSIX_TABLE_BAR_OFFSET, size);
        }
        if (offset >= MSIX_PBA_BAR_OFFSET && offset < MSIX_PBA_BAR_OFFSET + MSIX_PBA_SIZE) {
            return msix.readPba(offset - MSIX_PBA_BAR_OFFSET, size);
        }
        return 0;
    }

    @Override
    public void writeBar(int bar, long offset, int size, long value) {
        if (bar != VIRTIO_COMMON_BAR_INDEX) {
            return;
        }
        if (offset >= COMMON_CONFIG_BAR_OFFSET
                && offset + size <= COMMON_CONFIG_BAR_OFFSET + COMMON_CONFIG_SIZE) {
            writeCommon((int) (offset - COMMON_CONFIG_BAR_OFFSET), size, value);
        } else if (offset >= ISR_CONFIG_BAR_OFFSET
                && offset < ISR_CONFIG_BAR_OFFSET + ISR_CONFIG_SIZE) {
            // Read-only for the driver.
        } else if (offset >= DEVICE_CONFIG_BAR_OFFSET
                && offset < DEVICE_CONFIG_BAR_OFFSET + DEVICE_CONFIG_SIZE) {
            int o = (int) (offset - DEVICE_CONFIG_BAR_OFFSET);
            if (o + size <= device.configSize()) {
                device.writeConfig(o, size, value);
            }
        } else if (offset >= NOTIFICATION_BAR_OFFSET
                && offset < NOTIFICATION_BAR_OFFSET + NOTIFICATION_SIZE) {
            // Normally an ioeventfd catches this in the kernel. It arrives here when the
            // ioeventfd could not be registered, or through the PCI_CFG window.
            long q = (offset - NOTIFICATION_BAR_OFFSET) / NOTIFY_OFF_MULTIPLIER;
            if (q < notifiers.length) {
                notifiers[(int) q].signal();
            }
        } else if (offset >= MSIX_TABLE_BAR_OFFSET
                && offset < MSIX_TABLE_BAR_OFFSET + MSIX_TABLE_SIZE) {
            msix.writeTable(offset - MSIX_TABLE_BAR_OFFSET, size, value);
        }
    }

    private long readDeviceConfig(int offset, int size) {
        if (offset + size > device.configSize()) {
            return 0;
        }
        // 4.1.4.3.1: a change noticed since the last read shows as a new generation.
        if (configChanged.getAndSet(false)) {
            synchronized (this) {
                configGeneration = (configGeneration + 1) & 0xFF;
            }
        }
        return device.readConfig(offset, size);
    }

    // ---- common configuration ----

    private synchronized long readCommon(int offset, int size) {
        long value = 0;
        for (int i = size - 1; i >= 0; i--) {
            int o = offset + i;
            int start = fieldStart(o);
            value = value << 8 | ((commonField(start) >>> ((o - start) * 8)) & 0xFF);
        }
        return value;
    }

    /** The first byte of the common configuration field holding byte {@code o}. */
    private static int fieldStart(int o) {
        if (o < VIRTIO_PCI_COMMON_MSIX) {
            return o & ~3;
        }
        if (o < VIRTIO_PCI_COMMON_STATUS || o >= VIRTIO_PCI_COMMON_Q_SELECT
                && o < VIRTIO_PCI_COMMON_Q_DESCLO) {
            return o & ~1;
        }
        if (o < VIRTIO_PCI_COMMON_Q_SELECT) {
            return o;
        }
        return o & ~7;
    }

    private long commonField(int start) {
        int q = queueSelect;
        boolean valid = q < maxSizes.length;
        return switch (start) {
            case VIRTIO_PCI_COMMON_DFSELECT -> deviceFeatureSelect & 0xFFFF_FFFFL;
            case VIRTIO_PCI_COMMON_DF -> featureWord(offeredFeatures, deviceFeatureSelect);
            case VIRTIO_PCI_COMMON_GFSELECT -> driverFeatureSelect & 0xFFFF_FFFFL;
            case VIRTIO_PCI_COMMON_GF -> featureWord(driverFeatures, driverFeatureSelect);
            case VIRTIO_PCI_COMMON_MSIX -> configVector;
            case VIRTIO_PCI_COMMON_NUMQ -> maxSizes.length;
            case VIRTIO_PCI_COMMON_STATUS -> status.get() & 0xFF;
            case VIRTIO_PCI_COMMON_CFGGENERATION -> configGeneration;
            case VIRTIO_PCI_COMMON_Q_SELECT -> q;
            case VIRTIO_PCI_COMMON_Q_SIZE -> valid ? queueSize[q] : 0;
            case VIRTIO_PCI_COMMON_Q_MSIX -> valid ? queueVector.get(q) : VIRTIO_MSI_NO_VECTOR;
            case VIRTIO_PCI_COMMON_Q_ENABLE -> valid && queueEnabled[q] ? 1 : 0;
            case VIRTIO_PCI_COMMON_Q_NOFF -> valid ? q : 0;
            case VIRTIO_PCI_COMMON_Q_DESCLO -> valid ? queueDesc[q] : 0;
            case VIRTIO_PCI_COMMON_Q_AVAILLO -> valid ? queueDriver[q] : 0;
            case VIRTIO_PCI_COMMON_Q_USEDLO -> valid ? queueDevice[q] : 0;
            default -> 0;
        };
    }

    private static long featureWord(long features, int select) {
        return switch (select) {
            case 0 -> features & 0xFFFF_FFFFL;
            case 1 -> features >>> 32;
            default -> 0;
        };
    }

    private synchronized void writeCommon(int offset, int size, long value) {
        int q = queueSelect;
        boolean valid = q < maxSizes.length;
        // 4.1.3.1: 64-bit fields may be written whole or as two dwords.
        if (offset >= VIRTIO_PCI_COMMON_Q_DESCLO && (size == 4 || size == 8)
                && offset % size == 0) {
            writeQueueAddress(q, offset, size, value);
            return;
        }
        int expected = switch (offset) {
            case VIRTIO_PCI_COMMON_DFSELECT, VIRTIO_PCI_COMMON_GFSELECT,
                    VIRTIO_PCI_COMMON_GF -> 4;
            case VIRTIO_PCI_COMMON_MSIX, VIRTIO_PCI_COMMON_Q_SELECT, VIRTIO_PCI_COMMON_Q_SIZE,
                    VIRTIO_PCI_COMMON_Q_MSIX, VIRTIO_PCI_COMMON_Q_ENABLE -> 2;
            case VIRTIO_PCI_COMMON_STATUS -> 1;
            default -> -1;
        };
        if (expected != size) {
            GUEST_ERRORS.log(Level.DEBUG, () -> String.format(
                    "%s: ignored common configuration write offset=0x%x size=%d", id, offset,
                    size));
            return;
        }
        switch (offset) {
            case VIRTIO_PCI_COMMON_DFSELECT -> deviceFeatureSelect = (int) value;
            case VIRTIO_PCI_COMMON_GFSELECT -> driverFeatureSelect = (int) value;
            case VIRTIO_PCI_COMMON_GF -> writeDriverFeatures((int) value);
            case VIRTIO_PCI_COMMON_MSIX -> configVector = checkedVector((int) value);
            case VIRTIO_PCI_COMMON_STATUS -> writeStatus((int) value & 0xFF);
            case VIRTIO_PCI_COMMON_Q_SELECT -> queueSelect = (int) value & 0xFFFF;
            case VIRTIO_PCI_COMMON_Q_SIZE -> {
                if (valid && !queueEnabled[q]) {
                    queueSize[q] = (int) value & 0xFFFF;
                }
            }
            case VIRTIO_PCI_COMMON_Q_MSIX -> {
                if (valid) {
                    queueVector.set(q, checkedVector((int) value));
                }
            }
            case VIRTIO_PCI_COMMON_Q_ENABLE -> enableQueue(q, (int) value & 0xFFFF);
            default -> throw new AssertionError("unhandled offset " + offset);
        }
    }

    private void writeDriverFeatures(int word) {
        // 3.1.1: features are fixed once FEATURES_OK is set.
        if ((status.get() & VIRTIO_CONFIG_S_FEATURES_OK) != 0) {
            return;
        }
        long w = word & 0xFFFF_FFFFL;
        switch (driverFeatureSelect) {
            case 0 -> driverFeatures = (driverFeatures & 0xFFFF_FFFF_0000_0000L) | w;
            case 1 -> driverFeatures = (driverFeatures & 0xFFFF_FFFFL) | (w << 32);
            default -> { }
        }
    }

    /** 4.1.5.1.2.1: a vector the table does not have reads back as NO_VECTOR. */
    private int checkedVector(int v) {
        v &= 0xFFFF;
        return v != VIRTIO_MSI_NO_VECTOR && v >= msix.vectorCount() ? VIRTIO_MSI_NO_VECTOR : v;
    }

    private void writeQueueAddress(int q, int offset, int size, long value) {
        if (q >= maxSizes.length || queueEnabled[q]) {
            return;
        }
        int field = offset & ~7;
        long[] target = switch (field) {
            case VIRTIO_PCI_COMMON_Q_DESCLO -> queueDesc;
            case VIRTIO_PCI_COMMON_Q_AVAILLO -> queueDriver;
            default -> queueDevice;
        };
        if (size == 8) {
            target[q] = value;
        } else if (offset == field) {
            target[q] = (target[q] & 0xFFFF_FFFF_0000_0000L) | (value & 0xFFFF_FFFFL);
        } else {
            target[q] = (target[q] & 0xFFFF_FFFFL) | (value << 32);
        }
    }

    private void enableQueue(int q, int value) {
        if (q >= maxSizes.length || value != 1 || queueEnabled[q]) {
            // 4.1.4.3.2: the driver never writes 0; a second 1 changes nothing.
            return;
        }
        if ((status.get() & VIRTIO_CONFIG_S_DRIVER_OK) != 0) {
            // TODO: enabling a queue after DRIVER_OK needs VIRTIO_F_RING_RESET, not offered.
            GUEST_ERRORS.log(Level.WARNING, () -> id + ": ignored enabling queue " + q
                    + " after DRIVER_OK");
            return;
        }
        queueEnabled[q] = true;
    }

    /** The device status state machine of 2.1 and 3.1.1. */
    private void writeStatus(int value) {
        if (value == 0) {
            resetDevice();
            return;
        }
        int old = status.get() & ~VIRTIO_CONFIG_S_NEEDS_RESET;
        if ((value & old) != old) {
            // 3.1.1: the driver only ever adds bits; to go back it resets.
            GUEST_ERRORS.log(Level.WARNING, () -> String.format(
                    "%s: ignored device status 0x%x that clears bits of 0x%x", id, value, old));
            return;
        }
        int added = value & ~old;
        int next = value & ~VIRTIO_CONFIG_S_NEEDS_RESET;
        if ((added & VIRTIO_CONFIG_S_FEATURES_OK) != 0 && !featuresAcceptable()) {
            // 2.2.2: leave FEATURES_OK clear; the driver reads it back and gives up.
            next &= ~VIRTIO_CONFIG_S_FEATURES_OK;
            long accepted = driverFeatures;
            GUEST_ERRORS.log(Level.WARNING, () -> String.format(
                    "%s: refused driver features 0x%x (offered 0x%x)", id, accepted,
                    offeredFeatures));
        }
        int stored = next;
        status.updateAndGet(s -> stored | (s & VIRTIO_CONFIG_S_NEEDS_RESET));
        if ((added & VIRTIO_CONFIG_S_DRIVER_OK) != 0) {
            if ((stored & VIRTIO_CONFIG_S_FEATURES_OK) == 0) {
                interrupt.needsReset(id + ": DRIVER_OK set without FEATURES_OK");
            } else {
                activate();
            }
        }
    }

    /** The driver accepted only offered features, VERSION_1 among them (a modern device). */
    private boolean featuresAcceptable() {
        return (driverFeatures & ~offeredFeatures) == 0
                && Virtio.has(driverFeatures, Virtio.VIRTIO_F_VERSION_1);
    }

    private void activate() {
        List<VirtioQueue> queues = new ArrayList<>();
        for (int q = 0; q < maxSizes.length; q++) {
            if (!queueEnabled[q]) {
                continue;
            }
            try {
                Virtqueue vq = Virtqueue.create(device.id() + " q" + q, memory, queueSize[q],
                        maxSizes[q], queueDesc[q], queueDriver[q], queueDevice[q],
                        driverFeatures);
                queues.add(new VirtioQueue(q, vq, notifiers[q]));
            } catch (VirtqueueException e) {
                interrupt.needsReset(e.getMessage());
                return;
            }
        }
        try {
            device.activate(new VirtioActivation(memory, driverFeatures, queues, interrupt));
            activated = true;
            LOG.log(Level.DEBUG, () -> id + ": driver ready, features 0x"
                    + Long.toHexString(driverFeatures));
        } catch (VirtioException e) {
            interrupt.needsReset(id + ": activation failed: " + e.getMessage());
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, "Activation of " + id + " failed", e);
            interrupt.needsReset(id + ": activation failed: " + e);
        }
    }

    /** 2.4 and 4.1.4.3.1: writing 0 to device_status resets device and queues. */
    private void resetDevice() {
        if (activated) {
            device.reset();
            activated = false;
        }
        resetCommonConfig();
    }

    private void resetCommonConfig() {
        deviceFeatureSelect = 0;
        driverFeatureSelect = 0;
        driverFeatures = 0;
        queueSelect = 0;
        for (int q = 0; q < maxSizes.length; q++) {
            queueSize[q] = maxSizes[q];
            queueEnabled[q] = false;
            queueDesc[q] = 0;
            queueDriver[q] = 0;
            queueDevice[q] = 0;
            queueVector.set(q, VIRTIO_MSI_NO_VECTOR);
        }
        configVector = VIRTIO_MSI_NO_VECTOR;
        isr.set(0);
        status.set(0);
    }

    // ---- ioeventfds follow BAR 0 ----

    @Override
    public void barMapped(int bar, long base) {
        if (bar != VIRTIO_COMMON_BAR_INDEX) {
            return;
        }
        synchronized (notifyLock) {
            ioeventfdBase = base;
            for (int q = 0; q < notifiers.length; q++) {
                long addr = notifyAddress(base, q);
                try {
                    // Length 0: any write width matches (KVM_CAP_IOEVENTFD_ANY_LENGTH).
                    vm.registerIoeventfd(notifiers[q].fd(), addr, 0, false, null);
                    ioeventfdRegistered[q] = true;
                } catch (HypervisorException e) {
                    int queue = q;
                    LOG.log(Level.WARNING, () -> String.format(
                            "%s: queue %d notifications will exit to the VMM: %s", id, queue,
                            e.getMessage()));
                }
            }
        }
    }

    @Override
    public void barUnmapped(int bar, long base) {
        if (bar != VIRTIO_COMMON_BAR_INDEX) {
            return;
        }
        synchronized (notifyLock) {
            for (int q = 0; q < notifiers.length; q++) {
                if (!ioeventfdRegistered[q]) {
                    continue;
                }
                try {
                    vm.unregisterIoeventfd(notifiers[q].fd(), notifyAddress(base, q), 0, false,
                            null);
                } catch (HypervisorException e) {
                    LOG.log(Level.WARNING, () -> id + ": cannot remove ioeventfd: "
                            + e.getMessage());
                }
                ioeventfdRegistered[q] = false;
            }
            ioeventfdBase = -1;
        }
    }

    /** Guest physical address of queue {@code q}'s notify register with BAR 0 at {@code base}. */
    public static long notifyAddress(long base, int q) {
        return base + NOTIFICATION_BAR_OFFSET + (long) q * NOTIFY_OFF_MULTIPLIER;
    }

    /** Where BAR 0 decodes now, or -1. */
    public long mappedBase() {
        synchronized (notifyLock) {
            return ioeventfdBase;
        }
    }

    @Override
    public void close() {
        synchronized (this) {
            resetDevice();
        }
        device.close();
        msix.close();
        closeNotifiers();
    }

    private void closeNotifiers() {
        for (EventFd e : notifiers) {
            if (e != null) {
                e.close();
            }
        }
    }

    /** The interrupt path device threads use; takes no lock of the transport. */
    private final class Interrupt implements VirtioInterrupt {
        @Override
        public void signalQueue(int queueIndex) {
            isr.getAndUpdate(v -> v | VIRTIO_PCI_ISR_QUEUE);
            int vector = queueVector.get(queueIndex);
            if (vector != VIRTIO_MSI_NO_VECTOR) {
                msix.trigger(vector);
            }
            // TODO: no INTx fallback when MSI-X is off; Linux and Windows drivers use MSI-X.
        }

        @Override
        public void signalConfigChange() {
            configChanged.set(true);
            isr.getAndUpdate(v -> v | VIRTIO_PCI_ISR_CONFIG);
            int vector = configVector;
            if (vector != VIRTIO_MSI_NO_VECTOR) {
                msix.trigger(vector);
            }
        }

        @Override
        public EventFd queueIrqfd(int queueIndex) {
            // Only with MSI-X on and a vector chosen; a write to the irqfd then raises what
            // signalQueue would, and the ISR bit is not needed with MSI-X (4.1.4.5).
            int vector = queueVector.get(queueIndex);
            if (vector == VIRTIO_MSI_NO_VECTOR || !msix.isEnabled()) {
                return null;
            }
            return msix.exportIrqfd(vector);
        }

        @Override
        public void needsReset(String reason) {
            needsResetEvents.incrementAndGet();
            GUEST_ERRORS.log(Level.WARNING, () -> id + ": device needs reset: " + reason);
            status.getAndUpdate(s -> s | VIRTIO_CONFIG_S_NEEDS_RESET);
            signalConfigChange();
        }
    }

    private static void putLe(byte[] b, int off, int value, int size) {
        for (int i = 0; i < size; i++) {
            b[off + i] = (byte) (value >>> (8 * i));
        }
    }
}
