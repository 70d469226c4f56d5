package dev.nimbus.net;

import dev.nimbus.vmm.config.IpAddress;
import dev.nimbus.vmm.config.MacAddress;
import java.nio.ByteBuffer;

/**
 * Builds and parses the Ethernet frames tests and benchmarks push through a tap: IPv4 UDP
 * datagrams (RFC 791, RFC 768) behind a zeroed 12-byte virtio-net header, as a guest driver
 * without offloads sends them.
 */
public final class Frames {
    public static final int VNET_HDR = 12;
    public static final int ETH_HDR = 14;
    public static final int IP_HDR = 20;
    public static final int UDP_HDR = 8;
    /** Offset of the UDP payload in a frame with its virtio-net header. */
    public static final int PAYLOAD = VNET_HDR + ETH_HDR + IP_HDR + UDP_HDR;

    private Frames() {}

    /** virtio-net header + Ethernet + IPv4 + UDP (checksum 0: none) + payload. */
    public static byte[] udp(MacAddress srcMac, MacAddress dstMac, IpAddress src, IpAddress dst,
            int srcPort, int dstPort, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(PAYLOAD + payload.length);
        b.position(VNET_HDR);
        b.put(dstMac.bytes()).put(srcMac.bytes()).putShort((short) 0x0800);
        int ipStart = b.position();
        b.put((byte) 0x45).put((byte) 0).putShort((short) (IP_HDR + UDP_HDR + payload.length));
        b.putShort((short) 0).putShort((short) 0x4000); // id, don't fragment
        b.put((byte) 64).put((byte) 17).putShort((short) 0); // ttl, UDP, checksum later
        b.put(src.octets()).put(dst.octets());
        b.putShort(ipStart + 10, ipChecksum(b.array(), ipStart));
        b.putShort((short) srcPort).putShort((short) dstPort)
                .putShort((short) (UDP_HDR + payload.length)).putShort((short) 0);
        b.put(payload);
        return b.array();
    }

    /** The one's complement sum of the IPv4 header at {@code start}, RFC 791 section 3.1. */
    static short ipChecksum(byte[] a, int start) {
        int sum = 0;
        for (int i = 0; i < IP_HDR; i += 2) {
            sum += ((a[start + i] & 0xFF) << 8) | (a[start + i + 1] & 0xFF);
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return (short) ~sum;
    }

    /**
     * The UDP destination port of a frame (with its virtio-net header) if it is an IPv4 UDP
     * datagram, else -1.
     */
    public static int udpDestinationPort(byte[] f, int len) {
        if (len < PAYLOAD || (f[VNET_HDR + 12] & 0xFF) != 0x08 || f[VNET_HDR + 13] != 0
                || (f[VNET_HDR + ETH_HDR + 9] & 0xFF) != 17) {
            return -1;
        }
        int at = VNET_HDR + ETH_HDR + IP_HDR + 2;
        return ((f[at] & 0xFF) << 8) | (f[at + 1] & 0xFF);
    }
}
