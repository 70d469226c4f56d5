package dev.nimbus.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class BufferedConsoleOutputTest {
    /** A destination nobody reads: every write blocks until released. */
    private static final class StuckStream extends OutputStream {
        final CountDownLatch release = new CountDownLatch(1);

        @Override
        public void write(int b) {
            await();
        }

        @Override
        public void write(byte[] b, int off, int len) {
            await();
        }

        private void await() {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Test
    void aConsoleNobodyReadsNeverBlocksTheWriter() {
        StuckStream stuck = new StuckStream();
        BufferedConsoleOutput out = new BufferedConsoleOutput(stuck, "test");
        long t0 = System.nanoTime();
        byte[] line = "a line of guest output that nobody will ever read\n".getBytes();
        for (int i = 0; i < 100_000; i++) {
            out.write(line, 0, line.length); // ~5 MB, far beyond the ring
            out.write((byte) '!');
        }
        long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertTrue(elapsedMs < 5_000, "writes took " + elapsedMs + " ms");
        assertTrue(out.dropped() > 4_000_000, "dropped=" + out.dropped());
        long closeStart = System.nanoTime();
        out.close(); // gives up on the stuck reader after a moment
        assertTrue(System.nanoTime() - closeStart < 2_000_000_000L);
        stuck.release.countDown();
    }

    @Test
    void everythingWrittenReachesAReaderThatKeepsUp() {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        BufferedConsoleOutput out = new BufferedConsoleOutput(sink, "test");
        StringBuilder expected = new StringBuilder();
        for (int i = 0; i < 1000; i++) {
            String s = "line " + i + "\n";
            expected.append(s);
            out.write(s.getBytes(), 0, s.length());
        }
        out.close();
        assertEquals(expected.toString(), sink.toString());
        assertEquals(0, out.dropped());
    }
}
