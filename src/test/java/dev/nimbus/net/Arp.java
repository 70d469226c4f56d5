package dev.nimbus.net;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import dev.nimbus.sys.Linux;
import dev.nimbus.sys.SyscallException;
import dev.nimbus.vmm.config.IpAddress;
import dev.nimbus.vmm.config.MacAddress;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

/**
 * A permanent neighbour entry (SIOCSARP, arp(7)), so the host side of a test tap sends to the
 * guest's address without an ARP exchange the test would have to answer.
 *
 * <pre>
 * struct arpreq {
 *     struct sockaddr arp_pa;       // 0, protocol address
 *     struct sockaddr arp_ha;       // 16, hardware address
 *     int arp_flags;                // 32
 *     struct sockaddr arp_netmask;  // 36
 *     char arp_dev[16];             // 52; 68 bytes
 * };
 * </pre>
 */
public final class Arp {
    static final int SIOCSARP = 0x8955;
    static final int ATF_COM = 0x02;
    static final int ATF_PERM = 0x04;

    private Arp() {}

    /** Maps {@code ip} to {@code mac} on {@code dev} in the calling thread's namespace. */
    public static void setPermanent(String dev, IpAddress ip, MacAddress mac)
            throws SyscallException {
        int sock = (int) Linux.call("socket", Linux.SYS_SOCKET, NetInterface.AF_INET,
                NetInterface.SOCK_DGRAM | NetInterface.SOCK_CLOEXEC, 0);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment req = arena.allocate(68, 4);
            req.set(JAVA_SHORT, 0, (short) NetInterface.AF_INET);
            MemorySegment.copy(ip.octets(), 0, req, JAVA_BYTE, 4, 4);
            req.set(JAVA_SHORT, 16, (short) NetInterface.ARPHRD_ETHER);
            MemorySegment.copy(mac.bytes(), 0, req, JAVA_BYTE, 18, 6);
            req.set(JAVA_INT, 32, ATF_COM | ATF_PERM);
            byte[] name = dev.getBytes(StandardCharsets.US_ASCII);
            MemorySegment.copy(name, 0, req, JAVA_BYTE, 52, name.length);
            Linux.ioctl(sock, SIOCSARP, req, "ioctl SIOCSARP " + dev);
        } finally {
            Linux.close(sock);
        }
    }
}
