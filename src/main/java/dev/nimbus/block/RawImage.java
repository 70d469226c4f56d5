package dev.nimbus.block;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.nimbus.sys.Errno;
import dev.nimbus.sys.FileControl;
import dev.nimbus.sys.FileStat;
import dev.nimbus.sys.Ioctl;
import dev.nimbus.sys.IoVec;
import dev.nimbus.sys.Linux;
import dev.nimbus.sys.SyscallException;
import dev.nimbus.vmm.config.LockGranularity;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/**
 * A raw disk image: a regular file or a block device whose bytes are the disk's bytes. Data
 * moves with preadv(2)/pwritev(2) straight between the file and the caller's buffers (guest
 * memory).
 *
 * <p>With direct I/O ({@code O_DIRECT}) the kernel wants buffer addresses, lengths and file
 * offsets aligned to the file system's direct I/O alignment. Guests normally keep to the block
 * size the device reports, but nothing forces them to; a request that is not aligned goes
 * through a second, buffered descriptor of the same file instead of failing. The kernel keeps
 * the two coherent: a direct read first writes back dirty cached pages of its range, and a
 * direct write drops them.
 */
public final class RawImage implements DiskImage {
    private static final Logger LOG = System.getLogger(RawImage.class.getName());

    // include/uapi/linux/falloc.h
    public static final int FALLOC_FL_KEEP_SIZE = 0x01;
    public static final int FALLOC_FL_PUNCH_HOLE = 0x02;
    public static final int FALLOC_FL_ZERO_RANGE = 0x10;

    // include/uapi/linux/fs.h
    public static final long BLKSSZGET = Ioctl.io(0x12, 104);
    public static final long BLKIOMIN = Ioctl.io(0x12, 120);
    public static final long BLKIOOPT = Ioctl.io(0x12, 121);
    public static final long BLKPBSZGET = Ioctl.io(0x12, 123);
    public static final long BLKGETSIZE64 = Ioctl.ior(0x12, 114, 8);
    public static final long BLKDISCARD = Ioctl.io(0x12, 119);
    public static final long BLKZEROOUT = Ioctl.io(0x12, 127);

    /** Zeroes written per call where the file system cannot zero a range itself. */
    private static final long ZERO_CHUNK = 1 << 20;
    private static final MemorySegment ZEROES = Arena.global().allocate(ZERO_CHUNK, 4096);

    private final Path path;
    private final int fd;
    /** A buffered descriptor for unaligned requests when {@link #fd} is direct; else fd. */
    private final int bufferedFd;
    private final boolean readOnly;
    private final boolean blockDevice;
    private final int directAlignment;
    private final DiskTopology topology;
    private final FileStat stat;
    private final boolean sparse;
    private volatile long size;
    private boolean closed;

    private RawImage(Path path, int fd, int bufferedFd, boolean readOnly, int directAlignment)
            throws IOException {
        this.path = path;
        this.fd = fd;
        this.bufferedFd = bufferedFd;
        this.readOnly = readOnly;
        this.directAlignment = directAlignment;
        this.stat = FileStat.of(fd);
        if (stat.isBlockDevice()) {
            blockDevice = true;
            size = blockDeviceSize(fd);
            topology = new DiskTopology(blockIoctl(BLKSSZGET, "BLKSSZGET"),
                    blockIoctl(BLKPBSZGET, "BLKPBSZGET"), blockIoctl(BLKIOMIN, "BLKIOMIN"),
                    blockIoctl(BLKIOOPT, "BLKIOOPT"));
        } else if (stat.isRegularFile()) {
            blockDevice = false;
            size = stat.size();
            topology = directAlignment > 0 ? DiskTopology.aligned(directAlignment)
                    : DiskTopology.DEFAULT;
        } else {
            throw new DiskImageException("Disk image is neither a regular file nor a block"
                    + " device: path=" + path);
        }
        // A block device always takes BLKDISCARD/BLKZEROOUT (the kernel zeroes by hand if the
        // hardware cannot); a file only if its file system can punch holes or zero ranges.
        this.sparse = !readOnly && (blockDevice || probeSparse());
    }

