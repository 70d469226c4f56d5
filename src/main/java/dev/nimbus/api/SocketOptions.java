package dev.nimbus.api;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.nimbus.sys.Linux;
import dev.nimbus.sys.SyscallException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The socket options (socket(7)) the API server sets and reads, through setsockopt(2) and
 * getsockopt(2). Numbers from include/uapi/asm-generic/socket.h, which x86-64 uses; on a 64-bit
 * kernel the {@code _OLD} timeouts already take a 64-bit {@code struct timeval}:
 *
 * <pre>
 * struct timeval { long tv_sec; long tv_usec; };   // 16 bytes
 * </pre>
 */
final class SocketOptions {
    static final int SYS_SETSOCKOPT = 54;
    static final int SYS_GETSOCKOPT = 55;

    static final int SOL_SOCKET = 1;
    static final int SO_RCVTIMEO_OLD = 20;
    static final int SO_SNDTIMEO_OLD = 21;
    static final int SO_ACCEPTCONN = 30;

    static final int SIZEOF_TIMEVAL = 16;

    private SocketOptions() {}

    /**
     * Makes a blocking receive on {@code fd} fail with EAGAIN after {@code millis} without data;
     * 0 waits for ever.
     */
    static void receiveTimeout(int fd, long millis) throws SyscallException {
        timeout(fd, SO_RCVTIMEO_OLD, "SO_RCVTIMEO", millis);
    }

    /**
     * Makes a blocking send on {@code fd} give up after {@code millis} in which the peer took
     * nothing; 0 waits for ever.
     */
    static void sendTimeout(int fd, long millis) throws SyscallException {
        timeout(fd, SO_SNDTIMEO_OLD, "SO_SNDTIMEO", millis);
    }

    private static void timeout(int fd, int option, String name, long millis)
            throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment tv = arena.allocate(SIZEOF_TIMEVAL, 8);
            tv.set(JAVA_LONG, 0, millis / 1000);
            tv.set(JAVA_LONG, 8, (millis % 1000) * 1000);
            Linux.call("setsockopt " + name, SYS_SETSOCKOPT, fd, SOL_SOCKET, option,
                    tv.address(), SIZEOF_TIMEVAL, 0);
        }
    }

    /** Whether the socket {@code fd} is listening for connections (listen(2) was called). */
    static boolean isListening(int fd) throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(4, 4);
            MemorySegment length = arena.allocate(4, 4);
            length.set(JAVA_INT, 0, 4);
            Linux.call("getsockopt SO_ACCEPTCONN", SYS_GETSOCKOPT, fd, SOL_SOCKET, SO_ACCEPTCONN,
                    value.address(), length.address(), 0);
            return value.get(JAVA_INT, 0) != 0;
        }
    }
}
