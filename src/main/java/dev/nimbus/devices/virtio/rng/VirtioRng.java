package dev.nimbus.devices.virtio.rng;

import dev.nimbus.devices.virtio.DescriptorChain;
import dev.nimbus.devices.virtio.Virtio;
import dev.nimbus.devices.virtio.VirtioDeviceBase;
import dev.nimbus.devices.virtio.VirtioQueue;
import dev.nimbus.devices.virtio.Virtqueue;
import dev.nimbus.devices.virtio.VirtqueueException;
import dev.nimbus.log.RateLimitedLog;
import dev.nimbus.sys.Errno;
import dev.nimbus.sys.FileControl;
import dev.nimbus.sys.FileStat;
import dev.nimbus.sys.Linux;
import dev.nimbus.sys.SyscallException;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.lang.foreign.MemorySegment;

/**
 * The entropy device (virtio 1.2, 5.4): one request queue; each request is a chain of
 * device-writable buffers the device fills from the entropy source ({@code --rng src=}, by
 * default {@code /dev/urandom}), read straight into guest memory. It has no configuration space
 * and no device feature bits. Its id is {@code __rng}, as in Cloud Hypervisor.
 */
public final class VirtioRng extends VirtioDeviceBase {
    public static final String ID = "__rng";
    public static final String DEFAULT_SOURCE = "/dev/urandom";
    public static final int QUEUE_SIZE = 256;
    /**
     * 5.4.6.1 lets the device fill less than the whole buffer; capping a request keeps a guest
     * that offers gigabytes from holding the device thread (and a reset) for seconds.
     */
    public static final long MAX_BYTES_PER_REQUEST = 64 * 1024;

    private static final RateLimitedLog SOURCE_ERRORS =
            new RateLimitedLog(System.getLogger(VirtioRng.class.getName()));

    private final String source;
    private final int fd;
    private boolean closed;

    /** An rng device reading from {@code source}, which is opened now. */
    public VirtioRng(String source) throws IOException {
        this(ID, source);
    }

    /** An rng device with another id (a second one, or a test). */
    public VirtioRng(String id, String source) throws IOException {
        super(id, Virtio.VIRTIO_ID_RNG, Virtio.RING_FEATURES, QUEUE_SIZE);
        this.source = source;
        // O_NONBLOCK: opening a FIFO would otherwise wait for a writer before it is refused.
        int opened = Linux.open(source, Linux.O_RDONLY | Linux.O_NONBLOCK, 0);
        try {
            FileStat st = FileStat.of(opened);
            if (!st.isRegularFile() && !st.isCharDevice()) {
                throw new IOException("not a character device or a regular file");
            }
            FileControl.setBlocking(opened);
        } catch (IOException e) {
            Linux.close(opened);
            throw e;
        }
        this.fd = opened;
    }

    /** The entropy source's path. */
    public String source() {
        return source;
    }

    @Override
    public int configSize() {
        return 0;
    }

    @Override
    public long readConfig(int offset, int size) {
        return 0;
    }

    @Override
    public void writeConfig(int offset, int size, long value) {}

    @Override
    protected void processQueue(VirtioQueue queue) throws VirtqueueException {
        Virtqueue vq = queue.queue();
        do {
            for (DescriptorChain chain; (chain = vq.pop()) != null; ) {
                vq.addUsed(chain.head(), fill(chain));
            }
        } while (vq.enableNotification());
        signalUsed(queue);
    }

    /** Reads entropy into the chain's writable buffers; returns the bytes written. */
    private int fill(DescriptorChain chain) {
        long total = 0;
        for (MemorySegment whole : chain.writable()) {
            MemorySegment buffer = whole.asSlice(0,
                    Math.min(whole.byteSize(), MAX_BYTES_PER_REQUEST - total));
            long done = 0;
            while (done < buffer.byteSize()) {
                MemorySegment rest = buffer.asSlice(done);
                long n = Linux.read(fd, rest, rest.byteSize());
                if (n <= 0) {
                    if (n < 0) {
                        SOURCE_ERRORS.log(Level.WARNING, () -> String.format(
                                "%s: cannot read entropy from %s: %s", id(), source,
                                Errno.name((int) -n)));
                    }
                    return (int) (total + done);
                }
                done += n;
            }
            total += done;
        }
        return (int) total;
    }

    @Override
    public void close() {
        reset();
        synchronized (this) {
            // Closing twice could close an unrelated file that reused the number.
            if (!closed) {
                closed = true;
                Linux.close(fd);
            }
        }
    }
}
