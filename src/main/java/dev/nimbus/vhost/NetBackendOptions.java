package dev.nimbus.vhost;

import dev.nimbus.devices.virtio.VirtioDevice;
import dev.nimbus.devices.virtio.net.VirtioNet;
import dev.nimbus.json.UnsignedType;
import dev.nimbus.vmm.config.IpAddress;
import dev.nimbus.vmm.config.MacAddress;
import dev.nimbus.vmm.config.NetConfig;
import dev.nimbus.vmm.config.OptionParser;
import java.io.IOException;

/**
 * The {@code --net-backend} option of {@code nimbus-vhost-user-net}, as Cloud Hypervisor's
 * {@code vhost_user_net} takes it: {@code ip=<ip>,mask=<mask>,mac=<mac>,host_mac=<mac>,
 * mtu=<mtu>,socket=<socket>,client=on|off,num_queues=<n>,queue_size=<n>,tap=<name>}.
 *
 * @param ip the host side's address on the tap (default 192.168.100.1)
 * @param mask its netmask (default 255.255.255.0)
 * @param mac the guest's MAC address, or null
 * @param hostMac the tap's MAC address, or null for a random one
 * @param mtu the tap's MTU, or null to leave it
 * @param socket the vhost-user socket
 * @param client connect to a front-end that listens there, instead of listening
 * @param numQueues virtqueues: two per queue pair (default 2)
 * @param queueSize descriptors per queue (default 256)
 * @param tap the tap's name, or null for the kernel's choice
 */
public record NetBackendOptions(IpAddress ip, IpAddress mask, MacAddress mac,
        MacAddress hostMac, Integer mtu, String socket, boolean client, int numQueues,
        int queueSize, String tap) implements BackendDaemon.Options {
    public static final String SYNTAX = "vhost-user-net backend parameters \"ip=<ip_addr>,"
            + "mask=<net_mask>,mac=<mac_addr>,host_mac=<mac_addr>,mtu=<mtu>,"
            + "socket=<socket_path>,client=on|off,num_queues=<number_of_queues>,"
            + "queue_size=<size_of_each_queue>,tap=<if_name>\"";
    public static final String ENGINE_ID = "_vhost_user_net";

    public static NetBackendOptions parse(String option) {
        OptionParser p = new OptionParser("Error parsing --net-backend")
                .add("tap", "ip", "host_mac", "mask", "mtu", "queue_size", "num_queues",
                        "socket", "client", "mac")
                .parse(option);
        String socket = p.get("socket");
        if (socket == null) {
            throw new IllegalArgumentException("Error parsing --net-backend: No socket provided");
        }
        IpAddress ip = p.convert("ip", IpAddress::parse);
        IpAddress mask = p.convert("mask", IpAddress::parse);
        Integer numQueues = p.unsignedInt("num_queues", UnsignedType.USIZE_INT);
        Integer queueSize = p.unsignedInt("queue_size", UnsignedType.U16);
        int queues = numQueues == null ? 2 : numQueues;
        if (queues < 2 || queues % 2 != 0) {
            throw new IllegalArgumentException("Error parsing --net-backend: num_queues must be an"
                    + " even number of at least 2: " + queues);
        }
        return new NetBackendOptions(
                ip != null ? ip : IpAddress.parse("192.168.100.1"),
                mask != null ? mask : IpAddress.parse("255.255.255.0"),
                p.convert("mac", MacAddress::parse), p.convert("host_mac", MacAddress::parse),
                p.unsignedInt("mtu", UnsignedType.U16), socket, p.toggle("client", false),
                queues, queueSize == null ? 256 : queueSize, p.get("tap"));
    }

    /** The network device as the VMM's net engine takes it: the tap and its addresses. */
    public NetConfig toNetConfig() {
        StringBuilder s = new StringBuilder("ip=" + ip + ",mask=" + mask + ",num_queues="
                + numQueues + ",queue_size=" + queueSize + ",id=" + ENGINE_ID);
        if (tap != null) {
            s.append(",tap=").append(tap);
        }
        if (mac != null) {
            s.append(",mac=").append(mac);
        }
        if (hostMac != null) {
            s.append(",host_mac=").append(hostMac);
        }
        if (mtu != null) {
            s.append(",mtu=").append(mtu);
        }
        return NetConfig.parse(s.toString());
    }

    @Override
    public VirtioDevice open() throws IOException {
        return VirtioNet.open(toNetConfig());
    }
}