    /**
     * Opens {@code path} for reading (and writing unless {@code readOnly}), with {@code O_DIRECT}
     * if {@code direct}.
     */
    public static RawImage open(Path path, boolean readOnly, boolean direct) throws IOException {
        int access = readOnly ? Linux.O_RDONLY : Linux.O_RDWR;
        int fd = Linux.open(path.toString(), access | (direct ? Linux.O_DIRECT : 0), 0);
        int buffered = fd;
        try {
            int alignment = 0;
            if (direct) {
                buffered = Linux.open(path.toString(), access, 0);
                FileStat st = FileStat.of(fd);
                alignment = st.isBlockDevice() ? 0 : FileStat.directIoAlignment(fd);
                if (alignment == 0) {
                    alignment = st.isBlockDevice() ? blockSectorSize(fd) : 512;
                }
            }
            return new RawImage(path, fd, buffered, readOnly, alignment);
        } catch (IOException | RuntimeException e) {
            Linux.close(fd);
            if (buffered != fd) {
                Linux.close(buffered);
            }
            throw e;
        }
    }

    private static long blockDeviceSize(int fd) throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_LONG);
            Linux.ioctl(fd, BLKGETSIZE64, out, "ioctl BLKGETSIZE64");
            return out.get(JAVA_LONG, 0);
        }
    }

    private static int blockSectorSize(int fd) throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            Linux.ioctl(fd, BLKSSZGET, out, "ioctl BLKSSZGET");
            return out.get(JAVA_INT, 0);
        }
    }

    private int blockIoctl(long request, String name) throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            Linux.ioctl(fd, request, out, "ioctl " + name);
            return out.get(JAVA_INT, 0);
        }
    }

    /** Tries both fallocate modes past the end of the file, where they change nothing. */
    private boolean probeSparse() {
        int keep = FALLOC_FL_KEEP_SIZE;
        boolean punch = fallocate(fd, FALLOC_FL_PUNCH_HOLE | keep, size, 1) == 0;
        boolean zero = fallocate(fd, FALLOC_FL_ZERO_RANGE | keep, size, 1) == 0;
        LOG.log(Level.DEBUG, () -> "Sparse support of " + path + ": punch_hole=" + punch
                + " zero_range=" + zero);
        return punch || zero;
    }

    private static int fallocate(int fd, int mode, long offset, long length) {
        return (int) Linux.raw(Linux.SYS_FALLOCATE, fd, mode, offset, length, 0, 0);
    }

    public Path path() {
        return path;
    }

    /** The direct I/O alignment in bytes, or 0 when the image is not opened for direct I/O. */
    public int directAlignment() {
        return directAlignment;
    }

    public boolean isBlockDevice() {
        return blockDevice;
    }

    /** Bytes the host has allocated for the image (a sparse file may have fewer than its size). */
    public long allocatedBytes() throws SyscallException {
        return blockDevice ? size : FileStat.of(fd).blocks() * 512;
    }

    @Override
    public long sizeBytes() {
        return size;
    }

    @Override
    public DiskTopology topology() {
        return topology;
    }

    @Override
    public boolean readOnly() {
        return readOnly;
    }

    @Override
    public boolean supportsSparse() {
        return sparse;
    }

    @Override
    public String identity() {
        // Decimal device, raw device and inode numbers, run together: a string unique to this
        // file on this host, as the default virtio-blk serial number has always been made.
        return Long.toUnsignedString(stat.dev()) + Long.toUnsignedString(stat.rdev())
                + Long.toUnsignedString(stat.ino());
    }

    @Override
    public int read(long offset, IoVec buffers) {
        return buffers.preadFully(descriptorFor(offset, buffers), offset);
    }

    @Override
    public int write(long offset, IoVec buffers) {
        if (readOnly) {
            return -Errno.EBADF;
        }
        return buffers.pwriteFully(descriptorFor(offset, buffers), offset);
    }

    /** The direct descriptor when the request is aligned for it, else the buffered one. */
    private int descriptorFor(long offset, IoVec buffers) {
        if (directAlignment == 0) {
            return fd;
        }
        long mask = directAlignment - 1;
        if ((offset & mask) != 0) {
            return bufferedFd;
        }
        for (int i = 0; i < buffers.count(); i++) {
            if (((buffers.base(i) | buffers.length(i)) & mask) != 0) {
                return bufferedFd;
            }
        }
        return fd;
    }

    @Override
    public int flush() {
        long ret;
        do {
            // fdatasync covers the file, whichever descriptor dirtied its pages.
            ret = Linux.raw(Linux.SYS_FDATASYNC, fd, 0, 0, 0, 0, 0);
        } while (ret == -Errno.EINTR);
        return (int) ret;
    }

    @Override
    public int punchHole(long offset, long length) {
        if (readOnly) {
            return -Errno.EBADF;
        }
        if (blockDevice) {
            int ret = rangeIoctl(BLKDISCARD, offset, length);
            // A device without discard support simply keeps its data: discard is a hint.
            return ret == -Errno.ENOTSUP ? 0 : ret;
        }
        int ret = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length);
        return ret == -Errno.ENOTSUP ? writeZeroesByHand(offset, length) : ret;
    }

    @Override
    public int writeZeroes(long offset, long length) {
        if (readOnly) {
            return -Errno.EBADF;
        }
        if (blockDevice) {
            return rangeIoctl(BLKZEROOUT, offset, length);
        }
        int ret = fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, offset, length);
        return ret == -Errno.ENOTSUP || ret == -Errno.EINVAL ? writeZeroesByHand(offset, length)
                : ret;
    }

    private int writeZeroesByHand(long offset, long length) {
        try (IoVec iov = new IoVec(1)) {
            long done = 0;
            while (done < length) {
                long n = Math.min(ZERO_CHUNK, length - done);
                iov.clear();
                iov.add(ZEROES.address(), n);
                int ret = iov.pwriteFully(bufferedFd, offset + done);
                if (ret < 0) {
                    return ret;
                }
                done += n;
            }
            return 0;
        }
    }

    /** BLKDISCARD and BLKZEROOUT take a pointer to {@code __u64 range[2] = {start, len}}. */
    private int rangeIoctl(long request, long offset, long length) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment range = arena.allocate(16, 8);
            range.set(JAVA_LONG, 0, offset);
            range.set(JAVA_LONG, 8, length);
            return (int) Linux.raw(Linux.SYS_IOCTL, fd, request, range.address(), 0, 0, 0);
        }
    }

    /** Allocates every block of the image (a writable file with {@code sparse=off}). */
    public void preallocate() {
        if (readOnly || blockDevice || size == 0) {
            return;
        }
        int ret = fallocate(fd, 0, 0, size);
        if (ret < 0) {
            LOG.log(Level.WARNING, () -> "Cannot preallocate disk image " + path + ": "
                    + Errno.name(-ret));
        }
    }

    /**
     * Takes an advisory lock on the image, shared when read-only and exclusive otherwise, so that
     * two VMs do not write one image. An open file description lock (fcntl(2) F_OFD_SETLK): it
     * belongs to this image's descriptor and goes away when the image is closed.
     *
     * @throws DiskImageException when another process holds a conflicting lock
     */
    public void lock(LockGranularity granularity) throws IOException {
        long length;
        if (granularity == LockGranularity.FULL) {
            length = 0; // to the end of the file, however it grows
        } else {
            // A sparse file may have fewer bytes allocated than its size, a small dense one
            // more (the last block); cover both.
            length = Math.max(size, allocatedBytes());
        }
        short type = readOnly ? FileControl.F_RDLCK : FileControl.F_WRLCK;
        if (!FileControl.tryLock(fd, type, length, path.toString())) {
            throw new DiskImageException("Disk image is locked by another process: path="
                    + path + " lock=" + (readOnly ? "read" : "write"));
        }
    }

    @Override
    public void resize(long newSize) throws IOException {
        if (blockDevice) {
            throw new DiskImageException("A block device cannot be resized: path=" + path);
        }
        if (readOnly) {
            throw new DiskImageException("A read-only disk image cannot be resized: path="
                    + path);
        }
        Linux.ftruncate(fd, newSize);
        size = newSize;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (bufferedFd != fd) {
            Linux.close(bufferedFd);
        }
        Linux.close(fd);
    }
}
