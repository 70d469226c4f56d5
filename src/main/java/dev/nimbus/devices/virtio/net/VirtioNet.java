package dev.nimbus.devices.virtio.net;

import dev.nimbus.devices.virtio.Virtio;
import dev.nimbus.devices.virtio.VirtioActivation;
import dev.nimbus.devices.virtio.VirtioDeviceBase;
import dev.nimbus.devices.virtio.VirtioException;
import dev.nimbus.devices.virtio.VirtioQueue;
import dev.nimbus.devices.virtio.VirtioWorker;
import dev.nimbus.devices.virtio.VirtqueueException;
import dev.nimbus.net.NetBackend;
import dev.nimbus.net.NetInterface;
import dev.nimbus.net.Tap;
import dev.nimbus.net.Taps;
import dev.nimbus.sys.SyscallException;
import dev.nimbus.vmm.config.MacAddress;
import dev.nimbus.vmm.config.NetConfig;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The network device (virtio 1.2, 5.1) over one {@link NetBackend} per queue pair, normally
 * the queues of a tap interface: {@code --net} without {@code vhost_user}. Queues are receiveq
 * and transmitq for each pair, then the control queue (index 2N with VIRTIO_NET_F_MQ, 2
 * without). Each pair has a device thread; the control queue shares the first pair's. A device
 * with one pair runs a single thread named after it ({@code _net0}); with more, the threads
 * are {@code _net0_q0}, {@code _net0_q2}, ...
 *
 * <p>Features, as Cloud Hypervisor offers them: MAC, STATUS (link always up), CTRL_VQ, MQ,
 * GUEST_ANNOUNCE, MTU when the tap's MTU is known, and with {@code offload_csum} the checksum
 * offloads (CSUM, GUEST_CSUM, CTRL_GUEST_OFFLOADS) plus, with {@code offload_tso}, TSO4/6 and
 * ECN both ways and, with {@code offload_ufo}, UFO both ways. Frames never span receive
 * buffers (no MRG_RXBUF). At activation the tap is told which offloads the driver accepted
 * (TUNSETOFFLOAD), so it hands the guest only frames it can take.
 *
 * <p>The engine knows no transport, so a vhost-user backend can drive it too.
 */
public final class VirtioNet extends VirtioDeviceBase {
    private static final Logger LOG = System.getLogger(VirtioNet.class.getName());

    // Feature bits, 5.1.3.
    public static final int VIRTIO_NET_F_CSUM = 0;
    public static final int VIRTIO_NET_F_GUEST_CSUM = 1;
    public static final int VIRTIO_NET_F_CTRL_GUEST_OFFLOADS = 2;
    public static final int VIRTIO_NET_F_MTU = 3;
    public static final int VIRTIO_NET_F_MAC = 5;
    public static final int VIRTIO_NET_F_GUEST_TSO4 = 7;
    public static final int VIRTIO_NET_F_GUEST_TSO6 = 8;
    public static final int VIRTIO_NET_F_GUEST_ECN = 9;
    public static final int VIRTIO_NET_F_GUEST_UFO = 10;
    public static final int VIRTIO_NET_F_HOST_TSO4 = 11;
    public static final int VIRTIO_NET_F_HOST_TSO6 = 12;
    public static final int VIRTIO_NET_F_HOST_ECN = 13;
    public static final int VIRTIO_NET_F_HOST_UFO = 14;
    public static final int VIRTIO_NET_F_MRG_RXBUF = 15;
    public static final int VIRTIO_NET_F_STATUS = 16;
    public static final int VIRTIO_NET_F_CTRL_VQ = 17;
    public static final int VIRTIO_NET_F_GUEST_ANNOUNCE = 21;
    public static final int VIRTIO_NET_F_MQ = 22;

    public static final int VIRTIO_NET_S_LINK_UP = 1;

    // struct virtio_net_config, 5.1.4 (the part up to duplex).
    static final int CONFIG_MAC = 0;
    static final int CONFIG_STATUS = 6;
    static final int CONFIG_MAX_VIRTQUEUE_PAIRS = 8;
    static final int CONFIG_MTU = 10;
    static final int CONFIG_SPEED = 12;
    static final int CONFIG_DUPLEX = 16;
    static final int CONFIG_SIZE = 17;

    private final List<? extends NetBackend> backends;
    private final MacAddress mac;
    private final Integer mtu;
    private final int pairs;
    private final NetCounters counters = new NetCounters();
    private final byte[] config = new byte[CONFIG_SIZE];

    // Per activation: written in onActivate before the threads start.
    private NetQueuePair[] queuePairs = new NetQueuePair[0];
    private NetControlQueue control;
    private int controlIndex = -1;
    private int activePairs;

