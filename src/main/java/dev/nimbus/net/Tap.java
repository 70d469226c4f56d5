package dev.nimbus.net;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import dev.nimbus.sys.Errno;
import dev.nimbus.sys.Ioctl;
import dev.nimbus.sys.Linux;
import dev.nimbus.sys.SyscallException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * One queue of a Linux tap interface (Documentation/networking/tuntap.rst): a descriptor of
 * {@code /dev/net/tun} attached to the interface, non-blocking, that reads and writes Ethernet
 * frames preceded by a {@code struct virtio_net_hdr_v1} ({@code IFF_TAP | IFF_NO_PI |
 * IFF_VNET_HDR}, header size set to 12). A multi-queue interface ({@code IFF_MULTI_QUEUE}) has
 * one such descriptor per queue pair.
 */
public final class Tap implements NetBackend {
    public static final String TUN_DEVICE = "/dev/net/tun";
    /** The name template the kernel fills in when the user names no tap. */
    public static final String DEFAULT_NAME_TEMPLATE = "vmtap%d";

    // include/uapi/linux/if_tun.h
    public static final int IFF_TAP = 0x0002;
    public static final int IFF_NO_PI = 0x1000;
    public static final int IFF_VNET_HDR = 0x4000;
    public static final int IFF_MULTI_QUEUE = 0x0100;
    public static final long TUNSETIFF = Ioctl.iow('T', 202, 4);
    public static final long TUNSETOFFLOAD = Ioctl.iow('T', 208, 4);
    public static final long TUNGETFEATURES = Ioctl.ior('T', 207, 4);
    public static final long TUNGETIFF = Ioctl.ior('T', 210, 4);
    public static final long TUNSETVNETHDRSZ = Ioctl.iow('T', 216, 4);
    public static final int TUN_F_CSUM = 0x01;
    public static final int TUN_F_TSO4 = 0x02;
    public static final int TUN_F_TSO6 = 0x04;
    public static final int TUN_F_TSO_ECN = 0x08;
    public static final int TUN_F_UFO = 0x10;

    /** sizeof(struct virtio_net_hdr_v1), the header every frame carries. */
    public static final int VNET_HDR_SIZE = 12;

    // fcntl(2), include/uapi/asm-generic/fcntl.h
    static final int F_DUPFD_CLOEXEC = 1030;
    static final int F_GETFL = 3;
    static final int F_SETFL = 4;

    private final int fd;
    private final String name;
    private boolean closed;

    private Tap(int fd, String name) {
        this.fd = fd;
        this.name = name;
    }

    /**
     * Opens a queue of tap {@code name}, creating the interface if it does not exist; a null
     * name lets the kernel pick {@code vmtapN}.
     *
     * @param multiQueue whether the interface has (or gets) several queues
     */
    public static Tap open(String name, boolean multiQueue) throws IOException {
        String requested = name == null ? DEFAULT_NAME_TEMPLATE : name;
        Ifreq.checkName(requested);
        int fd = Linux.open(TUN_DEVICE, Linux.O_RDWR | Linux.O_NONBLOCK, 0);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment features = arena.allocate(JAVA_INT);
            Linux.ioctl(fd, TUNGETFEATURES, features, "ioctl TUNGETFEATURES");
            if (multiQueue && (features.get(JAVA_INT, 0) & IFF_MULTI_QUEUE) == 0) {
                throw new IOException("The kernel's tun driver has no multi-queue support:"
                        + " tap=" + requested);
            }
            MemorySegment ifr = Ifreq.allocate(arena, requested);
            int flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | (multiQueue ? IFF_MULTI_QUEUE : 0);
            ifr.set(JAVA_SHORT, Ifreq.OFFSETOF_IFR_FLAGS, (short) flags);
            Linux.ioctl(fd, TUNSETIFF, ifr, "ioctl TUNSETIFF " + requested);
            Tap tap = new Tap(fd, Ifreq.name(ifr));
            tap.setVnetHeaderSize(VNET_HDR_SIZE);
            return tap;
        } catch (IOException | RuntimeException e) {
            Linux.close(fd);
            throw e;
        }
    }

    /**
     * Adopts a tap descriptor opened by someone else ({@code --net fd=}): duplicates it (the
     * caller keeps its own), makes it non-blocking and sets the header size. The descriptor
     * must already belong to a tap with {@code IFF_VNET_HDR}.
     */
    public static Tap fromFd(int fd, boolean multiQueue) throws IOException {
        int dup = (int) Linux.call("fcntl F_DUPFD_CLOEXEC fd=" + fd, Linux.SYS_FCNTL, fd,
                F_DUPFD_CLOEXEC, 3);
        try (Arena arena = Arena.ofConfined()) {
            long fl = Linux.call("fcntl F_GETFL", Linux.SYS_FCNTL, dup, F_GETFL, 0);
            Linux.call("fcntl F_SETFL", Linux.SYS_FCNTL, dup, F_SETFL, fl | Linux.O_NONBLOCK);
            MemorySegment ifr = Ifreq.allocate(arena, "");
            Linux.ioctl(dup, TUNGETIFF, ifr, "ioctl TUNGETIFF fd=" + fd);
            String name = Ifreq.name(ifr);
            int flags = Short.toUnsignedInt(ifr.get(JAVA_SHORT, Ifreq.OFFSETOF_IFR_FLAGS));
            if ((flags & IFF_TAP) == 0 || (flags & IFF_VNET_HDR) == 0) {
                throw new IOException(String.format("Tap descriptor lacks IFF_TAP or"
                        + " IFF_VNET_HDR: fd=%d tap=%s flags=0x%x", fd, name, flags));
            }
            int want = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | (multiQueue ? IFF_MULTI_QUEUE : 0);
            ifr.set(JAVA_SHORT, Ifreq.OFFSETOF_IFR_FLAGS, (short) want);
            // An attached descriptor answers EEXIST: it already has its interface.
            long ret = Linux.raw(Linux.SYS_IOCTL, dup, TUNSETIFF, ifr.address(), 0, 0, 0);
            if (ret < 0 && ret != -Errno.EEXIST) {
                throw new SyscallException("ioctl TUNSETIFF " + name, (int) -ret);
            }
            Tap tap = new Tap(dup, name);
            tap.setVnetHeaderSize(VNET_HDR_SIZE);
            return tap;
        } catch (IOException | RuntimeException e) {
            Linux.close(dup);
            throw e;
        }
    }

    @Override
    public int fd() {
        return fd;
    }

    /** The interface name, e.g. {@code vmtap0}. */
    @Override
    public String name() {
        return name;
    }

    /** TUNSETVNETHDRSZ: the bytes of virtio-net header in front of each frame. */
    public void setVnetHeaderSize(int size) throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(JAVA_INT);
            v.set(JAVA_INT, 0, size);
            Linux.ioctl(fd, TUNSETVNETHDRSZ, v, "ioctl TUNSETVNETHDRSZ " + name);
        }
    }

    @Override
    public void setOffload(int tunFlags) throws SyscallException {
        // TUNSETOFFLOAD takes the flags as the argument itself, not a pointer.
        Linux.ioctl(fd, TUNSETOFFLOAD, tunFlags, "ioctl TUNSETOFFLOAD " + name);
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            Linux.close(fd);
        }
    }

    @Override
    public String toString() {
        return "tap " + name + " fd=" + fd;
    }
}
