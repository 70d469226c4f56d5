package dev.nimbus.sys;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.io.Closeable;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * File mode creation mask, descriptor flags and whole-file locks: the few {@code fcntl(2)}
 * uses the VMM's process set-up needs.
 *
 * <p>Locks are open file description locks ({@code F_OFD_SETLK}): they belong to the open file,
 * not the process, so a second open of the same file fails to lock it even within this process,
 * and closing the descriptor releases the lock. {@code struct flock} on x86-64:
 * <pre>
 * struct flock { short l_type; short l_whence;   // 0, 2
 *                off_t l_start; off_t l_len;     // 8, 16
 *                pid_t l_pid; };                 // 24; 32 bytes
 * </pre>
 */
public final class FileControl {
    // arch/x86/entry/syscalls/syscall_64.tbl
    static final int SYS_UMASK = 95;

    // include/uapi/asm-generic/fcntl.h
    public static final int F_GETFL = 3;
    public static final int F_SETFL = 4;
    public static final int F_OFD_SETLK = 37;
    public static final short F_RDLCK = 0;
    public static final short F_WRLCK = 1;
    public static final short SEEK_SET = 0;
    public static final int O_TRUNC = 01000;

    static final int SIZEOF_FLOCK = 32;
    static final long OFFSETOF_L_TYPE = 0;
    static final long OFFSETOF_L_WHENCE = 2;
    static final long OFFSETOF_L_START = 8;
    static final long OFFSETOF_L_LEN = 16;

    private FileControl() {}

    /** Sets the file mode creation mask; returns the previous one. */
    public static int umask(int mask) {
        return (int) Linux.raw(SYS_UMASK, mask, 0, 0, 0, 0, 0);
    }

    /** Adds {@code O_NONBLOCK} to {@code fd}'s file status flags. */
    public static void setNonBlocking(int fd) throws SyscallException {
        long flags = Linux.call("fcntl F_GETFL", Linux.SYS_FCNTL, fd, F_GETFL, 0);
        Linux.call("fcntl F_SETFL", Linux.SYS_FCNTL, fd, F_SETFL, flags | Linux.O_NONBLOCK);
    }

    static final int ENXIO = 6;
    static final int O_NOCTTY = 0400;

    /** Clears {@code O_NONBLOCK} from {@code fd}'s file status flags. */
    public static void setBlocking(int fd) throws SyscallException {
        long flags = Linux.call("fcntl F_GETFL", Linux.SYS_FCNTL, fd, F_GETFL, 0);
        Linux.call("fcntl F_SETFL", Linux.SYS_FCNTL, fd, F_SETFL, flags & ~Linux.O_NONBLOCK);
    }

    /**
     * Checks {@code path} as an output before the real open: a FIFO that no process has open
     * for reading, or a socket, is refused, since opening it for writing would wait for a reader
     * forever (or fail obscurely) before the VMM could even answer a signal. The returned probe
     * must stay open until the real open is done: closing it before would let a FIFO's reader
     * see end-of-file and go, and the real open would wait after all. Anything else, absent
     * paths included, is left to the real open and its own error.
     */
    public static Closeable probeOutput(String path) throws IOException {
        int fd;
        try {
            fd = Linux.open(path, Linux.O_WRONLY | Linux.O_NONBLOCK | O_NOCTTY, 0);
        } catch (SyscallException e) {
            if (e.errno() == ENXIO) {
                throw new IOException(path + " is a FIFO that no process reads, or a socket");
            }
            return () -> { };
        }
        return () -> Linux.close(fd);
    }

    /**
     * Opens (creating it owner-only if needed) {@code path} and takes an exclusive lock on the
     * whole file. Returns the descriptor, which holds the lock until it is closed; -1 when
     * someone else holds a lock on it.
     */
    public static int tryLockExclusive(String path) throws SyscallException {
        int fd = Linux.open(path, Linux.O_WRONLY | Linux.O_CREAT, 0600);
        try {
            // Length 0: to the end of the file, whatever its size.
            if (tryLock(fd, F_WRLCK, 0, path)) {
                return fd;
            }
        } catch (SyscallException e) {
            Linux.close(fd);
            throw e;
        }
        Linux.close(fd);
        return -1;
    }

    /**
     * Takes an open file description lock of {@code type} ({@link #F_RDLCK} or {@link #F_WRLCK})
     * on the first {@code length} bytes of {@code fd} (0: to the end, however the file grows).
     * Returns false when another open file holds a conflicting lock; {@code path} names the file
     * in errors.
     */
    public static boolean tryLock(int fd, short type, long length, String path)
            throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment lock = arena.allocate(SIZEOF_FLOCK, 8);
            lock.set(JAVA_SHORT, OFFSETOF_L_TYPE, type);
            lock.set(JAVA_SHORT, OFFSETOF_L_WHENCE, SEEK_SET);
            lock.set(JAVA_LONG, OFFSETOF_L_START, 0L);
            lock.set(JAVA_LONG, OFFSETOF_L_LEN, length);
            long ret = Linux.raw(Linux.SYS_FCNTL, fd, F_OFD_SETLK, lock.address(), 0, 0, 0);
            if (ret == -Errno.EAGAIN || ret == -Errno.EACCES) {
                return false;
            }
            if (ret < 0) {
                throw new SyscallException("fcntl F_OFD_SETLK " + path, (int) -ret);
            }
            return true;
        }
    }
}
