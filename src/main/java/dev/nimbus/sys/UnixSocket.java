package dev.nimbus.sys;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

/**
 * A Unix domain stream socket (unix(7)) that can carry file descriptors as {@code SCM_RIGHTS}
 * ancillary data, the way the VMM's API passes tap devices.
 *
 * <p>The structures, x86-64 layouts from the kernel's UAPI headers:
 * <pre>
 * struct sockaddr_un { sa_family_t sun_family; char sun_path[108]; };     // 110 bytes
 * struct iovec       { void *iov_base; size_t iov_len; };                // 16 bytes
 * struct msghdr      { void *msg_name; int msg_namelen;                  // 0, 8
 *                      struct iovec *msg_iov; size_t msg_iovlen;         // 16, 24
 *                      void *msg_control; size_t msg_controllen;         // 32, 40
 *                      int msg_flags; };                                 // 48; 56 bytes
 * struct cmsghdr     { size_t cmsg_len; int cmsg_level; int cmsg_type; }; // 16 bytes, then data
 * </pre>
 *
 * <p>Every call blocks; a thread blocked in {@link #accept} or {@link #receive} wakes when
 * another thread calls {@link #shutdown}. A socket is closed once, by its owner.
 */
public final class UnixSocket implements AutoCloseable {
    // include/linux/socket.h, include/linux/net.h, include/uapi/asm-generic/socket.h
    public static final int AF_UNIX = 1;
    public static final int SOCK_STREAM = 1;
    public static final int SOCK_CLOEXEC = Linux.O_CLOEXEC;
    public static final int SOL_SOCKET = 1;
    public static final int SCM_RIGHTS = 1;
    public static final int SHUT_RDWR = 2;
    public static final int MSG_CTRUNC = 0x8;
    public static final int MSG_NOSIGNAL = 0x4000;
    public static final int MSG_CMSG_CLOEXEC = 0x40000000;

    /** {@code SCM_MAX_FD} (include/net/scm.h): the most descriptors one message carries. */
    public static final int SCM_MAX_FD = 253;

    static final int ECONNABORTED = 103;

    /** Room for a socket path in {@code sun_path}, including its terminating NUL. */
    public static final int UNIX_PATH_MAX = 108;

    static final int SIZEOF_SOCKADDR_UN = 110;
    static final int SIZEOF_MSGHDR = 56;
    static final int OFFSETOF_MSG_IOV = 16;
    static final int OFFSETOF_MSG_IOVLEN = 24;
    static final int OFFSETOF_MSG_CONTROL = 32;
    static final int OFFSETOF_MSG_CONTROLLEN = 40;
    static final int OFFSETOF_MSG_FLAGS = 48;
    static final int SIZEOF_CMSGHDR = 16;
    /** CMSG_SPACE(SCM_MAX_FD * sizeof(int)): header plus data, rounded up to 8 bytes. */
    static final int CONTROL_SPACE = (SIZEOF_CMSGHDR + SCM_MAX_FD * 4 + 7) & ~7;

    private final int fd;

    private UnixSocket(int fd) {
        this.fd = fd;
    }

    /** A socket for a descriptor this process already holds (e.g. one inherited by number). */
    public static UnixSocket of(int fd) {
        return new UnixSocket(fd);
    }

