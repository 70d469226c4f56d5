package dev.nimbus.net;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import dev.nimbus.sys.Errno;
import dev.nimbus.sys.Linux;
import dev.nimbus.sys.SyscallException;
import dev.nimbus.vmm.config.IpAddress;
import dev.nimbus.vmm.config.MacAddress;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A host network interface of the calling thread's network namespace, configured with the
 * classic socket ioctls (netdevice(7)) on a datagram socket, the way ifconfig does: no netlink,
 * no external command. Needs CAP_NET_ADMIN for the changes.
 */
public final class NetInterface {
    // include/uapi/linux/sockios.h
    public static final int SIOCGIFFLAGS = 0x8913;
    public static final int SIOCSIFFLAGS = 0x8914;
    public static final int SIOCGIFADDR = 0x8915;
    public static final int SIOCSIFADDR = 0x8916;
    public static final int SIOCGIFNETMASK = 0x891b;
    public static final int SIOCSIFNETMASK = 0x891c;
    public static final int SIOCGIFMTU = 0x8921;
    public static final int SIOCSIFMTU = 0x8922;
    public static final int SIOCSIFHWADDR = 0x8924;
    public static final int SIOCGIFHWADDR = 0x8927;
    public static final int SIOCGIFINDEX = 0x8933;

    public static final int AF_INET = 2;
    public static final int AF_INET6 = 10;
    public static final int SOCK_DGRAM = 2;
    public static final int SOCK_CLOEXEC = Linux.O_CLOEXEC;
    /** include/uapi/linux/if_arp.h */
    public static final int ARPHRD_ETHER = 1;
    static final int EADDRNOTAVAIL = 99;
    /** include/uapi/linux/if.h */
    public static final int IFF_UP = 0x1;

    // struct sockaddr_in, include/uapi/linux/in.h: family, port, address in network order.
    static final long OFFSETOF_SIN_FAMILY = 0;
    static final long OFFSETOF_SIN_ADDR = 4;
    // struct sockaddr: family, then sa_data (the MAC address for ARPHRD_ETHER).
    static final long OFFSETOF_SA_DATA = 2;
    // struct in6_ifreq, include/uapi/linux/ipv6.h: in6_addr, prefix length, ifindex.
    static final long SIZEOF_IN6_IFREQ = 24;
    static final long OFFSETOF_IFR6_PREFIXLEN = 16;
    static final long OFFSETOF_IFR6_IFINDEX = 20;

    private final String name;

    public NetInterface(String name) {
        Ifreq.checkName(name);
        this.name = name;
    }

    public String name() {
        return name;
    }

    /**
     * Whether an interface of that name exists in the calling thread's network namespace
     * (asked with SIOCGIFINDEX, which, unlike /sys, follows the thread's namespace).
     */
    public static boolean exists(String name) throws SyscallException {
        try {
            new NetInterface(name).index();
            return true;
        } catch (SyscallException e) {
            if (e.errno() == Errno.ENODEV) {
                return false;
            }
            throw e;
        }
    }

    /** The interface index (SIOCGIFINDEX). */
    public int index() throws SyscallException {
        return withIfreq(AF_INET, SIOCGIFINDEX, "SIOCGIFINDEX", ifr -> {}).get(JAVA_INT_UNALIGNED,
                Ifreq.OFFSETOF_IFR_IFINDEX);
    }

    /** The interface's IPv4 address (SIOCGIFADDR), or null if it has none. */
    public IpAddress ipv4Address() throws SyscallException {
        return ipv4(SIOCGIFADDR, "SIOCGIFADDR");
    }

    /** The netmask of the interface's IPv4 address (SIOCGIFNETMASK), or null. */
    public IpAddress ipv4Netmask() throws SyscallException {
        return ipv4(SIOCGIFNETMASK, "SIOCGIFNETMASK");
    }

