package dev.nimbus.net;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

/**
 * {@code struct ifreq} (include/uapi/linux/if.h), the argument of the interface ioctls:
 *
 * <pre>
 * struct ifreq {
 *     char ifr_name[IFNAMSIZ];          // offset 0, NUL-terminated
 *     union {                           // offset 16, 24 bytes
 *         struct sockaddr ifru_addr;    // also netmask, hwaddr
 *         short ifru_flags;
 *         int ifru_ivalue;              // ifindex
 *         int ifru_mtu;
 *         ...
 *     };
 * };                                    // 40 bytes
 * </pre>
 */
final class Ifreq {
    static final int IFNAMSIZ = 16;
    static final long SIZEOF_IFREQ = 40;
    static final long OFFSETOF_IFR_NAME = 0;
    static final long OFFSETOF_IFR_ADDR = 16;
    static final long OFFSETOF_IFR_FLAGS = 16;
    static final long OFFSETOF_IFR_IFINDEX = 16;
    static final long OFFSETOF_IFR_MTU = 16;

    private Ifreq() {}

    /**
     * Checks that {@code name} fits ifr_name: 1 to 15 bytes and no NUL. The configuration is
     * checked for the same before a tap is opened, so a bad name here is a caller's mistake.
     */
    static void checkName(String name) {
        if (name.isEmpty()) {
            throw new IllegalArgumentException("Interface name is empty");
        }
        if (name.indexOf('\0') >= 0) {
            throw new IllegalArgumentException(
                    "Interface name contains interior NUL byte: " + name.replace("\0", "\\0"));
        }
        if (name.getBytes(StandardCharsets.UTF_8).length >= IFNAMSIZ) {
            throw new IllegalArgumentException("Interface name too long (max length is "
                    + (IFNAMSIZ - 1) + "): " + name);
        }
    }

    /** A zeroed ifreq for interface {@code name} (may be empty). */
    static MemorySegment allocate(Arena arena, String name) {
        MemorySegment ifr = arena.allocate(SIZEOF_IFREQ, 8);
        byte[] b = name.getBytes(StandardCharsets.UTF_8);
        MemorySegment.copy(b, 0, ifr, JAVA_BYTE, OFFSETOF_IFR_NAME,
                Math.min(b.length, IFNAMSIZ - 1));
        return ifr;
    }

    /** ifr_name. */
    static String name(MemorySegment ifr) {
        return ifr.asSlice(OFFSETOF_IFR_NAME, IFNAMSIZ).getString(0, StandardCharsets.UTF_8);
    }
}
