package dev.nimbus.vmm.config;

import dev.nimbus.json.JsonFields;
import dev.nimbus.json.JsonObject;
import dev.nimbus.json.JsonValue;
import dev.nimbus.json.UnsignedType;
import java.util.ArrayList;
import java.util.List;

/**
 * A virtio-blk disk, or a vhost-user-blk backend: {@code DiskConfig} in the API, {@code --disk}
 * on the command line.
 *
 * @param pci id and PCI placement
 * @param path the image file or block device; null for vhost-user
 * @param readonly whether the guest sees the disk read-only ({@code VIRTIO_BLK_F_RO})
 * @param direct whether the image is opened with {@code O_DIRECT}
 * @param numQueues request queues
 * @param queueSize descriptors per queue
 * @param vhostUser whether a vhost-user backend serves the disk
 * @param vhostSocket the backend's socket; null unless vhost-user
 * @param rateLimitGroup the shared rate limit group this disk draws from, or null
 * @param rateLimiterConfig this disk's own limits, or null
 * @param disableIoUring a test switch that keeps the disk off io_uring
 * @param disableAio a test switch that keeps the disk off Linux AIO
 * @param serial the device ID string the guest reads (up to 20 bytes), or null
 * @param queueAffinity host CPUs per queue worker; empty when not pinned
 * @param backingFiles whether a QCOW2 image may open its backing file
 * @param sparse whether discard punches holes, rather than keeping the image fully allocated
 * @param imageType the image format; {@link ImageType#UNKNOWN} to detect it
 * @param lockGranularity how much of the image the advisory lock covers
 */
