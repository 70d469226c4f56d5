package dev.nimbus.sys;

/** Encodes ioctl request numbers the way the kernel's {@code _IOC} macro does (asm-generic/ioctl.h). */
public final class Ioctl {
    private static final int NRSHIFT = 0;
    private static final int TYPESHIFT = 8;
    private static final int SIZESHIFT = 16;
    private static final int DIRSHIFT = 30;
    private static final long NONE = 0;
    private static final long WRITE = 1;
    private static final long READ = 2;

    private Ioctl() {}

    public static long ioc(long dir, int type, int nr, long size) {
        if (size < 0 || size > 0x3FFF) {
            throw new IllegalArgumentException("ioctl size does not fit 14 bits: size=" + size);
        }
        return (dir << DIRSHIFT) | ((long) type << TYPESHIFT) | ((long) nr << NRSHIFT)
                | (size << SIZESHIFT);
    }

    public static long io(int type, int nr) {
        return ioc(NONE, type, nr, 0);
    }

    public static long ior(int type, int nr, long size) {
        return ioc(READ, type, nr, size);
    }

    public static long iow(int type, int nr, long size) {
        return ioc(WRITE, type, nr, size);
    }

    public static long iowr(int type, int nr, long size) {
        return ioc(READ | WRITE, type, nr, size);
    }

    /** The argument size a request number encodes. */
    public static long size(long request) {
        return (request >>> SIZESHIFT) & 0x3FFF;
    }
}
