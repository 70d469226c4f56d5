package dev.nimbus.devices.virtio.console;

import dev.nimbus.devices.ConsoleInput;
import dev.nimbus.devices.ConsoleOutput;
import dev.nimbus.devices.virtio.DescriptorChain;
import dev.nimbus.devices.virtio.Virtio;
import dev.nimbus.devices.virtio.VirtioActivation;
import dev.nimbus.devices.virtio.VirtioDeviceBase;
import dev.nimbus.devices.virtio.VirtioQueue;
import dev.nimbus.devices.virtio.VirtioWorker;
import dev.nimbus.devices.virtio.Virtqueue;
import dev.nimbus.devices.virtio.VirtqueueException;
import dev.nimbus.sys.EventFd;
import dev.nimbus.sys.SyscallException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * The console device (virtio 1.2, 5.3) with a single port, the guest's {@code hvc0}: receiveq 0
 * carries input to the guest, transmitq 1 output from it. No multiport, so no control queues.
 * Offers VIRTIO_CONSOLE_F_SIZE (the terminal size, see {@link #setSize}) and
 * VIRTIO_CONSOLE_F_EMERG_WRITE (a byte written to {@code emerg_wr} is output at once). Its id is
 * {@code __console}, as in Cloud Hypervisor.
 *
 * <p>Output goes to a {@link ConsoleOutput}, which never blocks. Input arrives through
 * {@link #receive} from whatever thread reads the host side (a tty, pty or socket); it waits in
 * a 64 KiB buffer until the driver has receive buffers, and {@code receive} refuses bytes while
 * that buffer is full.
 */
public final class VirtioConsole extends VirtioDeviceBase implements ConsoleInput {
    public static final String ID = "__console";
    public static final int QUEUE_SIZE = 256;
    public static final int RECEIVEQ = 0;
    public static final int TRANSMITQ = 1;

    // Feature bits, 5.3.3.
    public static final int VIRTIO_CONSOLE_F_SIZE = 0;
    public static final int VIRTIO_CONSOLE_F_MULTIPORT = 1;
    public static final int VIRTIO_CONSOLE_F_EMERG_WRITE = 2;

    // struct virtio_console_config, 5.3.4.
    public static final int CONFIG_COLS = 0;
    public static final int CONFIG_ROWS = 2;
    public static final int CONFIG_MAX_NR_PORTS = 4;
    public static final int CONFIG_EMERG_WR = 8;
    public static final int CONFIG_SIZE = 12;

    public static final int INPUT_CAPACITY = 64 * 1024;
    private static final int OUTPUT_CHUNK = 4096;

    private final ConsoleOutput output;
    private final EventFd inputReady;
    private final byte[] input = new byte[INPUT_CAPACITY];
    private long inputHead; // next byte for the guest, guarded by input
    private long inputTail; // next free slot, guarded by input
    private long droppedInput;
    private int cols;
    private int rows;
    private final byte[] outputChunk = new byte[OUTPUT_CHUNK];

    /** A console writing the guest's output to {@code output}. */
    public VirtioConsole(ConsoleOutput output) throws SyscallException {
        this(ID, output);
    }

    public VirtioConsole(String id, ConsoleOutput output) throws SyscallException {
        super(id, Virtio.VIRTIO_ID_CONSOLE, Virtio.RING_FEATURES
                | Virtio.bit(VIRTIO_CONSOLE_F_SIZE) | Virtio.bit(VIRTIO_CONSOLE_F_EMERG_WRITE),
                QUEUE_SIZE, QUEUE_SIZE);
        this.output = output;
        this.inputReady = EventFd.create();
    }

    // ---- host side ----

    /**
     * Queues a byte typed on the host for the guest; false when the buffer is full. Called from
     * the host reader's thread.
     */
    @Override
    public boolean receive(byte b) {
        boolean wasEmpty;
        synchronized (input) {
            if (inputTail - inputHead == INPUT_CAPACITY) {
                droppedInput++;
                return false;
            }
            wasEmpty = inputTail == inputHead;
            input[(int) (inputTail++ % INPUT_CAPACITY)] = b;
        }
        if (wasEmpty) {
            inputReady.signal();
        }
        return true;
    }

    /** Bytes refused by {@link #receive} because the buffer was full. */
    public long droppedInput() {
        synchronized (input) {
            return droppedInput;
        }
    }

    /**
     * Sets the terminal size the guest reads (5.3.6: a configuration change notification tells a
     * driver that negotiated VIRTIO_CONSOLE_F_SIZE).
     */
    public void setSize(int cols, int rows) {
        synchronized (this) {
            this.cols = cols & 0xFFFF;
            this.rows = rows & 0xFFFF;
        }
        VirtioActivation a = activation();
        if (a != null && a.has(VIRTIO_CONSOLE_F_SIZE)) {
            a.interrupt().signalConfigChange();
        }
    }

    // ---- configuration ----

    @Override
    public int configSize() {
        return CONFIG_SIZE;
    }

    @Override
    public synchronized long readConfig(int offset, int size) {
        // cols, rows, max_nr_ports (meaningful only with MULTIPORT: one port), emerg_wr reads 0.
        long low = (long) cols | (long) rows << 16 | 1L << 32;
        long value = 0;
        for (int i = size - 1; i >= 0; i--) {
            int o = offset + i;
            int b = o >= 0 && o < CONFIG_EMERG_WR ? (int) (low >>> (8 * o)) & 0xFF : 0;
            value = value << 8 | b;
        }
        return value;
    }

    @Override
    public void writeConfig(int offset, int size, long value) {
        // 5.3.5.1: emerg_wr works at any time, even before the driver set the device up.
        if (offset == CONFIG_EMERG_WR) {
            output.write((byte) value);
        }
    }

    // ---- engine ----

    @Override
    protected List<VirtioWorker.EventSource> eventSources(int group) {
        return List.of(new VirtioWorker.EventSource(inputReady.fd(), () -> {
            try {
                inputReady.read();
            } catch (SyscallException e) {
                throw new IllegalStateException("Cannot read the console input eventfd", e);
            }
            fillReceiveQueue();
        }));
    }

    @Override
    protected void processQueue(VirtioQueue queue) throws VirtqueueException {
        if (queue.index() == RECEIVEQ) {
            fillReceiveQueue();
        } else if (queue.index() == TRANSMITQ) {
            drainTransmitQueue(queue);
        }
    }

    /** Moves buffered input into the driver's receive buffers while both exist. */
    private void fillReceiveQueue() throws VirtqueueException {
        VirtioActivation a = activation();
        VirtioQueue queue = a == null ? null : a.queue(RECEIVEQ);
        if (queue == null) {
            return;
        }
        Virtqueue vq = queue.queue();
        while (true) {
            DescriptorChain chain;
            while (hasInput() && (chain = vq.pop()) != null) {
                vq.addUsed(chain.head(), copyInput(chain));
            }
            // Stop when the input is gone, or when no receive buffer is left and the driver
            // will notify us about the next one.
            if (!vq.enableNotification() || !hasInput()) {
                break;
            }
        }
        signalUsed(queue);
    }

    private boolean hasInput() {
        synchronized (input) {
            return inputTail != inputHead;
        }
    }

    private int copyInput(DescriptorChain chain) {
        synchronized (input) {
            long room = chain.writableLength();
            int n = (int) Math.min(room, inputTail - inputHead);
            int written = 0;
            while (written < n) {
                int at = (int) (inputHead % INPUT_CAPACITY);
                int run = Math.min(n - written, INPUT_CAPACITY - at);
                chain.write(written, input, at, run);
                inputHead += run;
                written += run;
            }
            return written;
        }
    }

    /** Writes every transmit buffer to the output and returns it. */
    private void drainTransmitQueue(VirtioQueue queue) throws VirtqueueException {
        Virtqueue vq = queue.queue();
        do {
            for (DescriptorChain chain; (chain = vq.pop()) != null; ) {
                for (MemorySegment buffer : chain.readable()) {
                    writeOut(buffer);
                }
                vq.addUsed(chain.head(), 0);
            }
        } while (vq.enableNotification());
        signalUsed(queue);
    }

    private void writeOut(MemorySegment buffer) {
        long size = buffer.byteSize();
        for (long done = 0; done < size; ) {
            int n = (int) Math.min(OUTPUT_CHUNK, size - done);
            MemorySegment.copy(buffer, ValueLayout.JAVA_BYTE, done, outputChunk, 0, n);
            output.write(outputChunk, 0, n);
            done += n;
        }
    }

    @Override
    public void close() {
        reset();
        inputReady.close();
    }
}
