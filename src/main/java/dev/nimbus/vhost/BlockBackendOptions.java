package dev.nimbus.vhost;

import dev.nimbus.devices.virtio.VirtioDevice;
import dev.nimbus.devices.virtio.block.VirtioBlock;
import dev.nimbus.json.UnsignedType;
import dev.nimbus.vmm.config.DiskConfig;
import dev.nimbus.vmm.config.OptionParser;
import java.io.IOException;

/**
 * The {@code --block-backend} option of {@code nimbus-vhost-user-blk}, as Cloud Hypervisor's
 * {@code vhost_user_block} takes it:
 * {@code path=<image>,socket=<socket>,num_queues=<n>,queue_size=<n>,readonly=on|off,
 * direct=on|off,poll_queue=on|off}.
 *
 * @param path the disk image (raw)
 * @param socket the vhost-user socket to listen on
 * @param numQueues request queues (default 1)
 * @param queueSize descriptors per queue (default 1024)
 * @param readonly whether the guest may only read
 * @param direct whether the image is opened with {@code O_DIRECT}
 * @param pollQueue accepted for compatibility; the engine always waits on the kick eventfd
 */
public record BlockBackendOptions(String path, String socket, int numQueues, int queueSize,
        boolean readonly, boolean direct, boolean pollQueue)
        implements BackendDaemon.Options {
    public static final String SYNTAX = "vhost-user-block backend parameters \"path=<image_path>,"
            + "socket=<socket_path>,num_queues=<number_of_queues>,"
            + "queue_size=<size_of_each_queue>,readonly=true|false,direct=true|false,"
            + "poll_queue=true|false\"";
    /** The id the engine runs under (thread names, logs). */
    public static final String ENGINE_ID = "_vhost_user_blk";

    /** Parses the option string; errors name the option. */
    public static BlockBackendOptions parse(String option) {
        OptionParser p = new OptionParser("Error parsing --block-backend")
                .add("path", "socket", "num_queues", "queue_size", "readonly", "direct",
                        "poll_queue")
                .parse(option);
        String path = p.get("path");
        if (path == null) {
            throw new IllegalArgumentException("Error parsing --block-backend: No path provided");
        }
        String socket = p.get("socket");
        if (socket == null) {
            throw new IllegalArgumentException("Error parsing --block-backend: No socket provided");
        }
        Integer numQueues = p.unsignedInt("num_queues", UnsignedType.USIZE_INT);
        Integer queueSize = p.unsignedInt("queue_size", UnsignedType.U16);
        return new BlockBackendOptions(path, socket, numQueues == null ? 1 : numQueues,
                queueSize == null ? 1024 : queueSize, p.toggle("readonly", false),
                p.toggle("direct", false), p.toggle("poll_queue", true));
    }

    /**
     * The disk as the VMM's block engine takes it. The image is raw: a back-end is told what
     * it serves, so it does not probe the format (and does not guard sector 0 as probing would).
     */
    public DiskConfig toDiskConfig() {
        String quoted = "\"" + path.replace("\"", "\"\"") + "\"";
        return DiskConfig.parse("path=" + quoted + ",readonly=" + onOff(readonly) + ",direct="
                + onOff(direct) + ",num_queues=" + numQueues + ",queue_size=" + queueSize
                + ",image_type=raw,id=" + ENGINE_ID);
    }

    static String onOff(boolean b) {
        return b ? "on" : "off";
    }

    @Override
    public VirtioDevice open() throws IOException {
        return VirtioBlock.open(toDiskConfig());
    }
}
