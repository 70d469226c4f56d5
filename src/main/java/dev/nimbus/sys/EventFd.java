package dev.nimbus.sys;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A Linux eventfd (eventfd(2)): a 64-bit counter that one side adds to and the other side reads
 * and clears. KVM signals one when the guest writes a notify register (ioeventfd) and injects an
 * interrupt when one is written (irqfd); device threads wait on them with {@link Epoll}.
 *
 * <p>Every eventfd here is non-blocking and close-on-exec. {@link #write} and {@link #read} may be
 * called from any thread. Close it only once no thread uses its descriptor any more: a closed
 * number is soon reused by the kernel for an unrelated file.
 */
public final class EventFd implements AutoCloseable {
    // include/uapi/linux/eventfd.h
    public static final int EFD_SEMAPHORE = 1;
    public static final int EFD_CLOEXEC = Linux.O_CLOEXEC;
    public static final int EFD_NONBLOCK = Linux.O_NONBLOCK;

    /**
     * Eight bytes of native memory per thread for the counter; the calls happen on hot paths
     * (interrupts, queue notifications), so they must not allocate.
     */
    private static final ThreadLocal<MemorySegment> SCRATCH =
            ThreadLocal.withInitial(() -> Arena.global().allocate(JAVA_LONG));

    private final int fd;
    private volatile boolean closed;

    private EventFd(int fd) {
        this.fd = fd;
    }

    /** Creates a non-blocking eventfd with a counter of zero. */
    public static EventFd create() throws SyscallException {
        return new EventFd(Linux.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    }

    /**
     * Takes ownership of an eventfd this process received (e.g. over a Unix socket from a
     * vhost-user peer); {@link #close()} closes it.
     */
    public static EventFd adopt(int fd) {
        if (fd < 0) {
            throw new IllegalArgumentException("Invalid eventfd descriptor: fd=" + fd);
        }
        return new EventFd(fd);
    }

    /** The file descriptor, to hand to KVM or to an {@link Epoll}. */
    public int fd() {
        return fd;
    }

    /** Adds {@code value} to the counter, waking whoever waits on it. */
    public void write(long value) throws SyscallException {
        long ret = writeRaw(value);
        if (ret < 0) {
            throw new SyscallException("write eventfd", (int) -ret);
        }
    }

    /**
     * Adds one to the counter; returns false instead of throwing when that fails (the counter
     * is saturated, or the eventfd was closed), for callers on paths that must not throw.
     */
    public boolean signal() {
        return !closed && writeRaw(1) >= 0;
    }

    private long writeRaw(long value) {
        MemorySegment buf = SCRATCH.get();
        buf.set(JAVA_LONG, 0, value);
        return Linux.raw(Linux.SYS_WRITE, fd, buf.address(), 8, 0, 0, 0);
    }

    /** Reads and clears the counter; returns 0 when it was already zero. */
    public long read() throws SyscallException {
        MemorySegment buf = SCRATCH.get();
        long ret = Linux.raw(Linux.SYS_READ, fd, buf.address(), 8, 0, 0, 0);
        if (ret == -Errno.EAGAIN) {
            return 0;
        }
        if (ret < 0) {
            throw new SyscallException("read eventfd", (int) -ret);
        }
        return buf.get(JAVA_LONG, 0);
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            Linux.close(fd);
        }
    }
}
