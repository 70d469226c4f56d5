package dev.nimbus.sys;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * What fstat(2) says about an open file, from the x86-64 {@code struct stat}
 * (arch/x86/include/uapi/asm/stat.h):
 *
 * <pre>
 * struct stat {
 *     __kernel_ulong_t st_dev;      // offset 0
 *     __kernel_ulong_t st_ino;      // offset 8
 *     __kernel_ulong_t st_nlink;    // offset 16
 *     unsigned int     st_mode;     // offset 24
 *     unsigned int     st_uid, st_gid, __pad0;
 *     __kernel_ulong_t st_rdev;     // offset 40
 *     __kernel_long_t  st_size;     // offset 48
 *     __kernel_long_t  st_blksize;  // offset 56
 *     __kernel_long_t  st_blocks;   // offset 64, in 512-byte units
 *     ...                           // times; 144 bytes in all
 * };
 * </pre>
 *
 * @param dev the device the file lives on
 * @param ino the inode number
 * @param mode type and permission bits
 * @param rdev the device a device file stands for
 * @param size bytes (0 for a block device: ask the device)
 * @param blocks 512-byte blocks allocated
 */
public record FileStat(long dev, long ino, int mode, long rdev, long size, long blocks) {
    public static final int SYS_FSTAT = 5;
    public static final int SYS_STATX = 332;

    static final long SIZEOF_STAT = 144;
    static final long OFFSETOF_ST_DEV = 0;
    static final long OFFSETOF_ST_INO = 8;
    static final long OFFSETOF_ST_MODE = 24;
    static final long OFFSETOF_ST_RDEV = 40;
    static final long OFFSETOF_ST_SIZE = 48;
    static final long OFFSETOF_ST_BLOCKS = 64;

    // include/uapi/linux/stat.h
    public static final int S_IFMT = 0170000;
    public static final int S_IFBLK = 0060000;
    public static final int S_IFCHR = 0020000;
    public static final int S_IFREG = 0100000;

    // struct statx, include/uapi/linux/stat.h: 256 bytes; the direct I/O fields came in 6.1.
    static final long SIZEOF_STATX = 256;
    static final long OFFSETOF_STX_MASK = 0;
    static final long OFFSETOF_STX_DIO_MEM_ALIGN = 152;
    static final long OFFSETOF_STX_DIO_OFFSET_ALIGN = 156;
    public static final int STATX_DIOALIGN = 0x2000;
    public static final int AT_EMPTY_PATH = 0x1000;

    /** fstat(2) of {@code fd}. */
    public static FileStat of(int fd) throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(SIZEOF_STAT, 8);
            Linux.call("fstat", SYS_FSTAT, fd, st.address(), 0);
            return new FileStat(st.get(JAVA_LONG, OFFSETOF_ST_DEV),
                    st.get(JAVA_LONG, OFFSETOF_ST_INO), st.get(JAVA_INT, OFFSETOF_ST_MODE),
                    st.get(JAVA_LONG, OFFSETOF_ST_RDEV), st.get(JAVA_LONG, OFFSETOF_ST_SIZE),
                    st.get(JAVA_LONG, OFFSETOF_ST_BLOCKS));
        }
    }

    public boolean isBlockDevice() {
        return (mode & S_IFMT) == S_IFBLK;
    }

    public boolean isCharDevice() {
        return (mode & S_IFMT) == S_IFCHR;
    }

    public boolean isRegularFile() {
        return (mode & S_IFMT) == S_IFREG;
    }

    /**
     * The alignment direct I/O on {@code fd} needs, for buffer addresses and file offsets alike
     * (the larger of statx's {@code stx_dio_mem_align} and {@code stx_dio_offset_align}), or 0
     * when the kernel does not say (before Linux 6.1, or a file system without direct I/O).
     */
    public static int directIoAlignment(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment stx = arena.allocate(SIZEOF_STATX, 8);
            MemorySegment empty = arena.allocateFrom("");
            long ret = Linux.raw(SYS_STATX, fd, empty.address(), AT_EMPTY_PATH, STATX_DIOALIGN,
                    stx.address(), 0);
            if (ret < 0 || (stx.get(JAVA_INT, OFFSETOF_STX_MASK) & STATX_DIOALIGN) == 0) {
                return 0;
            }
            int mem = stx.get(JAVA_INT, OFFSETOF_STX_DIO_MEM_ALIGN);
            int offset = stx.get(JAVA_INT, OFFSETOF_STX_DIO_OFFSET_ALIGN);
            return mem == 0 ? 0 : Math.max(mem, offset);
        }
    }
}
