package dev.nimbus.devices.virtio;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import java.lang.foreign.MemorySegment;
import java.util.Collections;
import java.util.List;

/**
 * One request a driver made available: the chain of buffers starting at descriptor
 * {@link #head()}, already walked and checked by {@link Virtqueue#pop()}. The buffers are slices
 * of guest memory, in place: what the device writes into {@link #writable()} is what the driver
 * reads, without copies. Device-readable buffers come first, then device-writable ones (2.7.4).
 *
 * <p>A device must not write to {@link #readable()} buffers (2.7.5). A chain belongs to the
 * thread that popped it until it is handed back with {@link Virtqueue#addUsed}.
 */
public final class DescriptorChain {
    private final int head;
    private final List<MemorySegment> readable;
    private final List<MemorySegment> writable;
    private final long readableLength;
    private final long writableLength;

    DescriptorChain(int head, List<MemorySegment> readable, List<MemorySegment> writable) {
        this.head = head;
        this.readable = Collections.unmodifiableList(readable);
        this.writable = Collections.unmodifiableList(writable);
        this.readableLength = length(readable);
        this.writableLength = length(writable);
    }

    private static long length(List<MemorySegment> buffers) {
        long n = 0;
        for (MemorySegment s : buffers) {
            n += s.byteSize();
        }
        return n;
    }

    /** Index of the chain's first descriptor: the id the used ring reports it under. */
    public int head() {
        return head;
    }

    /** The device-readable buffers, in chain order. */
    public List<MemorySegment> readable() {
        return readable;
    }

    /** The device-writable buffers, in chain order. */
    public List<MemorySegment> writable() {
        return writable;
    }

    /** Total bytes of the device-readable buffers. */
    public long readableLength() {
        return readableLength;
    }

    /** Total bytes of the device-writable buffers. */
    public long writableLength() {
        return writableLength;
    }

    /**
     * Copies up to {@code len} bytes of the readable buffers, taken as one stream starting at
     * byte {@code offset}, into {@code dst[off..]}; returns how many bytes it copied.
     */
    public int read(long offset, byte[] dst, int off, int len) {
        return transfer(readable, offset, dst, off, len, false);
    }

    /**
     * Copies {@code src[off..off+len)} into the writable buffers, taken as one stream starting at
     * byte {@code offset}; returns how many bytes fitted.
     */
    public int write(long offset, byte[] src, int off, int len) {
        return transfer(writable, offset, src, off, len, true);
    }

    private static int transfer(List<MemorySegment> buffers, long offset, byte[] array, int off,
            int len, boolean toGuest) {
        int done = 0;
        long skip = offset;
        for (MemorySegment s : buffers) {
            if (done == len) {
                break;
            }
            long size = s.byteSize();
            if (skip >= size) {
                skip -= size;
                continue;
            }
            int n = (int) Math.min(size - skip, len - done);
            if (toGuest) {
                MemorySegment.copy(array, off + done, s, JAVA_BYTE, skip, n);
            } else {
                MemorySegment.copy(s, JAVA_BYTE, skip, array, off + done, n);
            }
            done += n;
            skip = 0;
        }
        return done;
    }
}
