package dev.nimbus.vmm;

import dev.nimbus.devices.ConsoleOutput;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;

/**
 * A console sink that never blocks the device writing to it: bytes go into a ring buffer that a
 * writer thread drains to the real destination (a tty, a file, a pty). When the reader falls
 * behind and the ring fills, new bytes are dropped and counted, rather than stalling a vCPU.
 */
final class BufferedConsoleOutput implements ConsoleOutput {
    private static final Logger LOG = System.getLogger(BufferedConsoleOutput.class.getName());
    private static final int CAPACITY = 1 << 16;

    private final OutputStream out;
    private final String name;
    private final boolean ownsStream;
    private final byte[] ring = new byte[CAPACITY];
    private final Thread writer;
    private long head; // next byte to drain
    private long tail; // next free slot
    private boolean writerWaiting;
    private boolean closed;
    private long dropped;

    BufferedConsoleOutput(OutputStream out, String name) {
        this(out, name, false);
    }

    /** With {@code ownsStream}, {@link #close} closes {@code out} too (a file, not stdout). */
    BufferedConsoleOutput(OutputStream out, String name, boolean ownsStream) {
        this.out = out;
        this.name = name;
        this.ownsStream = ownsStream;
        this.writer = Thread.ofPlatform().name(name + "-out").daemon().unstarted(this::drain);
        writer.start();
    }

    @Override
    public void write(byte b) {
        synchronized (this) {
            if (tail - head == CAPACITY || closed) {
                dropped++;
                return;
            }
            ring[(int) (tail++ & (CAPACITY - 1))] = b;
            if (writerWaiting) {
                notify();
            }
        }
    }

    @Override
    public void write(byte[] b, int off, int len) {
        synchronized (this) {
            for (int i = 0; i < len; i++) {
                if (tail - head == CAPACITY || closed) {
                    dropped += len - i;
                    break;
                }
                ring[(int) (tail++ & (CAPACITY - 1))] = b[off + i];
            }
            if (writerWaiting) {
                notify();
            }
        }
    }

    /** Bytes dropped because the destination did not keep up. */
    synchronized long dropped() {
        return dropped;
    }

    private void drain() {
        byte[] chunk = new byte[8192];
        while (true) {
            int n;
            synchronized (this) {
                while (head == tail && !closed) {
                    writerWaiting = true;
                    notifyAll(); // wakes close() waiting for the ring to empty
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        return;
                    }
                    writerWaiting = false;
                }
                if (head == tail) {
                    notifyAll();
                    return;
                }
                n = (int) Math.min(chunk.length, tail - head);
                int start = (int) (head & (CAPACITY - 1));
                int first = Math.min(n, CAPACITY - start);
                System.arraycopy(ring, start, chunk, 0, first);
                System.arraycopy(ring, 0, chunk, first, n - first);
            }
            try {
                out.write(chunk, 0, n);
                out.flush();
            } catch (IOException e) {
                LOG.log(Level.WARNING, "Console " + name + " output failed; discarding further output", e);
                synchronized (this) {
                    closed = true;
                    head = tail;
                    notifyAll();
                }
                return;
            }
            synchronized (this) {
                head += n;
            }
        }
    }

    /** Flushes what is buffered, waiting at most a moment for a slow reader, then stops. */
    @Override
    public void close() {
        long deadline = System.nanoTime() + 500_000_000L;
        synchronized (this) {
            closed = true;
            notifyAll();
            while (head != tail && System.nanoTime() < deadline) {
                try {
                    wait(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        try {
            writer.join(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (ownsStream && !writer.isAlive()) {
            try {
                out.close();
            } catch (IOException e) {
                LOG.log(Level.DEBUG, "Closing console " + name + " failed", e);
            }
        }
    }
}