    /**
     * A network device for {@code config} over {@code backends}, one per queue pair (their
     * count decides the queues, as with {@code fd=}).
     *
     * @param config id ({@code _net0} or the user's), {@code queue_size} and the offload
     *     switches
     * @param backends the queue pairs' backends; the device closes them in {@link #close()}
     * @param mac the guest's MAC address
     * @param mtu the MTU to offer (VIRTIO_NET_F_MTU), or null to offer none
     */
    public VirtioNet(NetConfig config, List<? extends NetBackend> backends, MacAddress mac,
            Integer mtu) {
        super(requireId(config), Virtio.VIRTIO_ID_NET, features(config, mtu),
                queueSizes(config, backends.size()));
        this.backends = List.copyOf(backends);
        this.mac = mac;
        this.mtu = mtu;
        this.pairs = backends.size();
        fillConfig();
    }

    /**
     * Opens the taps for {@code config} ({@link Taps#open}) and makes the device: the guest MAC
     * is {@code mac=} or a random local one ({@link #mac()} tells which; the VMM should keep it
     * in the configuration), the MTU the tap's.
     */
    public static VirtioNet open(NetConfig config) throws IOException {
        requireId(config);
        List<Tap> taps = Taps.open(config);
        try {
            Integer mtu;
            try {
                mtu = new NetInterface(taps.get(0).name()).mtu();
            } catch (SyscallException e) {
                LOG.log(Level.WARNING, () -> "Cannot read the MTU of " + taps.get(0).name()
                        + "; not offering VIRTIO_NET_F_MTU: " + e.getMessage());
                mtu = null;
            }
            MacAddress mac = config.mac() != null ? config.mac()
                    : MacAddress.localRandom(new SecureRandom());
            return new VirtioNet(config, taps, mac, mtu);
        } catch (RuntimeException e) {
            for (Tap t : taps) {
                t.close();
            }
            throw e;
        }
    }

    private static String requireId(NetConfig config) {
        if (config.id() == null) {
            throw new IllegalArgumentException("Network device has no id; assign one first"
                    + " (_net0)");
        }
        return config.id();
    }

    private static int[] queueSizes(NetConfig config, int pairs) {
        if (pairs < 1) {
            throw new IllegalArgumentException("A network device needs at least one backend");
        }
        int[] sizes = new int[2 * pairs + 1];
        Arrays.fill(sizes, config.queueSize());
        return sizes;
    }

    private static long features(NetConfig config, Integer mtu) {
        long f = Virtio.RING_FEATURES | Virtio.bit(VIRTIO_NET_F_MAC)
                | Virtio.bit(VIRTIO_NET_F_STATUS) | Virtio.bit(VIRTIO_NET_F_CTRL_VQ)
                | Virtio.bit(VIRTIO_NET_F_MQ) | Virtio.bit(VIRTIO_NET_F_GUEST_ANNOUNCE);
        if (mtu != null) {
            f |= Virtio.bit(VIRTIO_NET_F_MTU);
        }
        if (config.offloadCsum()) {
            f |= Virtio.bit(VIRTIO_NET_F_CSUM) | Virtio.bit(VIRTIO_NET_F_GUEST_CSUM)
                    | Virtio.bit(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS);
            if (config.offloadTso()) {
                f |= Virtio.bit(VIRTIO_NET_F_HOST_ECN) | Virtio.bit(VIRTIO_NET_F_HOST_TSO4)
                        | Virtio.bit(VIRTIO_NET_F_HOST_TSO6) | Virtio.bit(VIRTIO_NET_F_GUEST_ECN)
                        | Virtio.bit(VIRTIO_NET_F_GUEST_TSO4)
                        | Virtio.bit(VIRTIO_NET_F_GUEST_TSO6);
            }
            if (config.offloadUfo()) {
                f |= Virtio.bit(VIRTIO_NET_F_HOST_UFO) | Virtio.bit(VIRTIO_NET_F_GUEST_UFO);
            }
        }
        return f;
    }

    /** The tap offloads ({@code TUN_F_*}) the guest-side features in {@code features} allow. */
    public static int tapOffload(long features) {
        int flags = 0;
        if (Virtio.has(features, VIRTIO_NET_F_GUEST_CSUM)) {
            flags |= Tap.TUN_F_CSUM;
        }
        if (Virtio.has(features, VIRTIO_NET_F_GUEST_TSO4)) {
            flags |= Tap.TUN_F_TSO4;
        }
        if (Virtio.has(features, VIRTIO_NET_F_GUEST_TSO6)) {
            flags |= Tap.TUN_F_TSO6;
        }
        if (Virtio.has(features, VIRTIO_NET_F_GUEST_ECN)) {
            flags |= Tap.TUN_F_TSO_ECN;
        }
        if (Virtio.has(features, VIRTIO_NET_F_GUEST_UFO)) {
            flags |= Tap.TUN_F_UFO;
        }
        return flags;
    }

