package dev.nimbus.log;

import java.io.PrintStream;
import java.time.Instant;

/**
 * Start-up phase timings for performance work: with {@code NIMBUS_TRACE_STARTUP=1} in the
 * environment each {@link #mark} prints one line on standard error, for example
 * {@code nimbus: startup 41.2 ms +3.1 ms main}: the time since the launcher started (when
 * {@code bin/nimbus} passed its start time in {@code NIMBUS_TRACE_T0}, else since this class
 * was loaded), the time since the previous mark, and the phase that just ended. Without the
 * variable a mark costs one branch.
 */
public final class StartupTrace {
    private static final boolean ENABLED = isSet(System.getenv("NIMBUS_TRACE_STARTUP"));
    private static final long ORIGIN_MICROS = ENABLED ? origin() : 0;
    private static long lastMicros = ORIGIN_MICROS;

    private StartupTrace() {}

    private static boolean isSet(String value) {
        return value != null && !value.isEmpty() && !value.equals("0");
    }

    /** Records that {@code phase} has ended, when tracing is on. */
    public static void mark(String phase) {
        if (ENABLED) {
            print(phase);
        }
    }

    private static synchronized void print(String phase) {
        long now = nowMicros();
        // No String.format: its locale data would add milliseconds to the phase it measures.
        PrintStream err = System.err;
        err.println("nimbus: startup " + millis(now - ORIGIN_MICROS) + " ms +"
                + millis(now - lastMicros) + " ms " + phase);
        lastMicros = now;
    }

    /** Microseconds as milliseconds with one decimal. */
    static String millis(long micros) {
        long tenths = Math.round(Math.abs(micros) / 100.0);
        return (micros < 0 ? "-" : "") + (tenths / 10) + "." + (tenths % 10);
    }

    /** The launcher's start ({@code $EPOCHREALTIME}, seconds with a fraction), else now. */
    private static long origin() {
        String t0 = System.getenv("NIMBUS_TRACE_T0");
        if (t0 != null) {
            try {
                return Math.round(Double.parseDouble(t0.replace(',', '.')) * 1e6);
            } catch (NumberFormatException e) {
                // Fall through to now: the variable is only a hint.
            }
        }
        return nowMicros();
    }

    private static long nowMicros() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000L + now.getNano() / 1000;
    }
}
