package dev.nimbus.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Benchmark of the block and net device engines, outside any unit test: run it with
 * {@code scripts/bench-devices.sh}. It prints Markdown tables of medians for
 * {@code docs/benchmarks.md}.
 *
 * <p>Options: {@code --runs N} (5), {@code --seconds S} per run (2), {@code --image-mib M}
 * (1024), {@code --dir D} for the image (the system temporary directory), {@code --only
 * block|net}. The net part needs root (a tap and a network namespace).
 */
public final class DeviceEnginesBench {
    private DeviceEnginesBench() {}

    public static void main(String[] args) throws Exception {
        int runs = 5;
        double seconds = 2;
        long imageMib = 1024;
        Path dir = Path.of(System.getProperty("java.io.tmpdir"));
        String only = "";
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--runs" -> runs = Integer.parseInt(args[++i]);
                case "--seconds" -> seconds = Double.parseDouble(args[++i]);
                case "--image-mib" -> imageMib = Long.parseLong(args[++i]);
                case "--dir" -> dir = Path.of(args[++i]);
                case "--only" -> only = args[++i];
                default -> throw new IllegalArgumentException("Unknown option: " + args[i]);
            }
        }
        PrintStream out = System.out;
        out.printf("Runs: %d x %.1f s, medians; %d CPUs; %s%n%n", runs, seconds,
                Runtime.getRuntime().availableProcessors(), Runtime.version());
        if (!only.equals("net")) {
            Path image = Files.createTempFile(dir, "nimbus-bench", ".img");
            try {
                long bytes = imageMib << 20;
                fill(image, bytes);
                new BlockEngineBench(image, bytes, runs, seconds, out).run();
            } finally {
                Files.deleteIfExists(image);
            }
            out.println();
        }
        if (!only.equals("block")) {
            new NetEngineBench(runs, seconds, out).run();
        }
    }

    /** Writes {@code bytes} of non-zero data (so no read is of a hole) and reads it back once. */
    private static void fill(Path image, long bytes) throws IOException {
        ByteBuffer chunk = ByteBuffer.allocateDirect(1 << 20);
        for (int i = 0; i < chunk.capacity(); i++) {
            chunk.put(i, (byte) (i * 31 + 7));
        }
        try (FileChannel f = FileChannel.open(image, StandardOpenOption.WRITE,
                StandardOpenOption.READ)) {
            for (long at = 0; at < bytes; at += chunk.capacity()) {
                chunk.clear();
                while (chunk.hasRemaining()) {
                    f.write(chunk, at + chunk.position());
                }
            }
            f.force(false);
            for (long at = 0; at < bytes; at += chunk.capacity()) {
                chunk.clear();
                while (chunk.hasRemaining() && f.read(chunk, at + chunk.position()) > 0) {
                    // read the whole chunk into the page cache
                }
            }
        }
    }
}
