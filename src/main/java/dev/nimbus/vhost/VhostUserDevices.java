package dev.nimbus.vhost;

import dev.nimbus.devices.virtio.Virtio;
import dev.nimbus.vmm.config.DiskConfig;
import dev.nimbus.vmm.config.MacAddress;
import dev.nimbus.vmm.config.NetConfig;
import dev.nimbus.vmm.config.VhostMode;
import java.io.IOException;

/**
 * The VMM's vhost-user devices, made from the same configuration as the built-in ones:
 * {@code --disk vhost_user=on,socket=...} and {@code --net vhost_user=on,socket=...,
 * vhost_mode=client|server}. The result is a {@link dev.nimbus.devices.virtio.VirtioDevice} the
 * VMM wraps in a {@code VirtioPciDevice} like any other; the guest's RAM must be shared
 * ({@code --memory shared=on}, checked by the configuration's validator).
 */
public final class VhostUserDevices {
    // struct virtio_blk_config up to write_zeroes_may_unmap and its padding (virtio 1.2, 5.2.4).
    static final int VIRTIO_BLK_CONFIG_SIZE = 60;
    static final int VIRTIO_BLK_CONFIG_SEG_MAX = 12;
    static final int VIRTIO_BLK_F_SEG_MAX = 2;
    // Network device feature bits and configuration (virtio 1.2, 5.1.3 and 5.1.4).
    static final int VIRTIO_NET_F_CSUM = 0;
    static final int VIRTIO_NET_F_GUEST_CSUM = 1;
    static final int VIRTIO_NET_F_MTU = 3;
    static final int VIRTIO_NET_F_MAC = 5;
    static final int VIRTIO_NET_F_GUEST_TSO4 = 7;
    static final int VIRTIO_NET_F_GUEST_TSO6 = 8;
    static final int VIRTIO_NET_F_GUEST_ECN = 9;
    static final int VIRTIO_NET_F_GUEST_UFO = 10;
    static final int VIRTIO_NET_F_HOST_TSO4 = 11;
    static final int VIRTIO_NET_F_HOST_TSO6 = 12;
    static final int VIRTIO_NET_F_HOST_ECN = 13;
    static final int VIRTIO_NET_F_HOST_UFO = 14;
    static final int VIRTIO_NET_F_MRG_RXBUF = 15;
    static final int VIRTIO_NET_F_STATUS = 16;
    static final int VIRTIO_NET_S_LINK_UP = 1;
    /** mac[6], status, max_virtqueue_pairs, mtu. */
    static final int VIRTIO_NET_CONFIG_SIZE = 12;

    /**
     * Transport features the VMM's split-ring transport handles; the rest (packed rings,
     * ACCESS_PLATFORM, in-order, notification data) it cannot pass through.
     */
    static final long TRANSPORT_FEATURES = Virtio.RING_FEATURES;
    /** Every device-specific bit (0 to 23, virtio 1.2, 2.2). */
    static final long DEVICE_FEATURE_BITS = (1L << 24) - 1;

    /**
     * Network features a back-end's data queues provide on their own. TODO: CTRL_VQ and MQ
     * need the VMM to serve the control queue itself (as Cloud Hypervisor does); until then a
     * vhost-user network device has one queue pair.
     */
    static final long NET_DATA_FEATURES = Virtio.bit(VIRTIO_NET_F_CSUM)
            | Virtio.bit(VIRTIO_NET_F_GUEST_CSUM) | Virtio.bit(VIRTIO_NET_F_GUEST_TSO4)
            | Virtio.bit(VIRTIO_NET_F_GUEST_TSO6) | Virtio.bit(VIRTIO_NET_F_GUEST_ECN)
            | Virtio.bit(VIRTIO_NET_F_GUEST_UFO) | Virtio.bit(VIRTIO_NET_F_HOST_TSO4)
            | Virtio.bit(VIRTIO_NET_F_HOST_TSO6) | Virtio.bit(VIRTIO_NET_F_HOST_ECN)
            | Virtio.bit(VIRTIO_NET_F_HOST_UFO) | Virtio.bit(VIRTIO_NET_F_MRG_RXBUF)
            | Virtio.bit(VIRTIO_NET_F_STATUS);

