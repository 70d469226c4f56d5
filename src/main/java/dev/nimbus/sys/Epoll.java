package dev.nimbus.sys;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * An epoll instance (epoll(7)), for device threads that wait on several eventfds and sockets.
 *
 * <p>On x86-64 the kernel's {@code struct epoll_event} is packed:
 * <pre>
 * struct epoll_event {
 *     __u32 events;   // offset 0
 *     __u64 data;     // offset 4
 * } __attribute__((packed));   // 12 bytes
 * </pre>
 * {@link #add}, {@link #modify} and {@link #delete} may be called from any thread, also while
 * another thread waits.
 */
public final class Epoll implements AutoCloseable {
    // include/uapi/linux/eventpoll.h
    public static final int EPOLL_CTL_ADD = 1;
    public static final int EPOLL_CTL_DEL = 2;
    public static final int EPOLL_CTL_MOD = 3;
    public static final int EPOLLIN = 0x001;
    public static final int EPOLLOUT = 0x004;
    public static final int EPOLLERR = 0x008;
    public static final int EPOLLHUP = 0x010;
    public static final int EPOLLRDHUP = 0x2000;
    public static final int EPOLLET = 1 << 31;
    public static final int EPOLL_CLOEXEC = Linux.O_CLOEXEC;

    static final long SIZEOF_EPOLL_EVENT = 12;
    static final long OFFSETOF_EVENTS = 0;
    static final long OFFSETOF_DATA = 4;

    private final int fd;

    private Epoll(int fd) {
        this.fd = fd;
    }

    public static Epoll create() throws SyscallException {
        return new Epoll((int) Linux.call("epoll_create1", Linux.SYS_EPOLL_CREATE1, EPOLL_CLOEXEC,
                0, 0));
    }

    public int fd() {
        return fd;
    }

    /** Watches {@code target} for {@code events}; {@link Events#data} reports {@code data}. */
    public void add(int target, int events, long data) throws SyscallException {
        ctl(EPOLL_CTL_ADD, target, events, data);
    }

    public void modify(int target, int events, long data) throws SyscallException {
        ctl(EPOLL_CTL_MOD, target, events, data);
    }

    public void delete(int target) throws SyscallException {
        ctl(EPOLL_CTL_DEL, target, 0, 0);
    }

    private void ctl(int op, int target, int events, long data) throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ev = arena.allocate(SIZEOF_EPOLL_EVENT, 8);
            ev.set(JAVA_INT, OFFSETOF_EVENTS, events);
            ev.set(JAVA_LONG_UNALIGNED, OFFSETOF_DATA, data);
            Linux.call("epoll_ctl fd=" + target, Linux.SYS_EPOLL_CTL, fd, op, target,
                    ev.address(), 0, 0);
        }
    }

    /**
     * Waits up to {@code timeoutMillis} (-1: forever) for events and fills {@code events};
     * returns how many arrived. A signal that interrupts the wait returns 0.
     */
    public int wait(Events events, int timeoutMillis) throws SyscallException {
        long ret = Linux.raw(Linux.SYS_EPOLL_WAIT, fd, events.buffer.address(), events.capacity,
                timeoutMillis, 0, 0);
        if (ret == -Errno.EINTR) {
            return 0;
        }
        if (ret < 0) {
            throw new SyscallException("epoll_wait", (int) -ret);
        }
        return (int) ret;
    }

    @Override
    public void close() {
        Linux.close(fd);
    }

    /** A buffer of {@code struct epoll_event}s for {@link #wait}, owned by the waiting thread. */
    public static final class Events implements AutoCloseable {
        private final Arena arena = Arena.ofShared();
        private final MemorySegment buffer;
        private final int capacity;

        public Events(int capacity) {
            if (capacity <= 0) {
                throw new IllegalArgumentException("Epoll event capacity must be positive: "
                        + capacity);
            }
            this.capacity = capacity;
            this.buffer = arena.allocate(SIZEOF_EPOLL_EVENT * capacity, 8);
        }

        /** {@code events[i].events}: the ready mask (EPOLLIN, EPOLLHUP, ...). */
        public int events(int i) {
            return buffer.get(JAVA_INT, i * SIZEOF_EPOLL_EVENT + OFFSETOF_EVENTS);
        }

        /** {@code events[i].data}: the value given to {@link Epoll#add}. */
        public long data(int i) {
            return buffer.get(JAVA_LONG_UNALIGNED, i * SIZEOF_EPOLL_EVENT + OFFSETOF_DATA);
        }

        @Override
        public void close() {
            arena.close();
        }
    }
}
