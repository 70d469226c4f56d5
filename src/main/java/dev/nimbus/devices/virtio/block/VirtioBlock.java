package dev.nimbus.devices.virtio.block;

import dev.nimbus.block.DiskImage;
import dev.nimbus.block.DiskImages;
import dev.nimbus.block.DiskTopology;
import dev.nimbus.devices.virtio.DescriptorChain;
import dev.nimbus.devices.virtio.Virtio;
import dev.nimbus.devices.virtio.VirtioActivation;
import dev.nimbus.devices.virtio.VirtioDeviceBase;
import dev.nimbus.devices.virtio.VirtioException;
import dev.nimbus.devices.virtio.VirtioQueue;
import dev.nimbus.devices.virtio.Virtqueue;
import dev.nimbus.devices.virtio.VirtqueueException;
import dev.nimbus.vmm.config.DiskConfig;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The block device (virtio 1.2, 5.2) over a {@link DiskImage}: {@code --disk} without
 * {@code vhost_user}. Requests are IN, OUT, FLUSH, GET_ID and, when the image can punch holes
 * and zero ranges, DISCARD and WRITE_ZEROES. Each request queue has its own thread
 * ({@code _disk0_q0}, ...; a single-queue disk's thread is just {@code _disk0}), which runs the
 * requests one after the other straight between the image and guest memory.
 *
 * <p>Features, as Cloud Hypervisor offers them: SEG_MAX (queue size - 2), BLK_SIZE and TOPOLOGY
 * (from the image), FLUSH and CONFIG_WCE (writeback cache by default; in write-through mode
 * every write is made durable before it completes), RO for {@code readonly=on}, MQ for more
 * than one queue, WRITE_ZEROES whenever the image supports it and DISCARD only with
 * {@code sparse=on}; one segment per discard or write zeroes request.
 *
 * <p>The engine knows no transport: the PCI transport drives it for a guest, a vhost-user
 * backend could drive the same class.
 */
public final class VirtioBlock extends VirtioDeviceBase {
    private static final Logger LOG = System.getLogger(VirtioBlock.class.getName());

    // Feature bits, 5.2.3.
    public static final int VIRTIO_BLK_F_SIZE_MAX = 1;
    public static final int VIRTIO_BLK_F_SEG_MAX = 2;
    public static final int VIRTIO_BLK_F_GEOMETRY = 4;
    public static final int VIRTIO_BLK_F_RO = 5;
    public static final int VIRTIO_BLK_F_BLK_SIZE = 6;
    public static final int VIRTIO_BLK_F_FLUSH = 9;
    public static final int VIRTIO_BLK_F_TOPOLOGY = 10;
    public static final int VIRTIO_BLK_F_CONFIG_WCE = 11;
    public static final int VIRTIO_BLK_F_MQ = 12;
    public static final int VIRTIO_BLK_F_DISCARD = 13;
    public static final int VIRTIO_BLK_F_WRITE_ZEROES = 14;

    public static final int SECTOR_SHIFT = 9;
    public static final int SECTOR_SIZE = 1 << SECTOR_SHIFT;
    /** Bytes of the device ID string GET_ID returns (5.2.6). */
    public static final int VIRTIO_BLK_ID_BYTES = 20;
    /** Segments per discard or write zeroes request. */
    public static final int MAX_DISCARD_WRITE_ZEROES_SEG = 1;
    /** The fewest descriptors a request has: header and status; seg_max is what remains. */
    static final int MINIMUM_BLOCK_QUEUE_SIZE = 2;

    private final DiskImage image;
    private final boolean readOnly;
    private final boolean sector0Protected;
    private final int numQueues;
    private final byte[] serial;
    private final VirtioBlockConfig config = new VirtioBlockConfig();
    private final BlockCounters counters = new BlockCounters();
    private volatile long capacitySectors;
    private volatile boolean writeback = true;
    private boolean writebackRequested = true;
    private BlockRequestHandler[] handlers = new BlockRequestHandler[0];

    /**
     * A block device for {@code config} on an image already opened (see {@link #open}).
     *
     * @param config id ({@code _disk0} or the user's), {@code readonly}, {@code num_queues},
     *     {@code queue_size}, {@code serial} and {@code sparse}
     * @param image the image; the device closes it in {@link #close()}
     * @param sector0Protected whether writes to sector 0 fail (a raw image whose format was
     *     detected rather than given)
     */
    public VirtioBlock(DiskConfig config, DiskImage image, boolean sector0Protected) {
        super(requireId(config), Virtio.VIRTIO_ID_BLOCK, features(config, image),
                queueSizes(config));
        this.image = image;
        this.readOnly = config.readonly();
        this.sector0Protected = sector0Protected;
        this.numQueues = config.numQueues();
        this.serial = serial(config, image);
        long size = image.sizeBytes();
        if (size % SECTOR_SIZE != 0) {
            LOG.log(Level.WARNING, () -> String.format("Disk %s: image size %d is not a multiple"
                    + " of %d; the guest does not see the last %d bytes", id(), size,
                    SECTOR_SIZE, size % SECTOR_SIZE));
        }
        this.capacitySectors = size >>> SECTOR_SHIFT;
        fillConfig(config);
    }

    /**
     * Opens {@code config}'s image ({@link DiskImages#open}) and makes the device. The id must
     * already be assigned.
     */
    public static VirtioBlock open(DiskConfig config) throws IOException {
        requireId(config);
        DiskImages.OpenedImage opened = DiskImages.open(config);
        return new VirtioBlock(config, opened.image(), opened.sector0Protected());
    }

    private static String requireId(DiskConfig config) {
        if (config.id() == null) {
            throw new IllegalArgumentException("Disk has no id; assign one first (_disk0)");
        }
        return config.id();
    }

    private static int[] queueSizes(DiskConfig config) {
        if (config.numQueues() < 1) {
            throw new IllegalArgumentException("Disk needs at least one queue: num_queues="
                    + config.numQueues());
        }
        int[] sizes = new int[config.numQueues()];
        Arrays.fill(sizes, config.queueSize());
        return sizes;
    }

    private static long features(DiskConfig config, DiskImage image) {
        long f = Virtio.RING_FEATURES | Virtio.bit(VIRTIO_BLK_F_FLUSH)
                | Virtio.bit(VIRTIO_BLK_F_CONFIG_WCE) | Virtio.bit(VIRTIO_BLK_F_BLK_SIZE)
                | Virtio.bit(VIRTIO_BLK_F_TOPOLOGY) | Virtio.bit(VIRTIO_BLK_F_SEG_MAX);
        // WRITE_ZEROES is safe to offer whenever the image can do it; DISCARD gives space back
        // to the host, which the user must ask for with sparse=on.
        if (image.supportsSparse()) {
            f |= Virtio.bit(VIRTIO_BLK_F_WRITE_ZEROES);
            if (config.sparse()) {
                f |= Virtio.bit(VIRTIO_BLK_F_DISCARD);
            }
        }
        if (config.readonly()) {
            f |= Virtio.bit(VIRTIO_BLK_F_RO);
        }
        if (config.numQueues() > 1) {
            f |= Virtio.bit(VIRTIO_BLK_F_MQ);
        }
        return f;
    }

    /** The configured serial (at most 20 bytes), or one made from the image's identity. */
    private static byte[] serial(DiskConfig config, DiskImage image) {
        if (config.serial() != null) {
            byte[] s = config.serial().getBytes(StandardCharsets.UTF_8);
            if (s.length > VIRTIO_BLK_ID_BYTES) {
                LOG.log(Level.WARNING, () -> "Disk " + config.id() + ": serial longer than "
                        + VIRTIO_BLK_ID_BYTES + " bytes is cut: serial=" + config.serial());
                return Arrays.copyOf(s, VIRTIO_BLK_ID_BYTES);
            }
            return s;
        }
        return Arrays.copyOf(image.identity().getBytes(StandardCharsets.US_ASCII),
                VIRTIO_BLK_ID_BYTES);
    }

    private void fillConfig(DiskConfig cfg) {
        DiskTopology t = image.topology();
        int logical = Math.max(t.logicalBlockSize(), SECTOR_SIZE);
        int physicalExp = 0;
        for (long s = logical; s < t.physicalBlockSize(); s <<= 1) {
            physicalExp++;
        }
        config.putU64(VirtioBlockConfig.CAPACITY, capacitySectors);
        config.putU32(VirtioBlockConfig.SEG_MAX, cfg.queueSize() - MINIMUM_BLOCK_QUEUE_SIZE);
        config.putU32(VirtioBlockConfig.BLK_SIZE, t.logicalBlockSize());
        config.putU8(VirtioBlockConfig.PHYSICAL_BLOCK_EXP, physicalExp);
        config.putU16(VirtioBlockConfig.MIN_IO_SIZE, t.minimumIoSize() / logical);
        config.putU32(VirtioBlockConfig.OPT_IO_SIZE, t.optimalIoSize() / logical);
        config.putU8(VirtioBlockConfig.WRITEBACK, 1);
        long f = deviceFeatures();
        if (Virtio.has(f, VIRTIO_BLK_F_WRITE_ZEROES)) {
            config.putU32(VirtioBlockConfig.MAX_WRITE_ZEROES_SECTORS, 0xFFFF_FFFFL);
            config.putU32(VirtioBlockConfig.MAX_WRITE_ZEROES_SEG, MAX_DISCARD_WRITE_ZEROES_SEG);
            config.putU8(VirtioBlockConfig.WRITE_ZEROES_MAY_UNMAP,
                    Virtio.has(f, VIRTIO_BLK_F_DISCARD) ? 1 : 0);
        }
        if (Virtio.has(f, VIRTIO_BLK_F_DISCARD)) {
            config.putU32(VirtioBlockConfig.MAX_DISCARD_SECTORS, 0xFFFF_FFFFL);
            config.putU32(VirtioBlockConfig.MAX_DISCARD_SEG, MAX_DISCARD_WRITE_ZEROES_SEG);
            config.putU32(VirtioBlockConfig.DISCARD_SECTOR_ALIGNMENT, logical / SECTOR_SIZE);
        }
        if (numQueues > 1) {
            config.putU16(VirtioBlockConfig.NUM_QUEUES, numQueues);
        }
    }

    // ---- what the VMM and the API use ----

    /** The image behind the device. */
    public DiskImage image() {
        return image;
    }

    /** The guest-visible size in 512-byte sectors. */
    public long capacitySectors() {
        return capacitySectors;
    }

    /** The device ID string GET_ID returns. */
    public byte[] serial() {
        return serial.clone();
    }

    /** Whether the guest has the disk in writeback mode (else write-through). */
    public boolean writeback() {
        return writeback;
    }

    /** The disk's statistics. */
    public BlockCounters counters() {
        return counters;
    }

    /** The statistics by their {@code vm.counters} names (unsigned values). */
    public Map<String, Long> counterValues() {
        return counters.snapshot();
    }

    /**
     * Changes the disk's size ({@code vm.resize-disk}): resizes the image, updates
     * {@code capacity} and tells the driver (5.2.6: a configuration change notification).
     */
    public void resize(long newSizeBytes) throws IOException {
        if (newSizeBytes <= 0 || newSizeBytes % SECTOR_SIZE != 0) {
            throw new IllegalArgumentException("Disk size must be a positive multiple of "
                    + SECTOR_SIZE + ": size=" + newSizeBytes);
        }
        image.resize(newSizeBytes);
        synchronized (this) {
            capacitySectors = newSizeBytes >>> SECTOR_SHIFT;
            config.putU64(VirtioBlockConfig.CAPACITY, capacitySectors);
        }
        VirtioActivation a = activation();
        if (a != null) {
            a.interrupt().signalConfigChange();
        }
    }

    boolean readOnly() {
        return readOnly;
    }

    boolean sector0Protected() {
        return sector0Protected;
    }

    // ---- configuration space ----

    @Override
    public int configSize() {
        return VirtioBlockConfig.SIZE;
    }

    @Override
    public synchronized long readConfig(int offset, int size) {
        return config.read(offset, size);
    }

    @Override
    public void writeConfig(int offset, int size, long value) {
        // Only writeback may be written (5.2.5), and only with CONFIG_WCE.
        if (offset != VirtioBlockConfig.WRITEBACK || size != 1) {
            LOG.log(Level.DEBUG, () -> String.format("%s: write to read-only configuration"
                    + " ignored: offset=%d size=%d", id(), offset, size));
            return;
        }
        synchronized (this) {
            writebackRequested = (value & 0xFF) == 1;
            applyWriteback(activation() == null ? deviceFeatures() : activation().features());
        }
    }

    /**
     * 5.2.5.1: with CONFIG_WCE the driver picks the mode; without it, FLUSH means a writeback
     * cache the driver flushes, and no FLUSH means write-through.
     */
    private void applyWriteback(long features) {
        boolean flush = Virtio.has(features, VIRTIO_BLK_F_FLUSH);
        boolean wce = Virtio.has(features, VIRTIO_BLK_F_CONFIG_WCE);
        boolean enabled = wce ? flush && writebackRequested : flush;
        writeback = enabled;
        config.putU8(VirtioBlockConfig.WRITEBACK, enabled ? 1 : 0);
    }

    // ---- engine ----

    @Override
    protected void onActivate(VirtioActivation a) throws VirtioException {
        if (a.queue(0) == null) {
            throw new VirtioException(id() + ": request queue 0 is not enabled");
        }
        if (readOnly && !a.has(VIRTIO_BLK_F_RO)) {
            LOG.log(Level.WARNING, () -> id() + ": driver did not accept VIRTIO_BLK_F_RO; the"
                    + " disk stays read-only");
        }
        applyWriteback(a.features());
        BlockRequestHandler[] h = new BlockRequestHandler[numQueues];
        for (VirtioQueue q : a.queues()) {
            h[q.index()] = new BlockRequestHandler(this,
                    a.has(VIRTIO_BLK_F_DISCARD), a.has(VIRTIO_BLK_F_WRITE_ZEROES));
        }
        handlers = h;
    }

    @Override
    protected void onReset() {
        for (BlockRequestHandler h : handlers) {
            if (h != null) {
                h.close();
            }
        }
        handlers = new BlockRequestHandler[0];
        writebackRequested = true;
        applyWriteback(deviceFeatures());
    }

    @Override
    protected List<int[]> workerGroups(int queueCount) {
        List<int[]> groups = new ArrayList<>(queueCount);
        for (int i = 0; i < queueCount; i++) {
            groups.add(new int[] {i});
        }
        return groups;
    }

    @Override
    protected void processQueue(VirtioQueue queue) throws VirtqueueException {
        Virtqueue vq = queue.queue();
        BlockRequestHandler handler = handlers[queue.index()];
        vq.disableNotification();
        do {
            for (DescriptorChain chain; (chain = vq.pop()) != null; ) {
                vq.addUsed(chain.head(), handler.handle(chain));
            }
        } while (vq.enableNotification());
        signalUsed(queue);
    }

    byte[] serialBytes() {
        return serial;
    }

    @Override
    public void close() {
        reset();
        image.close();
    }
}
