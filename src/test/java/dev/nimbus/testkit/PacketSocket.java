package dev.nimbus.testkit;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import dev.nimbus.sys.Linux;
import dev.nimbus.sys.SyscallException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A raw {@code AF_PACKET} socket (packet(7)) bound to one interface of a network namespace and
 * one EtherType: whole Ethernet frames in and out, headers included, nothing added or checked
 * by the kernel. Opened on a thread of its own that enters the namespace with setns(2), so the
 * test process stays where it is; the socket keeps the namespace it was created in.
 */
public final class PacketSocket implements AutoCloseable {
    private static final int SYS_SENDTO = 44;
    private static final int SYS_RECVFROM = 45;
    private static final int SYS_SETNS = 308;
    private static final int AF_PACKET = 17;
    private static final int SOCK_RAW = 3;
    private static final int SOCK_CLOEXEC = 02000000;
    private static final int CLONE_NEWNET = 0x4000_0000;
    private static final long SIOCGIFINDEX = 0x8933;
    private static final int IFNAMSIZ = 16;
    private static final int IFREQ_SIZE = 40;
    private static final int SOCKADDR_LL_SIZE = 20;
    private static final int SLL_PKTTYPE = 10;
    private static final int POLLIN = 1;
    /** sll_pkttype of a frame this host sent (linux/if_packet.h). */
    private static final int PACKET_OUTGOING = 4;
    private static final int ERRNO_EINTR = 4;
    private static final int ERRNO_EAGAIN = 11;
    private static final int BUFFER = 65536;

    private final int fd;
    private final String where;

    private PacketSocket(int fd, String where) {
        this.fd = fd;
        this.where = where;
    }

    /**
     * Opens a socket in network namespace {@code netns} (a name under /run/netns, as
     * {@code ip netns} makes them) bound to interface {@code ifname} and {@code ethertype}.
     */
    public static PacketSocket open(String netns, String ifname, int ethertype)
            throws IOException {
        AtomicReference<Object> result = new AtomicReference<>();
        Thread t = Thread.ofPlatform().name("packet-socket-" + netns).start(() -> {
            try {
                result.set(openHere(netns, ifname, ethertype));
            } catch (SyscallException | RuntimeException e) {
                result.set(e);
            }
        });
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while opening a packet socket", e);
        }
        Object r = result.get();
        if (r instanceof Integer fd) {
            return new PacketSocket(fd, netns + "/" + ifname);
        }
        throw new IOException("cannot open a packet socket: netns=" + netns + " if=" + ifname,
                (Throwable) r);
    }

    /** Runs on a thread of its own: enters the namespace, opens and binds, and leaves again. */
    private static int openHere(String netns, String ifname, int ethertype)
            throws SyscallException {
        int home = Linux.open("/proc/thread-self/ns/net", Linux.O_RDONLY, 0);
        int target = -1;
        int fd = -1;
        try {
            target = Linux.open("/run/netns/" + netns, Linux.O_RDONLY, 0);
            Linux.call("setns", SYS_SETNS, target, CLONE_NEWNET, 0);
            try (Arena arena = Arena.ofConfined()) {
                int protocol = Short.toUnsignedInt(Short.reverseBytes((short) ethertype));
                fd = (int) Linux.call("socket", Linux.SYS_SOCKET, AF_PACKET,
                        SOCK_RAW | SOCK_CLOEXEC, protocol);
                MemorySegment ifreq = arena.allocate(IFREQ_SIZE);
                byte[] name = ifname.getBytes(StandardCharsets.US_ASCII);
                MemorySegment.copy(name, 0, ifreq, JAVA_BYTE, 0, Math.min(name.length,
                        IFNAMSIZ - 1));
                Linux.ioctl(fd, SIOCGIFINDEX, ifreq, "SIOCGIFINDEX " + ifname);
                int ifindex = ifreq.get(JAVA_INT, IFNAMSIZ);
                MemorySegment sll = arena.allocate(SOCKADDR_LL_SIZE);
                sll.set(JAVA_SHORT, 0, (short) AF_PACKET);
                sll.set(JAVA_SHORT, 2, (short) protocol);
                sll.set(JAVA_INT, 4, ifindex);
                Linux.call("bind", Linux.SYS_BIND, fd, sll.address(), SOCKADDR_LL_SIZE);
            }
            int opened = fd;
            fd = -1;
            return opened;
        } finally {
            Linux.close(fd);
            Linux.close(target);
            // The thread ends next; going home keeps it from ever running elsewhere by mistake.
            Linux.raw(SYS_SETNS, home, CLONE_NEWNET, 0, 0, 0, 0);
            Linux.close(home);
        }
    }

    /** Sends one whole frame on the bound interface. */
    public void send(byte[] frame) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(frame.length);
            MemorySegment.copy(frame, 0, buf, JAVA_BYTE, 0, frame.length);
            long n = Linux.raw(SYS_SENDTO, fd, buf.address(), frame.length, 0, 0, 0);
            if (n != frame.length) {
                throw new IOException("packet send failed: socket=" + where + " result=" + n);
            }
        }
    }

    /**
     * The next frame that arrived on the interface (not one this host sent), or empty after
     * {@code timeout}.
     */
    public Optional<byte[]> receive(Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pollfd = arena.allocate(8);
            MemorySegment ts = arena.allocate(16);
            MemorySegment buf = arena.allocate(BUFFER);
            MemorySegment sll = arena.allocate(SOCKADDR_LL_SIZE);
            MemorySegment sllLen = arena.allocate(JAVA_INT);
            while (true) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return Optional.empty();
                }
                pollfd.set(JAVA_INT, 0, fd);
                pollfd.set(JAVA_SHORT, 4, (short) POLLIN);
                pollfd.set(JAVA_SHORT, 6, (short) 0);
                ts.set(JAVA_LONG, 0, left / 1_000_000_000L);
                ts.set(JAVA_LONG, 8, left % 1_000_000_000L);
                long ready = Linux.raw(Linux.SYS_PPOLL, pollfd.address(), 1, ts.address(), 0, 8,
                        0);
                if (ready == -ERRNO_EINTR || ready == 0) {
                    continue;
                }
                if (ready < 0) {
                    throw new IOException("ppoll failed: socket=" + where + " errno=" + -ready);
                }
                sllLen.set(JAVA_INT, 0, SOCKADDR_LL_SIZE);
                long n = Linux.raw(SYS_RECVFROM, fd, buf.address(), BUFFER, 0, sll.address(),
                        sllLen.address());
                if (n == -ERRNO_EAGAIN || n == -ERRNO_EINTR) {
                    continue;
                }
                if (n < 0) {
                    throw new IOException("recvfrom failed: socket=" + where + " errno=" + -n);
                }
                if (Byte.toUnsignedInt(sll.get(JAVA_BYTE, SLL_PKTTYPE)) == PACKET_OUTGOING) {
                    continue;
                }
                return Optional.of(buf.asSlice(0, n).toArray(JAVA_BYTE));
            }
        }
    }

    /** Up to {@code count} frames, waiting at most {@code timeout} in all. */
    public List<byte[]> receive(int count, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<byte[]> frames = new ArrayList<>();
        while (frames.size() < count) {
            long left = deadline - System.nanoTime();
            Optional<byte[]> f = receive(Duration.ofNanos(Math.max(left, 0)));
            if (f.isEmpty()) {
                break;
            }
            frames.add(f.get());
        }
        return frames;
    }

    @Override
    public void close() {
        Linux.close(fd);
    }
}
