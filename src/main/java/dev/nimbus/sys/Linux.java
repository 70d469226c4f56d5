package dev.nimbus.sys;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * Linux x86-64 system calls, all made through glibc's {@code long syscall(long number, ...)}.
 *
 * <p>Every call goes through one downcall handle of one shape. Each distinct FFM shape costs
 * milliseconds to link at start-up, so a VMM whose boot path needs a dozen calls is much faster
 * to start with a single generic entry than with one handle per libc function. Pointers are
 * passed as raw addresses ({@link MemorySegment#address()}); the caller keeps the segment alive.
 *
 * <p>A failed call throws {@link SyscallException}; errno is captured by the linker in a
 * per-thread segment, and read only after the kernel reported failure.
 */
public final class Linux {
    // System call numbers, arch/x86/entry/syscalls/syscall_64.tbl.
    public static final int SYS_READ = 0;
    public static final int SYS_WRITE = 1;
    public static final int SYS_CLOSE = 3;
    public static final int SYS_MMAP = 9;
    public static final int SYS_MPROTECT = 10;
    public static final int SYS_MUNMAP = 11;
    public static final int SYS_RT_SIGACTION = 13;
    public static final int SYS_RT_SIGPROCMASK = 14;
    public static final int SYS_IOCTL = 16;
    public static final int SYS_PREAD64 = 17;
    public static final int SYS_PWRITE64 = 18;
    public static final int SYS_READV = 19;
    public static final int SYS_WRITEV = 20;
    public static final int SYS_MADVISE = 28;
    public static final int SYS_DUP = 32;
    public static final int SYS_GETPID = 39;
    public static final int SYS_SOCKET = 41;
    public static final int SYS_CONNECT = 42;
    public static final int SYS_ACCEPT = 43;
    public static final int SYS_SENDMSG = 46;
    public static final int SYS_RECVMSG = 47;
    public static final int SYS_SHUTDOWN = 48;
    public static final int SYS_BIND = 49;
    public static final int SYS_LISTEN = 50;
    public static final int SYS_SOCKETPAIR = 53;
    public static final int SYS_FCNTL = 72;
    public static final int SYS_FLOCK = 73;
    public static final int SYS_FSYNC = 74;
    public static final int SYS_FDATASYNC = 75;
    public static final int SYS_FTRUNCATE = 77;
    public static final int SYS_GETTID = 186;
    public static final int SYS_TGKILL = 234;
    public static final int SYS_EPOLL_WAIT = 232;
    public static final int SYS_EPOLL_CTL = 233;
    public static final int SYS_OPENAT = 257;
    public static final int SYS_PPOLL = 271;
    public static final int SYS_FALLOCATE = 285;
    public static final int SYS_ACCEPT4 = 288;
    public static final int SYS_EVENTFD2 = 290;
    public static final int SYS_EPOLL_CREATE1 = 291;
    public static final int SYS_PIPE2 = 293;
    public static final int SYS_PREADV = 295;
    public static final int SYS_PWRITEV = 296;
    public static final int SYS_MEMFD_CREATE = 319;

    public static final int AT_FDCWD = -100;
    public static final int O_RDONLY = 0;
    public static final int O_WRONLY = 1;
    public static final int O_RDWR = 2;
    public static final int O_CREAT = 0100;
    public static final int O_NONBLOCK = 04000;
    public static final int O_DIRECT = 040000;
    public static final int O_CLOEXEC = 02000000;

    public static final int PROT_READ = 1;
    public static final int PROT_WRITE = 2;
    public static final int PROT_EXEC = 4;
    public static final int MAP_SHARED = 0x01;
    public static final int MAP_PRIVATE = 0x02;
    public static final int MAP_ANONYMOUS = 0x20;
    public static final int MAP_NORESERVE = 0x4000;
    public static final int MAP_POPULATE = 0x8000;

    public static final int MFD_CLOEXEC = 1;
    public static final int MFD_ALLOW_SEALING = 2;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle SYSCALL;
    private static final VarHandle ERRNO;
    private static final MemoryLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final ThreadLocal<MemorySegment> CAPTURE =
            ThreadLocal.withInitial(() -> Arena.global().allocate(CAPTURE_LAYOUT));

    static {
        MemorySegment syscall = LINKER.defaultLookup().find("syscall").orElseThrow();
        FunctionDescriptor longs = FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG,
                JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG);
        Linker.Option errno = Linker.Option.captureCallState("errno");
        // syscall() is variadic. The x86-64 variadic convention differs from the fixed one
        // only in %al, the count of vector registers used, and glibc's syscall is an assembly
        // routine that moves its integer arguments into place and never reads %al. So with
        // glibc the fixed-arity call is the same call, and it skips the method handle adapter
        // FFM builds to set %al (about 12 ms of start-up). Another C library gets the variadic
        // linkage.
        SYSCALL = LINKER.defaultLookup().find("gnu_get_libc_version").isPresent()
                ? LINKER.downcallHandle(syscall, longs, errno)
                : LINKER.downcallHandle(syscall, longs, Linker.Option.firstVariadicArg(1), errno);
        ERRNO = CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    }

    private Linux() {}

    /**
     * Makes system call {@code nr}; returns the kernel's non-negative result, or {@code -errno}
     * on failure. Use this form where a failure is an expected outcome (EAGAIN, EINTR).
     */
    public static long raw(int nr, long a1, long a2, long a3, long a4, long a5, long a6) {
        MemorySegment capture = CAPTURE.get();
        long ret;
        try {
            ret = (long) SYSCALL.invokeExact(capture, (long) nr, a1, a2, a3, a4, a5, a6);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (ret == -1) {
            return -(int) ERRNO.get(capture, 0L);
        }
        return ret;
    }

    /** Makes a system call and throws {@link SyscallException} naming {@code what} on failure. */
    public static long call(String what, int nr, long a1, long a2, long a3, long a4, long a5,
            long a6) throws SyscallException {
        long ret = raw(nr, a1, a2, a3, a4, a5, a6);
        if (ret < 0 && ret >= -4095) {
            throw new SyscallException(what, (int) -ret);
        }
        return ret;
    }

    public static long call(String what, int nr, long a1, long a2, long a3)
            throws SyscallException {
        return call(what, nr, a1, a2, a3, 0, 0, 0);
    }

    /** Turns a Throwable from {@code invokeExact} into something we can throw unchecked. */
    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException re) {
            throw re;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new AssertionError("unexpected checked exception from a downcall", t);
    }

    // ---- thin wrappers for the calls most code needs ----

    public static int open(String path, int flags, int mode) throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = arena.allocateFrom(path);
            return (int) call("open " + path, SYS_OPENAT, AT_FDCWD, p.address(), flags | O_CLOEXEC,
                    mode, 0, 0);
        }
    }

    public static void close(int fd) {
        if (fd >= 0) {
            raw(SYS_CLOSE, fd, 0, 0, 0, 0, 0);
        }
    }

    /** ioctl with an integer (or no) argument. */
    public static long ioctl(int fd, long request, long arg, String name) throws SyscallException {
        return call(name, SYS_IOCTL, fd, request, arg, 0, 0, 0);
    }

    /** ioctl with a pointer argument. */
    public static long ioctl(int fd, long request, MemorySegment arg, String name)
            throws SyscallException {
        return call(name, SYS_IOCTL, fd, request, arg.address(), 0, 0, 0);
    }

    public static long mmap(long addr, long length, int prot, int flags, int fd, long offset)
            throws SyscallException {
        return call("mmap", SYS_MMAP, addr, length, prot, flags, fd, offset);
    }

    public static void munmap(long addr, long length) {
        raw(SYS_MUNMAP, addr, length, 0, 0, 0, 0);
    }

    public static int memfdCreate(String name, int flags) throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment n = arena.allocateFrom(name);
            return (int) call("memfd_create", SYS_MEMFD_CREATE, n.address(), flags, 0);
        }
    }

    public static void ftruncate(int fd, long length) throws SyscallException {
        call("ftruncate", SYS_FTRUNCATE, fd, length, 0);
    }

    public static int eventfd(int initval, int flags) throws SyscallException {
        return (int) call("eventfd2", SYS_EVENTFD2, initval, flags, 0);
    }

    public static int gettid() {
        return (int) raw(SYS_GETTID, 0, 0, 0, 0, 0, 0);
    }

    public static int getpid() {
        return (int) raw(SYS_GETPID, 0, 0, 0, 0, 0, 0);
    }

    /** write(2) from native memory; returns bytes written or -errno. */
    public static long write(int fd, MemorySegment buf, long len) {
        return raw(SYS_WRITE, fd, buf.address(), len, 0, 0, 0);
    }

    /** read(2) into native memory; returns bytes read or -errno. */
    public static long read(int fd, MemorySegment buf, long len) {
        return raw(SYS_READ, fd, buf.address(), len, 0, 0, 0);
    }

    /** Reads a native int at {@code seg[offset]}. */
    public static int getInt(MemorySegment seg, long offset) {
        return seg.get(JAVA_INT, offset);
    }
}
