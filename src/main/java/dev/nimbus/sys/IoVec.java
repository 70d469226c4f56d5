package dev.nimbus.sys;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * An array of {@code struct iovec} in native memory, for the vectored I/O calls readv(2),
 * writev(2), preadv(2) and pwritev(2): device engines point it at guest buffers and move data
 * between a file and guest memory without a copy.
 *
 * <pre>
 * struct iovec {
 *     void  *iov_base;   // offset 0
 *     size_t iov_len;    // offset 8
 * };                     // 16 bytes on x86-64
 * </pre>
 *
 * <p>The array grows on demand. One thread fills and uses it at a time (a device worker keeps
 * its own); the addresses it holds must stay mapped until the call returns, which guest RAM does
 * while a device is active.
 */
public final class IoVec implements AutoCloseable {
    public static final long SIZEOF_IOVEC = 16;
    public static final long OFFSETOF_IOV_BASE = 0;
    public static final long OFFSETOF_IOV_LEN = 8;
    /** UIO_MAXIOV, include/uapi/linux/uio.h: the most entries one call accepts. */
    public static final int UIO_MAXIOV = 1024;

    private final Arena arena = Arena.ofShared();
    private MemorySegment array;
    private int capacity;
    private int count;
    private long totalBytes;

    /** An empty array with room for {@code initialCapacity} entries before it grows. */
    public IoVec(int initialCapacity) {
        capacity = Math.max(1, initialCapacity);
        array = arena.allocate(SIZEOF_IOVEC * capacity, 8);
    }

    /** Forgets every entry. */
    public void clear() {
        count = 0;
        totalBytes = 0;
    }

    /** Entries in the array. */
    public int count() {
        return count;
    }

    /** Sum of the entries' lengths. */
    public long totalBytes() {
        return totalBytes;
    }

    /** {@code iov[i].iov_base}. */
    public long base(int i) {
        return array.get(JAVA_LONG, i * SIZEOF_IOVEC + OFFSETOF_IOV_BASE);
    }

    /** {@code iov[i].iov_len}. */
    public long length(int i) {
        return array.get(JAVA_LONG, i * SIZEOF_IOVEC + OFFSETOF_IOV_LEN);
    }

    /** Appends {@code len} bytes at host address {@code address}; empty ranges are skipped. */
    public void add(long address, long len) {
        if (len == 0) {
            return;
        }
        if (count == capacity) {
            grow();
        }
        set(count++, address, len);
        totalBytes += len;
    }

    /** Appends the whole of native segment {@code s}. */
    public void add(MemorySegment s) {
        add(s.address(), s.byteSize());
    }

    /** Appends {@code len} bytes of native segment {@code s} from {@code offset}. */
    public void add(MemorySegment s, long offset, long len) {
        if (offset < 0 || len < 0 || offset > s.byteSize() - len) {
            throw new IndexOutOfBoundsException("Range outside the segment: offset=" + offset
                    + " len=" + len + " size=" + s.byteSize());
        }
        add(s.address() + offset, len);
    }

    private void set(int i, long base, long len) {
        array.set(JAVA_LONG, i * SIZEOF_IOVEC + OFFSETOF_IOV_BASE, base);
        array.set(JAVA_LONG, i * SIZEOF_IOVEC + OFFSETOF_IOV_LEN, len);
    }

    private void grow() {
        MemorySegment bigger = arena.allocate(SIZEOF_IOVEC * capacity * 2, 8);
        bigger.copyFrom(array);
        // The old array stays in the arena until close; growth doubles, so that is bounded.
        array = bigger;
        capacity *= 2;
    }

    /** Address of entry {@code i}, as the system calls take it. */
    public long address(int i) {
        return array.address() + i * SIZEOF_IOVEC;
    }

    /**
     * readv(2) of all entries (at most {@link #UIO_MAXIOV}) from {@code fd}; returns the bytes
     * read or {@code -errno}.
     */
    public long readv(int fd) {
        return Linux.raw(Linux.SYS_READV, fd, array.address(), Math.min(count, UIO_MAXIOV), 0, 0,
                0);
    }

    /** writev(2) of all entries (at most {@link #UIO_MAXIOV}); bytes written or {@code -errno}. */
    public long writev(int fd) {
        return Linux.raw(Linux.SYS_WRITEV, fd, array.address(), Math.min(count, UIO_MAXIOV), 0, 0,
                0);
    }

    /**
     * Reads all {@link #totalBytes()} from {@code fd} at {@code offset} with preadv(2), as many
     * calls as it takes (more than {@link #UIO_MAXIOV} entries, short reads). Returns 0, or
     * {@code -errno}; {@code -EIO} if the file ends first. Consumes the entries: {@link #clear}
     * before reuse.
     */
    public int preadFully(int fd, long offset) {
        return transferFully(fd, offset, Linux.SYS_PREADV);
    }

    /** Writes all {@link #totalBytes()} to {@code fd} at {@code offset}, as {@link #preadFully}. */
    public int pwriteFully(int fd, long offset) {
        return transferFully(fd, offset, Linux.SYS_PWRITEV);
    }

    private int transferFully(int fd, long offset, int nr) {
        int i = 0;
        long position = offset;
        while (i < count) {
            int n = Math.min(count - i, UIO_MAXIOV);
            // preadv/pwritev take the offset split in two longs; on a 64-bit kernel the low
            // half is the whole offset and the high half is ignored.
            long done = Linux.raw(nr, fd, address(i), n, position, 0, 0);
            if (done == -Errno.EINTR) {
                continue;
            }
            if (done < 0) {
                return (int) done;
            }
            if (done == 0) {
                return -Errno.EIO;
            }
            position += done;
            while (done > 0) {
                long len = length(i);
                if (done >= len) {
                    done -= len;
                    i++;
                } else {
                    set(i, base(i) + done, len - done);
                    done = 0;
                }
            }
        }
        return 0;
    }

    @Override
    public void close() {
        arena.close();
    }
}
