package dev.nimbus.block;

import dev.nimbus.sys.Errno;
import dev.nimbus.sys.FileStat;
import dev.nimbus.sys.IoVec;
import dev.nimbus.sys.Linux;
import dev.nimbus.vmm.config.ImageType;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Recognises a disk image's format from its own bytes; anything unrecognised is raw.
 *
 * <ul>
 * <li>QCOW2: big-endian magic {@code QFI\xfb} at offset 0 (QEMU's qcow2 specification).
 * <li>VHDX: the file type identifier signature {@code vhdxfile} at offset 0 (MS-VHDX 2.2.1).
 * <li>Fixed VHD: a 512-byte footer at the end with cookie {@code conectix} and disk type 2
 *     (Microsoft VHD image format specification, "Hard Disk Footer Format").
 * <li>Flat VMDK: a text descriptor starting with {@code # Disk DescriptorFile}.
 * </ul>
 */
public final class ImageFormats {
    static final int HEADER_BYTES = 512;
    static final int QCOW_MAGIC = 0x514649fb;
    static final byte[] VHDX_SIGNATURE = "vhdxfile".getBytes(StandardCharsets.US_ASCII);
    static final byte[] VHD_COOKIE = "conectix".getBytes(StandardCharsets.US_ASCII);
    static final int VHD_DISK_TYPE_OFFSET = 60;
    static final int VHD_TYPE_FIXED = 2;
    static final byte[] VMDK_DESCRIPTOR = "# Disk DescriptorFile"
            .getBytes(StandardCharsets.US_ASCII);
    /** st_mode file type of a directory (include/uapi/linux/stat.h). */
    static final int S_IFDIR = 0040000;

    private ImageFormats() {}

    /**
     * The format of the image at {@code path}.
     *
     * @throws DiskImageException if {@code path} is neither a regular file nor a block device,
     *     or its first bytes cannot be read
     */
    public static ImageType detect(Path path) throws IOException {
        // O_NONBLOCK: opening a FIFO would otherwise wait for a writer before it is refused.
        int fd = Linux.open(path.toString(), Linux.O_RDONLY | Linux.O_NONBLOCK, 0);
        try (Arena arena = Arena.ofConfined(); IoVec iov = new IoVec(1)) {
            FileStat st = FileStat.of(fd);
            checkFileType(path, st);
            long size = st.isRegularFile() ? st.size() : -1;
            byte[] head = readAt(path, fd, 0, size, arena, iov);
            if (head.length >= 4 && be32(head, 0) == QCOW_MAGIC) {
                return ImageType.QCOW2;
            }
            if (startsWith(head, VHDX_SIGNATURE)) {
                return ImageType.VHDX;
            }
            if (size >= HEADER_BYTES) {
                byte[] footer = readAt(path, fd, size - HEADER_BYTES, size, arena, iov);
                if (startsWith(footer, VHD_COOKIE)
                        && be32(footer, VHD_DISK_TYPE_OFFSET) == VHD_TYPE_FIXED) {
                    return ImageType.FIXED_VHD;
                }
            }
            if (startsWith(head, VMDK_DESCRIPTOR)) {
                return ImageType.FLAT_VMDK;
            }
            return ImageType.RAW;
        } finally {
            Linux.close(fd);
        }
    }

    private static void checkFileType(Path path, FileStat st) throws DiskImageException {
        if ((st.mode() & FileStat.S_IFMT) == S_IFDIR) {
            throw new DiskImageException("Disk path is a directory: path=" + path);
        }
        if (!st.isRegularFile() && !st.isBlockDevice()) {
            throw new DiskImageException("Disk image is neither a regular file nor a block"
                    + " device: path=" + path);
        }
    }

    /** Up to 512 bytes at {@code offset}; fewer at the end of a short file. */
    private static byte[] readAt(Path path, int fd, long offset, long size, Arena arena,
            IoVec iov) throws IOException {
        int n = size < 0 ? HEADER_BYTES : (int) Math.min(HEADER_BYTES, size - offset);
        if (n <= 0) {
            return new byte[0];
        }
        MemorySegment buf = arena.allocate(n);
        iov.clear();
        iov.add(buf);
        int ret = iov.preadFully(fd, offset);
        if (ret < 0) {
            throw new DiskImageException("Cannot read the disk image header: path=" + path
                    + " offset=" + offset + ": " + Errno.name(-ret) + " ("
                    + Errno.description(-ret) + ")");
        }
        return buf.toArray(ValueLayout.JAVA_BYTE);
    }

    private static int be32(byte[] b, int at) {
        if (b.length < at + 4) {
            return 0;
        }
        return MemorySegment.ofArray(b).get(
                ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN), at);
    }

    private static boolean startsWith(byte[] b, byte[] prefix) {
        if (b.length < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (b[i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }
}
