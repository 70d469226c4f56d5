package dev.nimbus.sys;

/** Linux x86-64 errno values (asm-generic/errno-base.h, errno.h) with their names and texts. */
public final class Errno {
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int EINTR = 4;
    public static final int EIO = 5;
    public static final int EBADF = 9;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EFAULT = 14;
    public static final int EBUSY = 16;
    public static final int EEXIST = 17;
    public static final int ENODEV = 19;
    public static final int EINVAL = 22;
    public static final int ENOSPC = 28;
    public static final int EPIPE = 32;
    public static final int ENOSYS = 38;
    public static final int ENOTSUP = 95;
    public static final int EADDRINUSE = 98;
    public static final int ECONNRESET = 104;
    public static final int ETIMEDOUT = 110;

    private static final String[][] TABLE = new String[134][];

    static {
        add(EPERM, "EPERM", "Operation not permitted");
        add(ENOENT, "ENOENT", "No such file or directory");
        add(3, "ESRCH", "No such process");
        add(EINTR, "EINTR", "Interrupted system call");
        add(EIO, "EIO", "Input/output error");
        add(6, "ENXIO", "No such device or address");
        add(7, "E2BIG", "Argument list too long");
        add(8, "ENOEXEC", "Exec format error");
        add(EBADF, "EBADF", "Bad file descriptor");
        add(10, "ECHILD", "No child processes");
        add(EAGAIN, "EAGAIN", "Resource temporarily unavailable");
        add(ENOMEM, "ENOMEM", "Cannot allocate memory");
        add(EACCES, "EACCES", "Permission denied");
        add(EFAULT, "EFAULT", "Bad address");
        add(EBUSY, "EBUSY", "Device or resource busy");
        add(EEXIST, "EEXIST", "File exists");
        add(18, "EXDEV", "Invalid cross-device link");
        add(ENODEV, "ENODEV", "No such device");
        add(20, "ENOTDIR", "Not a directory");
        add(21, "EISDIR", "Is a directory");
        add(EINVAL, "EINVAL", "Invalid argument");
        add(23, "ENFILE", "Too many open files in system");
        add(24, "EMFILE", "Too many open files");
        add(25, "ENOTTY", "Inappropriate ioctl for device");
        add(27, "EFBIG", "File too large");
        add(ENOSPC, "ENOSPC", "No space left on device");
        add(29, "ESPIPE", "Illegal seek");
        add(30, "EROFS", "Read-only file system");
        add(EPIPE, "EPIPE", "Broken pipe");
        add(34, "ERANGE", "Numerical result out of range");
        add(ENOSYS, "ENOSYS", "Function not implemented");
        add(88, "ENOTSOCK", "Socket operation on non-socket");
        add(ENOTSUP, "EOPNOTSUPP", "Operation not supported");
        add(EADDRINUSE, "EADDRINUSE", "Address already in use");
        add(99, "EADDRNOTAVAIL", "Cannot assign requested address");
        add(ECONNRESET, "ECONNRESET", "Connection reset by peer");
        add(107, "ENOTCONN", "Transport endpoint is not connected");
        add(ETIMEDOUT, "ETIMEDOUT", "Connection timed out");
        add(111, "ECONNREFUSED", "Connection refused");
    }

    private Errno() {}

    private static void add(int errno, String name, String text) {
        TABLE[errno] = new String[] {name, text};
    }

    /** The symbolic name, e.g. {@code EEXIST}, or {@code errno=N} for an unlisted value. */
    public static String name(int errno) {
        return errno > 0 && errno < TABLE.length && TABLE[errno] != null
                ? TABLE[errno][0]
                : "errno=" + errno;
    }

    /** The strerror text, e.g. {@code File exists}. */
    public static String description(int errno) {
        return errno > 0 && errno < TABLE.length && TABLE[errno] != null
                ? TABLE[errno][1]
                : "Unknown error " + errno;
    }
}
