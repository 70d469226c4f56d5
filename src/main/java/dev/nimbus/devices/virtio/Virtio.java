package dev.nimbus.devices.virtio;

/**
 * Constants of the virtio 1.2 specification shared by transports and devices: device types
 * (section 5), device status bits (2.1) and the reserved feature bits (6), spelled as in the
 * Linux UAPI headers {@code virtio_ids.h}, {@code virtio_config.h} and {@code virtio_ring.h}.
 */
public final class Virtio {
    // Device types, 5 "Device Types".
    public static final int VIRTIO_ID_NET = 1;
    public static final int VIRTIO_ID_BLOCK = 2;
    public static final int VIRTIO_ID_CONSOLE = 3;
    public static final int VIRTIO_ID_RNG = 4;
    public static final int VIRTIO_ID_BALLOON = 5;
    public static final int VIRTIO_ID_VSOCK = 19;
    public static final int VIRTIO_ID_IOMMU = 23;
    public static final int VIRTIO_ID_MEM = 24;
    public static final int VIRTIO_ID_FS = 26;
    public static final int VIRTIO_ID_PMEM = 27;

    // Device status bits, 2.1 "Device Status Field".
    public static final int VIRTIO_CONFIG_S_ACKNOWLEDGE = 1;
    public static final int VIRTIO_CONFIG_S_DRIVER = 2;
    public static final int VIRTIO_CONFIG_S_DRIVER_OK = 4;
    public static final int VIRTIO_CONFIG_S_FEATURES_OK = 8;
    public static final int VIRTIO_CONFIG_S_NEEDS_RESET = 0x40;
    public static final int VIRTIO_CONFIG_S_FAILED = 0x80;

    // Reserved feature bits (bit numbers), 6 "Reserved Feature Bits".
    public static final int VIRTIO_F_INDIRECT_DESC = 28;
    public static final int VIRTIO_F_EVENT_IDX = 29;
    public static final int VIRTIO_F_VERSION_1 = 32;
    public static final int VIRTIO_F_ACCESS_PLATFORM = 33;
    public static final int VIRTIO_F_RING_PACKED = 34;
    public static final int VIRTIO_F_IN_ORDER = 35;
    public static final int VIRTIO_F_ORDER_PLATFORM = 36;
    public static final int VIRTIO_F_SR_IOV = 37;
    public static final int VIRTIO_F_NOTIFICATION_DATA = 38;
    public static final int VIRTIO_F_RING_RESET = 40;

    /**
     * The features the split {@link Virtqueue} implements for every device: indirect descriptors
     * and event index suppression, plus VERSION_1 (a modern device). Devices usually offer these
     * together with their own bits.
     */
    public static final long RING_FEATURES = bit(VIRTIO_F_VERSION_1) | bit(VIRTIO_F_INDIRECT_DESC)
            | bit(VIRTIO_F_EVENT_IDX);

    private Virtio() {}

    /** The mask of feature bit {@code n}. */
    public static long bit(int n) {
        return 1L << n;
    }

    /** Whether feature bit {@code n} is set in {@code features}. */
    public static boolean has(long features, int n) {
        return (features & bit(n)) != 0;
    }
}
