package dev.nimbus.log;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * A log for events a guest can cause at will (bad descriptors, unclaimed ports): at most
 * {@code burst} lines per {@code periodNanos}, with a count of what was dropped, so a hostile
 * guest cannot flood the host's log. Every event is counted whether logged or not.
 */
public final class RateLimitedLog {
    private final Logger logger;
    private final int burst;
    private final long periodNanos;
    private final AtomicLong events = new AtomicLong();
    private long windowStart;
    private int inWindow;
    private long suppressed;

    public RateLimitedLog(Logger logger, int burst, long periodNanos) {
        this.logger = logger;
        this.burst = burst;
        this.periodNanos = periodNanos;
    }

    public RateLimitedLog(Logger logger) {
        this(logger, 10, 5_000_000_000L);
    }

    /** How many events were reported, logged or not. */
    public long count() {
        return events.get();
    }

    public void log(Level level, Supplier<String> message) {
        events.incrementAndGet();
        if (!logger.isLoggable(level)) {
            return;
        }
        long dropped;
        synchronized (this) {
            long now = System.nanoTime();
            if (now - windowStart > periodNanos) {
                windowStart = now;
                inWindow = 0;
            }
            if (inWindow >= burst) {
                suppressed++;
                return;
            }
            inWindow++;
            dropped = suppressed;
            suppressed = 0;
        }
        String msg = message.get();
        logger.log(level, dropped > 0 ? msg + " (" + dropped + " similar messages suppressed)" : msg);
    }
}
