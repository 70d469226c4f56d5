package dev.nimbus.vmm.config;

import dev.nimbus.json.JsonFields;
import dev.nimbus.json.JsonObject;
import dev.nimbus.json.UnsignedType;

/**
 * A virtio-fs share served by a vhost-user backend such as virtiofsd: {@code FsConfig} in the
 * API, {@code --fs} on the command line. It cannot sit behind the IOMMU.
 *
 * @param pci id and PCI placement
 * @param tag the name the guest mounts the share by (at most {@value #MAX_TAG_LENGTH} bytes)
 * @param socket the backend's vhost-user socket
 * @param numQueues request queues
 * @param queueSize descriptors per queue
 */
public record FsConfig(PciCommon pci, String tag, String socket, int numQueues, int queueSize) {
    public static final int DEFAULT_NUM_QUEUES = 1;
    public static final int DEFAULT_QUEUE_SIZE = 1024;
    /** The size of the tag field in the device's configuration space (virtio spec 5.11.4). */
    public static final int MAX_TAG_LENGTH = 36;

    static final String TAG = "tag";
    static final String SOCKET = "socket";
    static final String NUM_QUEUES = "num_queues";
    static final String QUEUE_SIZE = "queue_size";

    public FsConfig {
        if (pci == null) {
            pci = PciCommon.DEFAULT;
        }
    }

    /** The device's identifier, or null until the VMM names it. */
    public String id() {
        return pci.id();
    }

    /** This device under another identifier. */
    public FsConfig withId(String id) {
        return new FsConfig(pci.withId(id), tag, socket, numQueues, queueSize);
    }

    /** Parses one {@code --fs} option string. */
    public static FsConfig parse(String option) {
        OptionParser p = new OptionParser("Error parsing --fs")
                .add(TAG, QUEUE_SIZE, NUM_QUEUES, SOCKET)
                .add(PciCommon.KEYS)
                .parse(option);
        String tag = p.get(TAG);
        if (tag == null) {
            throw ConfigException.option("Error parsing --fs: tag missing");
        }
        if (tag.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > MAX_TAG_LENGTH) {
            throw ConfigException.option("Error parsing --fs: max tag length is "
                    + MAX_TAG_LENGTH);
        }
        String socket = p.get(SOCKET);
        if (socket == null) {
            throw ConfigException.option("Error parsing --fs: socket missing");
        }
        Integer queueSize = p.unsignedInt(QUEUE_SIZE, UnsignedType.U16);
        Integer numQueues = p.unsignedInt(NUM_QUEUES, UnsignedType.USIZE_INT);
        return new FsConfig(PciCommon.parse(option), tag, socket,
                numQueues == null ? DEFAULT_NUM_QUEUES : numQueues,
                queueSize == null ? DEFAULT_QUEUE_SIZE : queueSize);
    }

    /** Reads an {@code FsConfig} object, e.g. the body of {@code vm.add-fs}. */
    public static FsConfig fromJson(JsonFields f) {
        return new FsConfig(
                PciCommon.fromJson(f),
                f.string(TAG),
                f.string(SOCKET),
                (int) f.unsigned(NUM_QUEUES, UnsignedType.USIZE_INT, DEFAULT_NUM_QUEUES),
                (int) f.unsigned(QUEUE_SIZE, UnsignedType.U16, DEFAULT_QUEUE_SIZE));
    }

    /** This device as the API writes it. */
    public JsonObject toJson() {
        JsonObject.Builder b = JsonObject.builder();
        pci.toJson(b);
        return b.put(TAG, tag)
                .put(SOCKET, socket)
                .put(NUM_QUEUES, numQueues)
                .put(QUEUE_SIZE, queueSize)
                .build();
    }
}
