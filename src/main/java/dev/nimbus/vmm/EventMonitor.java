package dev.nimbus.vmm;

import dev.nimbus.json.JsonNull;
import dev.nimbus.json.JsonObject;
import dev.nimbus.json.JsonValue;
import dev.nimbus.json.JsonWriter;
import dev.nimbus.sys.Errno;
import dev.nimbus.sys.FileControl;
import dev.nimbus.sys.Linux;
import dev.nimbus.sys.SyscallException;
import java.io.Closeable;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Map;

/**
 * Reports what the VMM and its VM go through ({@code --event-monitor}): each event is a JSON
 * object with the time since the monitor was set up ({@code {"secs", "nanos"}}), its
 * {@code source} ({@code vmm}, {@code vm}, {@code virtio-device}, ...), the {@code event}
 * ({@code booting}, {@code paused}, ...) and {@code properties} (a string map, or null).
 *
 * <p>Events are written pretty-printed with two-space indentation, each followed by a blank
 * line, by a thread of their own ({@code event-monitor}), so the thread that emits one never
 * waits for the reader. The file is non-blocking and writes are best effort: a reader that
 * stops reading loses events rather than stalling the VMM. Every event is also logged at INFO.
 * {@link #close} writes out what is queued before returning.
 */
public final class EventMonitor implements AutoCloseable {
    private static final Logger LOG = System.getLogger(EventMonitor.class.getName());

    /** A monitor that only logs. */
    public static final EventMonitor NONE = new EventMonitor(-1, false);

    private final long startNanos = System.nanoTime();
    private final int fd;
    private final boolean ownsFd;
    private final ArrayDeque<String> queue = new ArrayDeque<>();
    private final Thread writer;
    private boolean closed;

    private EventMonitor(int fd, boolean ownsFd) {
        this.fd = fd;
        this.ownsFd = ownsFd;
        if (fd >= 0) {
            writer = Thread.ofPlatform().name("event-monitor").daemon().unstarted(this::drain);
            writer.start();
        } else {
            writer = null;
        }
    }

    /** A monitor writing to {@code path}, created owner-only or truncated. */
    public static EventMonitor toPath(String path) throws IOException {
        int fd;
        try (Closeable probe = FileControl.probeOutput(path)) {
            fd = Linux.open(path, Linux.O_WRONLY | Linux.O_CREAT | FileControl.O_TRUNC
                    | Linux.O_NONBLOCK, 0666);
        }
        try {
            FileControl.setNonBlocking(fd);
        } catch (SyscallException e) {
            Linux.close(fd);
            throw e;
        }
        return new EventMonitor(fd, true);
    }

    /** A monitor writing to the inherited descriptor {@code fd}. */
    public static EventMonitor toFd(int fd) throws SyscallException {
        FileControl.setNonBlocking(fd);
        return new EventMonitor(fd, true);
    }

    /** Reports {@code event} from {@code source} without properties. */
    public void event(String source, String event) {
        event(source, event, null);
    }

    /** Reports {@code event} from {@code source} with {@code properties} (may be null). */
    public void event(String source, String event, Map<String, String> properties) {
        long ns = System.nanoTime() - startNanos;
        if (LOG.isLoggable(Level.INFO)) {
            LOG.log(Level.INFO, "Event: source = " + source + " event = " + event + " "
                    + describe(properties));
        }
        if (writer == null) {
            return;
        }
        JsonValue props = JsonNull.INSTANCE;
        if (properties != null) {
            JsonObject.Builder b = JsonObject.builder();
            for (Map.Entry<String, String> p : properties.entrySet()) {
                b.put(p.getKey(), p.getValue());
            }
            props = b.build();
        }
        JsonObject record = JsonObject.builder()
                .put("timestamp", JsonObject.builder()
                        .put("secs", ns / 1_000_000_000L)
                        .put("nanos", ns % 1_000_000_000L)
                        .build())
                .put("source", source)
                .put("event", event)
                .put("properties", props)
                .build();
        String text = JsonWriter.writePretty(record) + "\n\n";
        synchronized (queue) {
            if (!closed) {
                queue.add(text);
                queue.notifyAll();
            }
        }
    }

    private static String describe(Map<String, String> properties) {
        if (properties == null) {
            return "";
        }
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, String> p : properties.entrySet()) {
            if (!sb.isEmpty()) {
                sb.append(", ");
            }
            sb.append(p.getKey()).append(" = ").append(p.getValue());
        }
        return sb.toString();
    }

    private void drain() {
        try {
            while (true) {
                String text;
                synchronized (queue) {
                    while (queue.isEmpty() && !closed) {
                        queue.wait();
                    }
                    if (queue.isEmpty()) {
                        return;
                    }
                    text = queue.peek();
                }
                write(text.getBytes(StandardCharsets.UTF_8));
                synchronized (queue) {
                    queue.poll();
                    queue.notifyAll();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Writes {@code bytes}; on a full pipe or any error the rest of the event is dropped. */
    private void write(byte[] bytes) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(bytes.length);
            MemorySegment.copy(bytes, 0, buf, ValueLayout.JAVA_BYTE, 0, bytes.length);
            long done = 0;
            while (done < bytes.length) {
                long n = Linux.write(fd, buf.asSlice(done), bytes.length - done);
                if (n == -Errno.EINTR) {
                    continue;
                }
                if (n <= 0) {
                    LOG.log(Level.DEBUG, "Event monitor write failed: ret=" + n);
                    return;
                }
                done += n;
            }
        }
    }

    /** Writes out the events queued so far (for up to two seconds), then stops. */
    @Override
    public void close() {
        if (writer == null) {
            return;
        }
        synchronized (queue) {
            if (closed) {
                return;
            }
            closed = true;
            queue.notifyAll();
        }
        try {
            writer.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (ownsFd && !writer.isAlive()) {
            Linux.close(fd);
        }
    }
}