public record DiskConfig(
        PciCommon pci,
        String path,
        boolean readonly,
        boolean direct,
        int numQueues,
        int queueSize,
        boolean vhostUser,
        String vhostSocket,
        String rateLimitGroup,
        RateLimiterConfig rateLimiterConfig,
        boolean disableIoUring,
        boolean disableAio,
        String serial,
        List<VirtQueueAffinity> queueAffinity,
        boolean backingFiles,
        boolean sparse,
        ImageType imageType,
        LockGranularity lockGranularity) {

    public static final int DEFAULT_NUM_QUEUES = 1;
    public static final int DEFAULT_QUEUE_SIZE = 128;

    static final String PATH = "path";
    static final String READONLY = "readonly";
    static final String DIRECT = "direct";
    static final String NUM_QUEUES = "num_queues";
    static final String QUEUE_SIZE = "queue_size";
    static final String VHOST_USER = "vhost_user";
    static final String VHOST_SOCKET = "vhost_socket";
    static final String RATE_LIMIT_GROUP = "rate_limit_group";
    static final String RATE_LIMITER_CONFIG = "rate_limiter_config";
    static final String DISABLE_IO_URING = "disable_io_uring";
    static final String DISABLE_AIO = "disable_aio";
    static final String SERIAL = "serial";
    static final String QUEUE_AFFINITY = "queue_affinity";
    static final String BACKING_FILES = "backing_files";
    static final String SPARSE = "sparse";
    static final String IMAGE_TYPE = "image_type";
    static final String LOCK_GRANULARITY = "lock_granularity";

    /** Option keys that differ from the JSON names. */
    static final String OPT_SOCKET = "socket";
    static final String OPT_DISABLE_IO_URING = "_disable_io_uring";
    static final String OPT_DISABLE_AIO = "_disable_aio";

    public DiskConfig {
        queueAffinity = List.copyOf(queueAffinity);
        if (pci == null) {
            pci = PciCommon.DEFAULT;
        }
        if (imageType == null) {
            imageType = ImageType.UNKNOWN;
        }
        if (lockGranularity == null) {
            lockGranularity = LockGranularity.BYTE_RANGE;
        }
    }

    /** The disk's identifier, or null until the VMM names it. */
    public String id() {
        return pci.id();
    }

    /** This disk under another identifier. */
    public DiskConfig withId(String id) {
        return new DiskConfig(pci.withId(id), path, readonly, direct, numQueues, queueSize,
                vhostUser, vhostSocket, rateLimitGroup, rateLimiterConfig, disableIoUring,
                disableAio, serial, queueAffinity, backingFiles, sparse, imageType,
                lockGranularity);
    }

    /** Parses one {@code --disk} option string. */
    public static DiskConfig parse(String option) {
        OptionParser p = new OptionParser("Error parsing --disk")
                .add(PATH, READONLY, DIRECT, QUEUE_SIZE, NUM_QUEUES, VHOST_USER, OPT_SOCKET,
                        OPT_DISABLE_IO_URING, OPT_DISABLE_AIO, SERIAL, RATE_LIMIT_GROUP,
                        QUEUE_AFFINITY, BACKING_FILES, SPARSE, IMAGE_TYPE, LOCK_GRANULARITY)
                .add(RateLimiterConfig.KEYS)
                .add(PciCommon.KEYS_WITH_IOMMU)
                .parse(option);
        String path = p.get(PATH);
        boolean readonly = p.toggle(READONLY, false);
        boolean direct = p.toggle(DIRECT, false);
        Integer queueSize = p.unsignedInt(QUEUE_SIZE, UnsignedType.U16);
        Integer numQueues = p.unsignedInt(NUM_QUEUES, UnsignedType.USIZE_INT);
        boolean vhostUser = p.toggle(VHOST_USER, false);
        String socket = p.get(OPT_SOCKET);
        boolean disableIoUring = p.toggle(OPT_DISABLE_IO_URING, false);
        boolean disableAio = p.toggle(OPT_DISABLE_AIO, false);
        String rateLimitGroup = p.get(RATE_LIMIT_GROUP);
        RateLimiterConfig limiter = RateLimiterConfig.parse(p);
        String serial = p.get(SERIAL);
        List<VirtQueueAffinity> affinity = new ArrayList<>();
        List<OptionParser.Tuple> tuples = p.tupleList(QUEUE_AFFINITY, UnsignedType.U16);
        if (tuples != null) {
            for (OptionParser.Tuple t : tuples) {
                affinity.add(new VirtQueueAffinity((int) t.key(), cpus(p, t.values())));
            }
        }
        boolean backingFiles = p.toggle(BACKING_FILES, false);
        // A vhost-user disk has no image, so its format is never looked at.
        ImageType imageType = socket == null
                ? WireEnum.option(p, IMAGE_TYPE, ImageType.values(), true)
                : ImageType.UNKNOWN;
        LockGranularity lock =
                WireEnum.option(p, LOCK_GRANULARITY, LockGranularity.values(), false);
        boolean sparse = p.toggle(SPARSE, true);
        PciCommon pci = PciCommon.parse(option);
        return new DiskConfig(pci, path, readonly, direct,
                numQueues == null ? DEFAULT_NUM_QUEUES : numQueues,
                queueSize == null ? DEFAULT_QUEUE_SIZE : queueSize,
                vhostUser, socket, rateLimitGroup, limiter, disableIoUring, disableAio, serial,
                affinity, backingFiles, sparse, imageType, lock);
    }

    private static List<Integer> cpus(OptionParser p, List<Long> values) {
        for (long v : values) {
            if (v > Integer.MAX_VALUE) {
                throw p.error("Unable to convert " + v + " for " + QUEUE_AFFINITY);
            }
        }
        return IntLists.toInts(values);
    }

    /** Reads a {@code DiskConfig} object, e.g. the body of {@code vm.add-disk}. */
    public static DiskConfig fromJson(JsonFields f) {
        List<VirtQueueAffinity> affinity = new ArrayList<>();
        for (JsonFields a : f.objects(QUEUE_AFFINITY)) {
            affinity.add(VirtQueueAffinity.fromJson(a));
        }
        JsonFields limiter = f.optObject(RATE_LIMITER_CONFIG);
        return new DiskConfig(
                PciCommon.fromJson(f),
                f.optString(PATH),
                f.bool(READONLY, false),
                f.bool(DIRECT, false),
                (int) f.unsigned(NUM_QUEUES, UnsignedType.USIZE_INT, DEFAULT_NUM_QUEUES),
                (int) f.unsigned(QUEUE_SIZE, UnsignedType.U16, DEFAULT_QUEUE_SIZE),
                f.bool(VHOST_USER, false),
                f.optString(VHOST_SOCKET),
                f.optString(RATE_LIMIT_GROUP),
                limiter == null ? null : RateLimiterConfig.fromJson(limiter),
                f.bool(DISABLE_IO_URING, false),
                f.bool(DISABLE_AIO, false),
                f.optString(SERIAL),
                affinity,
                f.bool(BACKING_FILES, false),
                f.bool(SPARSE, true),
                WireEnum.read(f, IMAGE_TYPE, ImageType.values(), ImageType.UNKNOWN),
                WireEnum.read(f, LOCK_GRANULARITY, LockGranularity.values(),
                        LockGranularity.BYTE_RANGE));
    }

    /** This disk as the API writes it. */
    public JsonObject toJson() {
        JsonObject.Builder b = JsonObject.builder();
        pci.toJson(b);
        List<JsonValue> affinity = new ArrayList<>();
        for (VirtQueueAffinity a : queueAffinity) {
            affinity.add(a.toJson());
        }
        return b.putIfPresent(PATH, path)
                .put(READONLY, readonly)
                .put(DIRECT, direct)
                .put(NUM_QUEUES, numQueues)
                .put(QUEUE_SIZE, queueSize)
                .put(VHOST_USER, vhostUser)
                .putIfPresent(VHOST_SOCKET, vhostSocket)
                .putIfPresent(RATE_LIMIT_GROUP, rateLimitGroup)
                .putIfPresent(RATE_LIMITER_CONFIG,
                        rateLimiterConfig == null ? null : rateLimiterConfig.toJson())
                .put(DISABLE_IO_URING, disableIoUring)
                .put(DISABLE_AIO, disableAio)
                .putIfPresent(SERIAL, serial)
                .putIfNotEmpty(QUEUE_AFFINITY, affinity)
                .put(BACKING_FILES, backingFiles)
                .put(SPARSE, sparse)
                .put(IMAGE_TYPE, imageType.jsonName())
                .put(LOCK_GRANULARITY, lockGranularity.jsonName())
                .build();
    }
}
