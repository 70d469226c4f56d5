package dev.nimbus.arch.x86_64;

import dev.nimbus.memory.GuestMemory;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;

/** A boot file (kernel or initramfs) opened for positional reads, with boot-friendly errors. */
final class KernelFile implements AutoCloseable {
    /** Largest single read into guest memory; ByteBuffer views are int-indexed. */
    private static final long MAX_CHUNK = 1L << 30;

    private final Path path;
    private final String what;
    private final FileChannel channel;
    private final long size;

    private KernelFile(Path path, String what, FileChannel channel, long size) {
        this.path = path;
        this.what = what;
        this.channel = channel;
        this.size = size;
    }

    /**
     * Opens {@code path}, which must be a regular file (or a link to one); {@code what}
     * ("Kernel", "Initramfs") starts every error message.
     */
    static KernelFile open(Path path, String what) throws BootException {
        if (path.toString().isEmpty()) {
            throw new BootException(what + " path is empty");
        }
        FileChannel ch;
        try {
            // Checked before opening: a device reports no size, and a FIFO would block the open.
            BasicFileAttributes attributes = Files.readAttributes(path, BasicFileAttributes.class);
            if (attributes.isDirectory()) {
                throw new BootException(what + " path is a directory: path=" + path);
            }
            if (!attributes.isRegularFile()) {
                throw new BootException(what + " file is not a regular file: path=" + path);
            }
            ch = FileChannel.open(path, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new BootException(what + " file not found: path=" + path, e);
        } catch (AccessDeniedException e) {
            throw new BootException(what + " file not readable: path=" + path, e);
        } catch (IOException e) {
            throw new BootException(
                    what + " file cannot be opened: path=" + path + " (" + e.getMessage() + ")", e);
        }
        try {
            return new KernelFile(path, what, ch, ch.size());
        } catch (IOException e) {
            closeQuietly(ch);
            throw new BootException(
                    what + " file cannot be read: path=" + path + " (" + e.getMessage() + ")", e);
        }
    }

    Path path() {
        return path;
    }

    long size() {
        return size;
    }

    /**
     * Reads up to {@code len} bytes at {@code pos}, fewer only at the end of the file, into a
     * little-endian buffer positioned at 0.
     */
    ByteBuffer read(long pos, int len) throws BootException {
        int n = (int) Math.max(0, Math.min(len, size - pos));
        ByteBuffer buf = ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
        fill(buf, pos);
        return buf.flip();
    }

    /** Copies {@code len} bytes at file offset {@code pos} into guest memory at {@code gpa}. */
    void copyTo(GuestMemory mem, long gpa, long pos, long len) throws BootException {
        for (long done = 0; done < len; ) {
            long n = Math.min(MAX_CHUNK, len - done);
            ByteBuffer dst = mem.slice(gpa + done, n).asByteBuffer();
            fill(dst, pos + done);
            done += n;
        }
    }

    private void fill(ByteBuffer dst, long pos) throws BootException {
        try {
            while (dst.hasRemaining()) {
                int r = channel.read(dst, pos + dst.position());
                if (r < 0) {
                    throw new BootException(String.format(
                            "%s file shrank while being read: path=%s offset=%d",
                            what, path, pos + dst.position()));
                }
            }
        } catch (IOException e) {
            throw new BootException(
                    what + " file cannot be read: path=" + path + " (" + e.getMessage() + ")", e);
        }
    }

    @Override
    public void close() {
        closeQuietly(channel);
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException e) {
            // Read-only file: nothing was written that a failed close could lose.
        }
    }
}
