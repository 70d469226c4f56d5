package dev.nimbus.vmm.config;

import dev.nimbus.json.JsonException;
import dev.nimbus.json.JsonFields;
import dev.nimbus.json.JsonObject;
import dev.nimbus.json.UnsignedType;
import java.util.List;

/**
 * A virtio-net device on a tap interface, or a vhost-user-net backend: {@code NetConfig} in the
 * API, {@code --net} on the command line.
 *
 * @param pci id and PCI placement
 * @param tap the tap interface name; null for the VMM to create one
 * @param ip the host-side address of the tap, or null
 * @param mask the netmask of {@code ip}, or null
 * @param mac the guest's MAC address; null for a random one when the device is created
 * @param hostMac the tap's MAC address, or null
 * @param mtu the MTU, or null to keep the tap's
 * @param numQueues virtqueues, counting receive and transmit queues separately
 * @param queueSize descriptors per queue
 * @param vhostUser whether a vhost-user backend serves the device
 * @param vhostSocket the backend's socket; null unless vhost-user
 * @param vhostMode whether the VMM connects to the backend's socket or listens on it
 * @param fds already opened tap file descriptors, one per queue pair; empty when the VMM opens
 *     the tap itself. From the API these only ever come through {@code SCM_RIGHTS}: numbers in a
 *     JSON body are ignored because they mean nothing in this process.
 * @param rateLimiterConfig the device's limits, or null
 * @param offloadTso whether TCP segmentation offload is offered
 * @param offloadUfo whether UDP fragmentation offload is offered
 * @param offloadCsum whether checksum offload is offered (TSO and UFO depend on it)
 */