    private IpAddress ipv4(int request, String what) throws SyscallException {
        MemorySegment ifr;
        try {
            ifr = withIfreq(AF_INET, request, what, r -> {});
        } catch (SyscallException e) {
            if (e.errno() == EADDRNOTAVAIL) {
                return null;
            }
            throw e;
        }
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < 4; i++) {
            if (i > 0) {
                s.append('.');
            }
            s.append(ifr.get(JAVA_BYTE, Ifreq.OFFSETOF_IFR_ADDR + OFFSETOF_SIN_ADDR + i) & 0xFF);
        }
        return IpAddress.parse(s.toString());
    }

    /** The interface flags (SIOCGIFFLAGS). */
    public int flags() throws SyscallException {
        return Short.toUnsignedInt(withIfreq(AF_INET, SIOCGIFFLAGS, "SIOCGIFFLAGS", ifr -> {})
                .get(JAVA_SHORT_UNALIGNED, Ifreq.OFFSETOF_IFR_FLAGS));
    }

    /** Brings the interface up (IFF_UP), keeping its other flags. */
    public void up() throws SyscallException {
        int flags = flags();
        if ((flags & IFF_UP) != 0) {
            return;
        }
        withIfreq(AF_INET, SIOCSIFFLAGS, "SIOCSIFFLAGS",
                ifr -> ifr.set(JAVA_SHORT_UNALIGNED, Ifreq.OFFSETOF_IFR_FLAGS,
                        (short) (flags | IFF_UP)));
    }

    public int mtu() throws SyscallException {
        return withIfreq(AF_INET, SIOCGIFMTU, "SIOCGIFMTU", ifr -> {}).get(JAVA_INT_UNALIGNED,
                Ifreq.OFFSETOF_IFR_MTU);
    }

    public void setMtu(int mtu) throws SyscallException {
        withIfreq(AF_INET, SIOCSIFMTU, "SIOCSIFMTU",
                ifr -> ifr.set(JAVA_INT_UNALIGNED, Ifreq.OFFSETOF_IFR_MTU, mtu));
    }

    /** The interface's MAC address (SIOCGIFHWADDR). */
    public MacAddress hardwareAddress() throws SyscallException {
        MemorySegment ifr = withIfreq(AF_INET, SIOCGIFHWADDR, "SIOCGIFHWADDR", r -> {});
        long bits = 0;
        for (int i = 0; i < 6; i++) {
            bits = bits << 8 | (ifr.get(JAVA_BYTE, Ifreq.OFFSETOF_IFR_ADDR + OFFSETOF_SA_DATA + i)
                    & 0xFF);
        }
        return new MacAddress(bits);
    }

    /** Sets the interface's MAC address (SIOCSIFHWADDR). */
    public void setHardwareAddress(MacAddress mac) throws SyscallException {
        byte[] b = mac.bytes();
        withIfreq(AF_INET, SIOCSIFHWADDR, "SIOCSIFHWADDR", ifr -> {
            ifr.set(JAVA_SHORT_UNALIGNED, Ifreq.OFFSETOF_IFR_ADDR, (short) ARPHRD_ETHER);
            MemorySegment.copy(b, 0, ifr, JAVA_BYTE,
                    Ifreq.OFFSETOF_IFR_ADDR + OFFSETOF_SA_DATA, 6);
        });
    }

    /**
     * Gives the interface an address: for IPv4 SIOCSIFADDR then, with a mask, SIOCSIFNETMASK;
     * for IPv6 SIOCSIFADDR with an {@code in6_ifreq} whose prefix length comes from the mask.
     */
    public void setAddress(IpAddress ip, IpAddress mask) throws SyscallException {
        if (mask != null && mask.isIpv6() != ip.isIpv6()) {
            throw new IllegalArgumentException("Netmask family differs from the address: ip="
                    + ip + " mask=" + mask);
        }
        if (!ip.isIpv6()) {
            withIfreq(AF_INET, SIOCSIFADDR, "SIOCSIFADDR", ifr -> putSockaddrIn(ifr, ip));
            if (mask != null) {
                withIfreq(AF_INET, SIOCSIFNETMASK, "SIOCSIFNETMASK",
                        ifr -> putSockaddrIn(ifr, mask));
            }
            return;
        }
        int prefix = mask == null ? 0 : prefixLength(mask);
        int index = index();
        int sock = socket(AF_INET6);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment req = arena.allocate(SIZEOF_IN6_IFREQ, 8);
            MemorySegment.copy(ip.octets(), 0, req, JAVA_BYTE, 0, 16);
            req.set(JAVA_INT_UNALIGNED, OFFSETOF_IFR6_PREFIXLEN, prefix);
            req.set(JAVA_INT_UNALIGNED, OFFSETOF_IFR6_IFINDEX, index);
            Linux.ioctl(sock, SIOCSIFADDR, req, "ioctl SIOCSIFADDR " + name);
        } finally {
            Linux.close(sock);
        }
    }

    /** The prefix length a contiguous netmask stands for. */
    static int prefixLength(IpAddress mask) {
        byte[] b = mask.octets();
        int prefix = 0;
        boolean ended = false;
        for (byte octet : b) {
            for (int bit = 7; bit >= 0; bit--) {
                boolean set = (octet >> bit & 1) != 0;
                if (set && ended) {
                    throw new IllegalArgumentException("Netmask is not contiguous: " + mask);
                }
                if (set) {
                    prefix++;
                } else {
                    ended = true;
                }
            }
        }
        return prefix;
    }

    private static void putSockaddrIn(MemorySegment ifr, IpAddress ip) {
        ifr.set(JAVA_SHORT_UNALIGNED, Ifreq.OFFSETOF_IFR_ADDR + OFFSETOF_SIN_FAMILY,
                (short) AF_INET);
        MemorySegment.copy(ip.octets(), 0, ifr, JAVA_BYTE,
                Ifreq.OFFSETOF_IFR_ADDR + OFFSETOF_SIN_ADDR, 4);
    }

    private static int socket(int family) throws SyscallException {
        return (int) Linux.call("socket", Linux.SYS_SOCKET, family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    }

    /** Fills an ifreq for this interface, makes the ioctl and returns the ifreq (a copy). */
    private MemorySegment withIfreq(int family, int request, String what,
            java.util.function.Consumer<MemorySegment> fill) throws SyscallException {
        int sock = socket(family);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ifr = Ifreq.allocate(arena, name);
            fill.accept(ifr);
            Linux.ioctl(sock, request, ifr, "ioctl " + what + " " + name);
            return MemorySegment.ofArray(ifr.toArray(JAVA_BYTE));
        } finally {
            Linux.close(sock);
        }
    }
}
