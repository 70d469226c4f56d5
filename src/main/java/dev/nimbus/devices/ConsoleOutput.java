package dev.nimbus.devices;

/**
 * Where a console device's output bytes go. {@link #write} never blocks: a console that nobody
 * reads must not stall the vCPU writing to it, so implementations buffer and drop when full.
 */
public interface ConsoleOutput extends AutoCloseable {
    ConsoleOutput DISCARD = new ConsoleOutput() {
        @Override
        public void write(byte b) {}

        @Override
        public void close() {}
    };

    void write(byte b);

    /** Writes bytes; the default loops over {@link #write(byte)}. */
    default void write(byte[] b, int off, int len) {
        for (int i = 0; i < len; i++) {
            write(b[off + i]);
        }
    }

    @Override
    void close();
}