    private VhostUserDevices() {}

    /**
     * Connects to the vhost-user-blk back-end of {@code disk} (its id must be assigned) and
     * returns the device to put on the PCI bus. Blocks until the back-end answers, at most ten
     * seconds for its socket to appear.
     */
    public static VhostUserFrontend disk(DiskConfig disk) throws IOException {
        require(disk.vhostUser() && disk.vhostSocket() != null, "Disk " + disk.id()
                + " is not a vhost-user disk with a socket");
        VhostUserFrontend.Options o = new VhostUserFrontend.Options(
                TRANSPORT_FEATURES | DEVICE_FEATURE_BITS, 0, disk.numQueues(), disk.queueSize(),
                VIRTIO_BLK_CONFIG_SIZE, null);
        VhostUserFrontend f = VhostUserFrontend.connect(disk.id(), Virtio.VIRTIO_ID_BLOCK,
                disk.vhostSocket(), o);
        // seg_max bounds the buffers of one request; a chain cannot be longer than the queue
        // (virtio 1.2, 2.7.5.3.1), and the back-end chose seg_max for its own queue size.
        if (Virtio.has(f.deviceFeatures(), VIRTIO_BLK_F_SEG_MAX)) {
            long segMax = f.readConfig(VIRTIO_BLK_CONFIG_SEG_MAX, 4);
            long bound = disk.queueSize() - 2;
            if (segMax > bound) {
                f.overrideConfig(VIRTIO_BLK_CONFIG_SEG_MAX, 4, bound);
            }
        }
        return f;
    }

    /**
     * Meets the vhost-user-net back-end of {@code net}: connects to its socket
     * ({@code vhost_mode=client}, the default) or listens there until it connects
     * ({@code vhost_mode=server}). The configuration space (MAC, link status, MTU) is the
     * VMM's, as in Cloud Hypervisor: {@code mac} is the guest's address the VMM chose.
     */
    public static VhostUserFrontend net(NetConfig net, MacAddress mac) throws IOException {
        require(net.vhostUser() && net.vhostSocket() != null, "Network device " + net.id()
                + " is not a vhost-user device with a socket");
        if (net.numQueues() != 2) {
            // TODO: multi-queue needs the control queue in the VMM (see NET_DATA_FEATURES).
            throw new IOException("vhost-user network device " + net.id()
                    + " supports one queue pair: num_queues=" + net.numQueues());
        }
        byte[] config = new byte[VIRTIO_NET_CONFIG_SIZE];
        System.arraycopy(mac.bytes(), 0, config, 0, 6);
        config[6] = VIRTIO_NET_S_LINK_UP;
        config[8] = 1;
        long extra = Virtio.bit(VIRTIO_NET_F_MAC);
        if (net.mtu() != null) {
            config[10] = (byte) (int) net.mtu();
            config[11] = (byte) (net.mtu() >>> 8);
            extra |= Virtio.bit(VIRTIO_NET_F_MTU);
        }
        VhostUserFrontend.Options o = new VhostUserFrontend.Options(
                TRANSPORT_FEATURES | NET_DATA_FEATURES, extra, net.numQueues(), net.queueSize(),
                VIRTIO_NET_CONFIG_SIZE, config);
        return net.vhostMode() == VhostMode.SERVER
                ? VhostUserFrontend.accept(net.id(), Virtio.VIRTIO_ID_NET, net.vhostSocket(), o)
                : VhostUserFrontend.connect(net.id(), Virtio.VIRTIO_ID_NET, net.vhostSocket(), o);
    }

    private static void require(boolean ok, String message) throws IOException {
        if (!ok) {
            throw new IOException(message);
        }
    }
}