    private void fillConfig() {
        byte[] m = mac.bytes();
        System.arraycopy(m, 0, config, CONFIG_MAC, 6);
        putU16(CONFIG_STATUS, VIRTIO_NET_S_LINK_UP);
        if (pairs <= NetControlQueue.VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX) {
            putU16(CONFIG_MAX_VIRTQUEUE_PAIRS, pairs);
        }
        if (mtu != null) {
            putU16(CONFIG_MTU, mtu);
        }
    }

    private void putU16(int offset, int value) {
        config[offset] = (byte) value;
        config[offset + 1] = (byte) (value >>> 8);
    }

    // ---- what the VMM and the API use ----

    /** The guest's MAC address. */
    public MacAddress mac() {
        return mac;
    }

    /** The MTU offered, or null. */
    public Integer mtu() {
        return mtu;
    }

    /** Queue pairs the device has. */
    public int queuePairs() {
        return pairs;
    }

    /** The backends, one per queue pair. */
    public List<? extends NetBackend> backends() {
        return backends;
    }

    public NetCounters counters() {
        return counters;
    }

    /** The statistics by their {@code vm.counters} names. */
    public Map<String, Long> counterValues() {
        return counters.snapshot();
    }

    // ---- configuration space ----

    @Override
    public int configSize() {
        return CONFIG_SIZE;
    }

    @Override
    public long readConfig(int offset, int size) {
        // Read-only after construction: no lock needed.
        long value = 0;
        for (int i = size - 1; i >= 0; i--) {
            int o = offset + i;
            value = value << 8 | (o >= 0 && o < CONFIG_SIZE ? config[o] & 0xFF : 0);
        }
        return value;
    }

    @Override
    public void writeConfig(int offset, int size, long value) {
        // 5.1.4: the driver writes nothing here (the MAC only without VERSION_1).
    }

    // ---- engine ----

    @Override
    protected void onActivate(VirtioActivation a) throws VirtioException {
        boolean mq = a.has(VIRTIO_NET_F_MQ);
        activePairs = mq ? pairs : 1;
        // 5.1.2: the control queue follows the receive/transmit queues the driver may use.
        controlIndex = a.has(VIRTIO_NET_F_CTRL_VQ) ? 2 * activePairs : -1;
        int tunFlags = tapOffload(a.features());
        NetQueuePair[] qp = new NetQueuePair[activePairs];
        try {
            for (int p = 0; p < activePairs; p++) {
                VirtioQueue rx = a.queue(2 * p);
                VirtioQueue tx = a.queue(2 * p + 1);
                if (rx == null || tx == null) {
                    if (p == 0) {
                        throw new VirtioException(id() + ": receiveq1 and transmitq1 must be"
                                + " enabled");
                    }
                    continue;
                }
                backends.get(p).setOffload(tunFlags);
                qp[p] = new NetQueuePair(this, p, backends.get(p), rx, tx, counters);
            }
        } catch (SyscallException e) {
            closePairs(qp);
            throw new VirtioException(id() + ": cannot set up the backends: " + e.getMessage(), e);
        } catch (VirtioException e) {
            closePairs(qp);
            throw e;
        }
        VirtioQueue ctrl = controlIndex >= 0 ? a.queue(controlIndex) : null;
        control = ctrl == null ? null : new NetControlQueue(this, ctrl, backends, a.features());
        queuePairs = qp;
    }

    private static void closePairs(NetQueuePair[] qp) {
        for (NetQueuePair p : qp) {
            if (p != null) {
                p.close();
            }
        }
    }

    @Override
    protected void onReset() {
        closePairs(queuePairs);
        queuePairs = new NetQueuePair[0];
        control = null;
        controlIndex = -1;
    }

    @Override
    protected List<int[]> workerGroups(int queueCount) {
        List<int[]> groups = new ArrayList<>();
        for (int p = 0; p < activePairs; p++) {
            boolean withControl = p == 0 && controlIndex >= 0;
            groups.add(withControl ? new int[] {0, 1, controlIndex}
                    : new int[] {2 * p, 2 * p + 1});
        }
        return groups;
    }

    @Override
    protected List<VirtioWorker.EventSource> eventSources(int group) {
        NetQueuePair p = group < queuePairs.length ? queuePairs[group] : null;
        if (p == null) {
            return List.of();
        }
        return List.of(new VirtioWorker.EventSource(p.readinessFd(), p::onBackendReady));
    }

    @Override
    protected void processQueue(VirtioQueue queue) throws VirtqueueException {
        int index = queue.index();
        if (index == controlIndex) {
            control.process();
            return;
        }
        NetQueuePair p = index / 2 < queuePairs.length ? queuePairs[index / 2] : null;
        if (p == null) {
            return;
        }
        if (index % 2 == 0) {
            p.onRxKick();
        } else {
            p.onTxKick();
        }
    }

    /** Sends a used buffer notification for {@code queue} if the driver wants one. */
    void notifyUsed(VirtioQueue queue) {
        signalUsed(queue);
    }

    @Override
    public void close() {
        reset();
        for (NetBackend b : backends) {
            b.close();
        }
    }
}