    /**
     * A listening socket bound to {@code path} with a backlog of {@code backlog} connections.
     * The caller removes any stale file at {@code path} first.
     */
    public static UnixSocket listen(String path, int backlog) throws SyscallException {
        int fd = newSocket();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment addr = sockaddr(arena, path);
            Linux.call("bind " + path, Linux.SYS_BIND, fd, addr.address(), SIZEOF_SOCKADDR_UN,
                    0, 0, 0);
            Linux.call("listen " + path, Linux.SYS_LISTEN, fd, backlog, 0);
        } catch (SyscallException | RuntimeException e) {
            Linux.close(fd);
            throw e;
        }
        return new UnixSocket(fd);
    }

    /** A socket connected to the listener at {@code path}. */
    public static UnixSocket connect(String path) throws SyscallException {
        int fd = newSocket();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment addr = sockaddr(arena, path);
            long ret;
            do {
                ret = Linux.raw(Linux.SYS_CONNECT, fd, addr.address(), SIZEOF_SOCKADDR_UN, 0, 0,
                        0);
            } while (ret == -Errno.EINTR);
            if (ret < 0) {
                throw new SyscallException("connect " + path, (int) -ret);
            }
        } catch (SyscallException | RuntimeException e) {
            Linux.close(fd);
            throw e;
        }
        return new UnixSocket(fd);
    }

    private static int newSocket() throws SyscallException {
        return (int) Linux.call("socket", Linux.SYS_SOCKET, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC,
                0);
    }

    private static MemorySegment sockaddr(Arena arena, String path) {
        byte[] bytes = path.getBytes(StandardCharsets.UTF_8);
        if (bytes.length == 0 || bytes.length >= UNIX_PATH_MAX) {
            throw new IllegalArgumentException("Unix socket path must be 1 to "
                    + (UNIX_PATH_MAX - 1) + " bytes: length=" + bytes.length + " path=" + path);
        }
        MemorySegment addr = arena.allocate(SIZEOF_SOCKADDR_UN, 8);
        addr.set(JAVA_SHORT, 0, (short) AF_UNIX);
        MemorySegment.copy(bytes, 0, addr, JAVA_BYTE, 2, bytes.length);
        return addr;
    }

    public int fd() {
        return fd;
    }

    /**
     * Waits for a connection; returns it, or null once {@link #shutdown} was called on this
     * listener (accept then fails with EINVAL).
     */
    public UnixSocket accept() throws SyscallException {
        while (true) {
            long ret = Linux.raw(Linux.SYS_ACCEPT4, fd, 0, 0, SOCK_CLOEXEC, 0, 0);
            if (ret >= 0) {
                return new UnixSocket((int) ret);
            }
            int errno = (int) -ret;
            if (errno == Errno.EINTR || errno == ECONNABORTED) {
                continue;
            }
            if (errno == Errno.EINVAL) {
                return null;
            }
            throw new SyscallException("accept4", errno);
        }
    }

    /** Bytes and descriptors one {@link #receive} got; {@code length} 0 means end of stream. */
    public record Received(int length, int[] fds, boolean fdsTruncated) {}

    /**
     * Reads up to {@code buf.length - offset} bytes into {@code buf} at {@code offset}, with any
     * descriptors sent alongside them (close-on-exec, now owned by the caller).
     */
    public Received receive(byte[] buf, int offset) throws SyscallException {
        int room = buf.length - offset;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocate(room, 8);
            MemorySegment iov = arena.allocate(16, 8);
            MemorySegment control = arena.allocate(CONTROL_SPACE, 8);
            MemorySegment msg = arena.allocate(SIZEOF_MSGHDR, 8);
            iov.set(JAVA_LONG, 0, data.address());
            iov.set(JAVA_LONG, 8, room);
            msg.set(JAVA_LONG, OFFSETOF_MSG_IOV, iov.address());
            msg.set(JAVA_LONG, OFFSETOF_MSG_IOVLEN, 1);
            msg.set(JAVA_LONG, OFFSETOF_MSG_CONTROL, control.address());
            msg.set(JAVA_LONG, OFFSETOF_MSG_CONTROLLEN, CONTROL_SPACE);
            long ret;
            do {
                ret = Linux.raw(Linux.SYS_RECVMSG, fd, msg.address(), MSG_CMSG_CLOEXEC, 0, 0, 0);
            } while (ret == -Errno.EINTR);
            if (ret < 0) {
                throw new SyscallException("recvmsg", (int) -ret);
            }
            int n = (int) ret;
            MemorySegment.copy(data, JAVA_BYTE, 0, buf, offset, n);
            int[] fds = fds(control, msg.get(JAVA_LONG, OFFSETOF_MSG_CONTROLLEN));
            boolean truncated = (msg.get(JAVA_INT, OFFSETOF_MSG_FLAGS) & MSG_CTRUNC) != 0;
            return new Received(n, fds, truncated);
        }
    }

    /** The descriptors in every SCM_RIGHTS message of a control buffer of {@code length}. */
    private static int[] fds(MemorySegment control, long length) {
        int[] out = new int[0];
        long off = 0;
        while (off + SIZEOF_CMSGHDR <= length) {
            long len = control.get(JAVA_LONG, off);
            int level = control.get(JAVA_INT, off + 8);
            int type = control.get(JAVA_INT, off + 12);
            if (len < SIZEOF_CMSGHDR || off + len > length) {
                break;
            }
            if (level == SOL_SOCKET && type == SCM_RIGHTS) {
                int count = (int) ((len - SIZEOF_CMSGHDR) / 4);
                int[] more = new int[out.length + count];
                System.arraycopy(out, 0, more, 0, out.length);
                for (int i = 0; i < count; i++) {
                    more[out.length + i] = control.get(JAVA_INT, off + SIZEOF_CMSGHDR + 4L * i);
                }
                out = more;
            }
            off += (len + 7) & ~7L;
        }
        return out;
    }

    /**
     * Writes all of {@code buf[offset, offset + length)}, the descriptors {@code fds} riding on
     * its first byte. Never raises SIGPIPE: a peer that went away gives EPIPE.
     */
    public void send(byte[] buf, int offset, int length, int[] fds) throws SyscallException {
        if (fds.length > SCM_MAX_FD) {
            throw new IllegalArgumentException("Too many descriptors for one message: "
                    + fds.length + " limit=" + SCM_MAX_FD);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocate(Math.max(length, 1), 8);
            MemorySegment.copy(buf, offset, data, JAVA_BYTE, 0, length);
            MemorySegment iov = arena.allocate(16, 8);
            MemorySegment msg = arena.allocate(SIZEOF_MSGHDR, 8);
            msg.set(JAVA_LONG, OFFSETOF_MSG_IOV, iov.address());
            msg.set(JAVA_LONG, OFFSETOF_MSG_IOVLEN, 1);
            int sent = 0;
            boolean first = true;
            while (sent < length || (first && length == 0 && fds.length > 0)) {
                iov.set(JAVA_LONG, 0, data.address() + sent);
                iov.set(JAVA_LONG, 8, length - sent);
                if (first && fds.length > 0) {
                    long controlLen = (SIZEOF_CMSGHDR + 4L * fds.length + 7) & ~7L;
                    MemorySegment control = arena.allocate(controlLen, 8);
                    control.set(JAVA_LONG, 0, SIZEOF_CMSGHDR + 4L * fds.length);
                    control.set(JAVA_INT, 8, SOL_SOCKET);
                    control.set(JAVA_INT, 12, SCM_RIGHTS);
                    for (int i = 0; i < fds.length; i++) {
                        control.set(JAVA_INT, SIZEOF_CMSGHDR + 4L * i, fds[i]);
                    }
                    msg.set(JAVA_LONG, OFFSETOF_MSG_CONTROL, control.address());
                    msg.set(JAVA_LONG, OFFSETOF_MSG_CONTROLLEN, controlLen);
                } else {
                    msg.set(JAVA_LONG, OFFSETOF_MSG_CONTROL, 0);
                    msg.set(JAVA_LONG, OFFSETOF_MSG_CONTROLLEN, 0);
                }
                long ret = Linux.raw(Linux.SYS_SENDMSG, fd, msg.address(), MSG_NOSIGNAL, 0, 0, 0);
                if (ret == -Errno.EINTR) {
                    continue;
                }
                if (ret < 0) {
                    throw new SyscallException("sendmsg", (int) -ret);
                }
                first = false;
                sent += (int) ret;
            }
        }
    }

    /** Writes all of {@code buf[offset, offset + length)}. */
    public void send(byte[] buf, int offset, int length) throws SyscallException {
        send(buf, offset, length, new int[0]);
    }

    /**
     * Shuts both directions down: a thread blocked in {@link #receive} sees end of stream, one
     * blocked in {@link #accept} returns null. Errors (already shut, not connected) are ignored.
     */
    public void shutdown() {
        Linux.raw(Linux.SYS_SHUTDOWN, fd, SHUT_RDWR, 0, 0, 0, 0);
    }

    @Override
    public void close() {
        Linux.close(fd);
    }
}
