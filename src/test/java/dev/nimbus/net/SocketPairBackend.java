package dev.nimbus.net;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import dev.nimbus.sys.Errno;
import dev.nimbus.sys.Linux;
import dev.nimbus.sys.SyscallException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link NetBackend} made of a SOCK_SEQPACKET socket pair, which keeps frame boundaries like
 * a tap: the device reads and writes one end, the test plays the host on the other
 * ({@link #send}, {@link #receive}). Offload settings are recorded instead of applied.
 */
public final class SocketPairBackend implements NetBackend {
    static final int AF_UNIX = 1;
    static final int SOCK_SEQPACKET = 5;
    static final int SOCK_NONBLOCK = Linux.O_NONBLOCK;
    static final int SOL_SOCKET = 1;
    static final int SO_SNDBUF = 7;
    static final int SYS_SETSOCKOPT = 54;
    static final int SYS_PPOLL = Linux.SYS_PPOLL;
    static final short POLLIN = 1;

    private final String name;
    private final int deviceEnd;
    private final int hostEnd;
    private final List<Integer> offloads = new ArrayList<>();
    private boolean closed;

    public SocketPairBackend(String name) throws SyscallException {
        this.name = name;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fds = arena.allocate(JAVA_INT, 2);
            Linux.call("socketpair", Linux.SYS_SOCKETPAIR, AF_UNIX,
                    SOCK_SEQPACKET | SOCK_NONBLOCK | Linux.O_CLOEXEC, 0, fds.address(), 0, 0);
            deviceEnd = fds.getAtIndex(JAVA_INT, 0);
            hostEnd = fds.getAtIndex(JAVA_INT, 1);
        }
    }

    @Override
    public int fd() {
        return deviceEnd;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public synchronized void setOffload(int tunFlags) {
        offloads.add(tunFlags);
    }

    /** Every TUNSETOFFLOAD value the device asked for, in order. */
    public synchronized List<Integer> offloads() {
        return new ArrayList<>(offloads);
    }

    /** Shrinks the host end's send buffer (and so what the device end can queue). */
    public void setSendBuffer(int fd, int bytes) throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(JAVA_INT);
            v.set(JAVA_INT, 0, bytes);
            Linux.call("setsockopt SO_SNDBUF", SYS_SETSOCKOPT, fd, SOL_SOCKET, SO_SNDBUF,
                    v.address(), 4, 0);
        }
    }

    public int hostFd() {
        return hostEnd;
    }

    /** Sends one frame (virtio-net header included) to the device. */
    public void send(byte[] frame) throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocateFrom(ValueLayout.JAVA_BYTE, frame);
            long n = Linux.write(hostEnd, buf, frame.length);
            if (n < 0) {
                throw new SyscallException("write socketpair", (int) -n);
            }
        }
    }

    /** The next frame the device sent, or null if none came within {@code timeoutMillis}. */
    public byte[] receive(long timeoutMillis) throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(70_000);
            MemorySegment pfd = arena.allocate(8, 4);
            MemorySegment ts = arena.allocate(16, 8);
            long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
            while (true) {
                long n = Linux.read(hostEnd, buf, buf.byteSize());
                if (n >= 0) {
                    return buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
                }
                if (n != -Errno.EAGAIN) {
                    throw new SyscallException("read socketpair", (int) -n);
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return null;
                }
                pfd.set(JAVA_INT, 0, hostEnd);
                pfd.set(JAVA_SHORT, 4, POLLIN);
                ts.set(ValueLayout.JAVA_LONG, 0, left / 1_000_000_000);
                ts.set(ValueLayout.JAVA_LONG, 8, left % 1_000_000_000);
                Linux.raw(SYS_PPOLL, pfd.address(), 1, ts.address(), 0, 0, 0);
            }
        }
    }

    /** Closes the host end: the device sees a hang-up. */
    public void closeHostEnd() {
        Linux.close(hostEnd);
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            Linux.close(deviceEnd);
            Linux.close(hostEnd);
        }
    }
}
