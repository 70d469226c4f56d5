package dev.nimbus.log;

import dev.nimbus.sys.FileControl;
import java.io.Closeable;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Where Nimbus's log goes and how much of it. Levels mean what an operator expects: ERROR, an
 * action the user asked for failed or the VMM must exit; WARNING, something abnormal that did no
 * harm; INFO, rare lifecycle events; DEBUG and TRACE, for developers. The default is WARNING;
 * each {@code -v} lowers the threshold one step.
 *
 * <p>Lines look like {@code nimbus: 0.012345s: <vcpu0> WARN:devices.legacy.Serial -- message}:
 * seconds since the VMM started, the thread, the level and the logger.
 */
public final class Logging {
    private static final long START_NANOS = System.nanoTime();
    private static volatile Level threshold = Level.WARNING;
    private static volatile PrintStream out = System.err;

    private Logging() {}

    /** Nanoseconds since the VMM started (as near to process start as the JVM lets us see). */
    public static long sinceStartNanos() {
        return System.nanoTime() - START_NANOS;
    }

    /** Sets the level from the {@code -v} count: 0 warn, 1 info, 2 debug, 3 or more trace. */
    public static void setVerbosity(int count) {
        threshold = switch (Math.min(count, 3)) {
            case 0 -> Level.WARNING;
            case 1 -> Level.INFO;
            case 2 -> Level.DEBUG;
            default -> Level.TRACE;
        };
    }

    /** Sends the log to {@code file} (appending) instead of stderr. */
    public static void setLogFile(Path file) throws IOException {
        OutputStream os;
        try (Closeable probe = FileControl.probeOutput(file.toString())) {
            os = new FileOutputStream(file.toFile(), true);
        }
        out = new PrintStream(os, true, StandardCharsets.UTF_8);
    }

    static boolean enabled(Level level) {
        return level != Level.OFF && level.getSeverity() >= threshold.getSeverity();
    }

    static void emit(Level level, String logger, String msg, Throwable thrown) {
        long ns = sinceStartNanos();
        StringBuilder sb = new StringBuilder(96 + msg.length());
        sb.append("nimbus: ").append(ns / 1_000_000_000L).append('.');
        String micros = Long.toString((ns / 1000) % 1_000_000 + 1_000_000);
        sb.append(micros, 1, 7).append("s: <").append(Thread.currentThread().getName())
                .append("> ").append(levelName(level)).append(':').append(logger)
                .append(" -- ").append(msg);
        if (thrown != null) {
            for (Throwable t = thrown; t != null; t = t.getCause()) {
                sb.append(": ").append(t.getMessage() != null ? t.getMessage() : t.toString());
            }
        }
        PrintStream p = out;
        synchronized (p) {
            p.println(sb);
            if (thrown != null && enabled(Level.DEBUG)) {
                thrown.printStackTrace(p);
            }
        }
    }

    private static String levelName(Level level) {
        return switch (level) {
            case ERROR -> "ERROR";
            case WARNING -> "WARN";
            case INFO -> "INFO";
            case DEBUG -> "DEBUG";
            default -> "TRACE";
        };
    }
}
