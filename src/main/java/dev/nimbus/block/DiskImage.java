package dev.nimbus.block;

import dev.nimbus.sys.IoVec;
import java.io.IOException;

/**
 * A disk image as a block device engine sees it: bytes addressed by offset, with flush, hole
 * punching and zeroing. A raw file or block device is one ({@link RawImage}); other formats
 * (qcow2, VHD) would map guest offsets to their own layout behind the same methods.
 *
 * <p>The data methods are called from several device threads at once (one per queue) and are
 * thread-safe. They report failure as {@code -errno} rather than by throwing: an I/O error is a
 * guest-visible outcome (VIRTIO_BLK_S_IOERR), not a VMM failure. Callers check ranges against
 * {@link #sizeBytes()} first.
 */
public interface DiskImage extends AutoCloseable {
    /** The guest-visible size in bytes. */
    long sizeBytes();

    /** Block sizes to report to the guest. */
    DiskTopology topology();

    /** Whether the image was opened read-only. */
    boolean readOnly();

    /** Whether {@link #punchHole} and {@link #writeZeroes} work on this image. */
    boolean supportsSparse();

    /**
     * A string that identifies the image on this host (device and inode numbers), from which
     * the default serial number is built.
     */
    String identity();

    /**
     * Reads {@code buffers.totalBytes()} bytes at {@code offset} into the buffers, in order.
     * Returns 0 or {@code -errno}. Consumes {@code buffers}' entries.
     */
    int read(long offset, IoVec buffers);

    /** Writes the buffers' bytes at {@code offset}; 0 or {@code -errno}. Consumes the entries. */
    int write(long offset, IoVec buffers);

    /** Makes every completed write durable (fdatasync(2)); 0 or {@code -errno}. */
    int flush();

    /** Deallocates a range, which then reads as zeroes; 0 or {@code -errno}. */
    int punchHole(long offset, long length);

    /** Makes a range read as zeroes, keeping it allocated; 0 or {@code -errno}. */
    int writeZeroes(long offset, long length);

    /** Changes the image's size (a regular file only). */
    void resize(long newSize) throws IOException;

    /** Closes the image; harmless twice. */
    @Override
    void close();
}
