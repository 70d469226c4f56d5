package dev.nimbus.devices.virtio.net;

import dev.nimbus.devices.virtio.DescriptorChain;
import dev.nimbus.devices.virtio.VirtioQueue;
import dev.nimbus.devices.virtio.Virtqueue;
import dev.nimbus.devices.virtio.VirtqueueException;
import dev.nimbus.log.RateLimitedLog;
import dev.nimbus.net.NetBackend;
import dev.nimbus.sys.SyscallException;
import java.lang.System.Logger.Level;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.List;

/**
 * The control virtqueue (virtio 1.2, 5.1.6.5): commands as {@code struct virtio_net_ctrl
 * { u8 class; u8 command; u8 data[]; u8 ack; }}, the ack device-writable and last.
 *
 * <p>Handled: VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET (accepted within 1..max_virtqueue_pairs),
 * VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET (reprograms the backends' offloads, limited to the
 * negotiated ones), VIRTIO_NET_CTRL_ANNOUNCE_ACK. Receive-mode and VLAN filter commands are
 * acknowledged and ignored: every frame reaches the guest. Anything else gets VIRTIO_NET_ERR.
 */
final class NetControlQueue {
    private static final RateLimitedLog COMMAND_ERRORS =
            new RateLimitedLog(System.getLogger(NetControlQueue.class.getName()));

    // Classes and commands, 5.1.6.5.
    static final int VIRTIO_NET_CTRL_RX = 0;
    static final int VIRTIO_NET_CTRL_RX_NOBCAST = 5;
    static final int VIRTIO_NET_CTRL_MAC = 1;
    static final int VIRTIO_NET_CTRL_VLAN = 2;
    static final int VIRTIO_NET_CTRL_VLAN_DEL = 1;
    static final int VIRTIO_NET_CTRL_ANNOUNCE = 3;
    static final int VIRTIO_NET_CTRL_ANNOUNCE_ACK = 0;
    static final int VIRTIO_NET_CTRL_MQ = 4;
    static final int VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET = 0;
    static final int VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN = 1;
    static final int VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX = 0x8000;
    static final int VIRTIO_NET_CTRL_GUEST_OFFLOADS = 5;
    static final int VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET = 0;
    static final int VIRTIO_NET_OK = 0;
    static final int VIRTIO_NET_ERR = 1;

    private static final ValueLayout.OfShort U16 =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final VirtioNet device;
    private final VirtioQueue queue;
    private final List<? extends NetBackend> backends;
    private final long negotiated;
    private final byte[] command = new byte[10];
    private final MemorySegment commandView = MemorySegment.ofArray(command);
    private final byte[] ack = new byte[1];

    NetControlQueue(VirtioNet device, VirtioQueue queue, List<? extends NetBackend> backends,
            long negotiated) {
        this.device = device;
        this.queue = queue;
        this.backends = backends;
        this.negotiated = negotiated;
    }

    void process() throws VirtqueueException {
        Virtqueue vq = queue.queue();
        boolean used = false;
        do {
            for (DescriptorChain chain; (chain = vq.pop()) != null; ) {
                vq.addUsed(chain.head(), handle(chain));
                used = true;
            }
        } while (vq.enableNotification());
        if (used) {
            device.notifyUsed(queue);
        }
    }

    /** Runs one command; returns the used length (the ack byte, or 0 without one). */
    private int handle(DescriptorChain chain) {
        if (chain.writableLength() == 0) {
            fail(chain, "no device-writable ack byte");
            return 0;
        }
        long len = chain.readableLength();
        int status = VIRTIO_NET_ERR;
        if (len < 2) {
            fail(chain, "command shorter than class and command: len=" + len);
        } else {
            int n = chain.read(0, command, 0, (int) Math.min(len, command.length));
            status = execute(chain, command[0] & 0xFF, command[1] & 0xFF, n - 2);
        }
        ack[0] = (byte) status;
        chain.write(chain.writableLength() - 1, ack, 0, 1);
        return 1;
    }

    private int execute(DescriptorChain chain, int cls, int cmd, int dataLen) {
        switch (cls) {
            case VIRTIO_NET_CTRL_MQ -> {
                if (cmd != VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET || dataLen < 2) {
                    return bad(chain, cls, cmd);
                }
                int pairs = Short.toUnsignedInt(commandView.get(U16, 2));
                if (pairs < VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN || pairs > device.queuePairs()) {
                    fail(chain, "queue pairs out of range: pairs=" + pairs + " max="
                            + device.queuePairs());
                    return VIRTIO_NET_ERR;
                }
                // TODO: every pair keeps running; detaching the unused tap queues
                // (TUNSETQUEUE) would stop the kernel steering flows to pairs the driver
                // does not poll. The VMM caps pairs at the vCPU count, so Linux uses them all.
                return VIRTIO_NET_OK;
            }
            case VIRTIO_NET_CTRL_GUEST_OFFLOADS -> {
                if (cmd != VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET || dataLen < 8) {
                    return bad(chain, cls, cmd);
                }
                // 5.1.6.5.6.1: only negotiated offloads may be enabled.
                long offloads = commandView.get(U64, 2) & negotiated;
                int tunFlags = VirtioNet.tapOffload(offloads);
                for (NetBackend b : backends) {
                    try {
                        b.setOffload(tunFlags);
                    } catch (SyscallException e) {
                        fail(chain, "cannot set offloads on " + b.name() + ": " + e.getMessage());
                        return VIRTIO_NET_ERR;
                    }
                }
                return VIRTIO_NET_OK;
            }
            case VIRTIO_NET_CTRL_ANNOUNCE -> {
                return cmd == VIRTIO_NET_CTRL_ANNOUNCE_ACK ? VIRTIO_NET_OK : bad(chain, cls, cmd);
            }
            case VIRTIO_NET_CTRL_RX -> {
                return cmd <= VIRTIO_NET_CTRL_RX_NOBCAST ? VIRTIO_NET_OK : bad(chain, cls, cmd);
            }
            case VIRTIO_NET_CTRL_VLAN -> {
                return cmd <= VIRTIO_NET_CTRL_VLAN_DEL ? VIRTIO_NET_OK : bad(chain, cls, cmd);
            }
            default -> {
                return bad(chain, cls, cmd);
            }
        }
    }

    private int bad(DescriptorChain chain, int cls, int cmd) {
        fail(chain, "unsupported command class=" + cls + " command=" + cmd);
        return VIRTIO_NET_ERR;
    }

    private void fail(DescriptorChain chain, String why) {
        COMMAND_ERRORS.log(Level.WARNING, () -> String.format("%s: control command head=%d"
                + " failed: %s", device.id(), chain.head(), why));
    }
}