public record NetConfig(
        PciCommon pci,
        String tap,
        IpAddress ip,
        IpAddress mask,
        MacAddress mac,
        MacAddress hostMac,
        Integer mtu,
        int numQueues,
        int queueSize,
        boolean vhostUser,
        String vhostSocket,
        VhostMode vhostMode,
        List<Integer> fds,
        RateLimiterConfig rateLimiterConfig,
        boolean offloadTso,
        boolean offloadUfo,
        boolean offloadCsum) {

    public static final int DEFAULT_NUM_QUEUES = 2;
    public static final int DEFAULT_QUEUE_SIZE = 256;

    static final String TAP = "tap";
    static final String IP = "ip";
    static final String MASK = "mask";
    static final String MAC = "mac";
    static final String HOST_MAC = "host_mac";
    static final String MTU = "mtu";
    static final String NUM_QUEUES = "num_queues";
    static final String QUEUE_SIZE = "queue_size";
    static final String VHOST_USER = "vhost_user";
    static final String VHOST_SOCKET = "vhost_socket";
    static final String VHOST_MODE = "vhost_mode";
    static final String FDS = "fds";
    static final String RATE_LIMITER_CONFIG = "rate_limiter_config";
    static final String OFFLOAD_TSO = "offload_tso";
    static final String OFFLOAD_UFO = "offload_ufo";
    static final String OFFLOAD_CSUM = "offload_csum";

    /** Option keys that differ from the JSON names. */
    static final String OPT_SOCKET = "socket";
    static final String OPT_FD = "fd";

    public NetConfig {
        fds = List.copyOf(fds);
        if (pci == null) {
            pci = PciCommon.DEFAULT;
        }
        if (vhostMode == null) {
            vhostMode = VhostMode.CLIENT;
        }
    }

    /** The device's identifier, or null until the VMM names it. */
    public String id() {
        return pci.id();
    }

    /** This device under another identifier. */
    public NetConfig withId(String id) {
        return new NetConfig(pci.withId(id), tap, ip, mask, mac, hostMac, mtu, numQueues,
                queueSize, vhostUser, vhostSocket, vhostMode, fds, rateLimiterConfig, offloadTso,
                offloadUfo, offloadCsum);
    }

    /** This device with a guest MAC address, e.g. the random one the VMM picks. */
    public NetConfig withMac(MacAddress guestMac) {
        return new NetConfig(pci, tap, ip, mask, guestMac, hostMac, mtu, numQueues, queueSize,
                vhostUser, vhostSocket, vhostMode, fds, rateLimiterConfig, offloadTso,
                offloadUfo, offloadCsum);
    }

    /** This device with tap descriptors received through {@code SCM_RIGHTS}. */
    public NetConfig withFds(List<Integer> tapFds) {
        return new NetConfig(pci, tap, ip, mask, mac, hostMac, mtu, numQueues, queueSize,
                vhostUser, vhostSocket, vhostMode, tapFds, rateLimiterConfig, offloadTso,
                offloadUfo, offloadCsum);
    }

    /** Parses one {@code --net} option string. */
    public static NetConfig parse(String option) {
        OptionParser p = new OptionParser("Error parsing --net")
                .add(TAP, IP, MASK, MAC, HOST_MAC, OFFLOAD_TSO, OFFLOAD_UFO, OFFLOAD_CSUM, MTU,
                        QUEUE_SIZE, NUM_QUEUES, VHOST_USER, OPT_SOCKET, VHOST_MODE, OPT_FD)
                .add(RateLimiterConfig.KEYS)
                .add(PciCommon.KEYS_WITH_IOMMU)
                .parse(option);
        String tap = p.get(TAP);
        IpAddress ip = ip(p, IP);
        IpAddress mask = ip(p, MASK);
        MacAddress mac = mac(p, MAC);
        MacAddress hostMac = mac(p, HOST_MAC);
        boolean tso = p.toggle(OFFLOAD_TSO, true);
        boolean ufo = p.toggle(OFFLOAD_UFO, true);
        boolean csum = p.toggle(OFFLOAD_CSUM, true);
        Integer mtu = p.unsignedInt(MTU, UnsignedType.U16);
        Integer queueSize = p.unsignedInt(QUEUE_SIZE, UnsignedType.U16);
        Integer numQueues = p.unsignedInt(NUM_QUEUES, UnsignedType.USIZE_INT);
        boolean vhostUser = p.toggle(VHOST_USER, false);
        String socket = p.get(OPT_SOCKET);
        VhostMode mode = WireEnum.option(p, VHOST_MODE, VhostMode.values(), true);
        List<Long> fdList = p.integerList(OPT_FD, UnsignedType.U32_INT);
        RateLimiterConfig limiter = RateLimiterConfig.parse(p);
        PciCommon pci = PciCommon.parse(option);
        return new NetConfig(pci, tap, ip, mask, mac, hostMac, mtu,
                numQueues == null ? DEFAULT_NUM_QUEUES : numQueues,
                queueSize == null ? DEFAULT_QUEUE_SIZE : queueSize,
                vhostUser, socket, mode,
                fdList == null ? List.of() : IntLists.toInts(fdList),
                limiter, tso, ufo, csum);
    }

    private static IpAddress ip(OptionParser p, String key) {
        String raw = p.raw(key);
        if (raw == null) {
            return null;
        }
        IpAddress address = IpAddress.parse(OptionParser.dequote(raw));
        if (address == null) {
            throw p.conversionError(key, raw);
        }
        return address;
    }

    private static MacAddress mac(OptionParser p, String key) {
        String raw = p.raw(key);
        if (raw == null) {
            return null;
        }
        MacAddress address = MacAddress.parse(OptionParser.dequote(raw));
        if (address == null) {
            throw p.conversionError(key, raw);
        }
        return address;
    }

    /**
     * Reads a {@code NetConfig} object, e.g. the body of {@code vm.add-net}. Descriptor numbers
     * under {@code fds} are dropped; the API server attaches the received ones with
     * {@link #withFds}.
     */
    public static NetConfig fromJson(JsonFields f) {
        f.intList(FDS); // type-checked like any field, then dropped
        JsonFields limiter = f.optObject(RATE_LIMITER_CONFIG);
        Long mtu = f.optUnsigned(MTU, UnsignedType.U16);
        return new NetConfig(
                PciCommon.fromJson(f),
                f.optString(TAP),
                ip(f, IP),
                ip(f, MASK),
                mac(f, MAC),
                mac(f, HOST_MAC),
                mtu == null ? null : mtu.intValue(),
                (int) f.unsigned(NUM_QUEUES, UnsignedType.USIZE_INT, DEFAULT_NUM_QUEUES),
                (int) f.unsigned(QUEUE_SIZE, UnsignedType.U16, DEFAULT_QUEUE_SIZE),
                f.bool(VHOST_USER, false),
                f.optString(VHOST_SOCKET),
                WireEnum.read(f, VHOST_MODE, VhostMode.values(), VhostMode.CLIENT),
                List.of(),
                limiter == null ? null : RateLimiterConfig.fromJson(limiter),
                f.bool(OFFLOAD_TSO, true),
                f.bool(OFFLOAD_UFO, true),
                f.bool(OFFLOAD_CSUM, true));
    }

    private static IpAddress ip(JsonFields f, String key) {
        String text = f.optString(key);
        if (text == null) {
            return null;
        }
        IpAddress address = IpAddress.parse(text);
        if (address == null) {
            throw new JsonException("Invalid value at " + f.pathOf(key) + ": \"" + text
                    + "\" is not an IP address");
        }
        return address;
    }

    private static MacAddress mac(JsonFields f, String key) {
        String text = f.optString(key);
        if (text == null) {
            return null;
        }
        MacAddress address = MacAddress.parse(text);
        if (address == null) {
            throw new JsonException("Invalid value at " + f.pathOf(key) + ": \"" + text
                    + "\" is not a MAC address");
        }
        return address;
    }

    /** This device as the API writes it. */
    public JsonObject toJson() {
        JsonObject.Builder b = JsonObject.builder();
        pci.toJson(b);
        b.putIfPresent(TAP, tap)
                .putIfPresent(IP, ip == null ? null : ip.toString())
                .putIfPresent(MASK, mask == null ? null : mask.toString())
                .putIfPresent(MAC, mac == null ? null : mac.toString())
                .putIfPresent(HOST_MAC, hostMac == null ? null : hostMac.toString())
                .putIfPresent(MTU, mtu)
                .put(NUM_QUEUES, numQueues)
                .put(QUEUE_SIZE, queueSize)
                .put(VHOST_USER, vhostUser)
                .putIfPresent(VHOST_SOCKET, vhostSocket)
                .put(VHOST_MODE, vhostMode.jsonName());
        if (!fds.isEmpty()) {
            b.put(FDS, IntLists.toJson(fds));
        }
        return b.putIfPresent(RATE_LIMITER_CONFIG,
                        rateLimiterConfig == null ? null : rateLimiterConfig.toJson())
                .put(OFFLOAD_TSO, offloadTso)
                .put(OFFLOAD_UFO, offloadUfo)
                .put(OFFLOAD_CSUM, offloadCsum)
                .build();
    }
}
