package dev.nimbus.devices.virtio;

import dev.nimbus.sys.Epoll;
import dev.nimbus.sys.EventFd;
import dev.nimbus.sys.SyscallException;
import dev.nimbus.sys.Threads;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * A device thread: waits in epoll on a set of file descriptors (queue notifiers, a tap, an input
 * eventfd) and runs each one's handler when it becomes readable. The epoll is level-triggered, so
 * a handler must consume what woke it (read the eventfd), or it runs again at once.
 *
 * <p>A handler that throws {@link VirtqueueException} (a ring the driver broke) or a runtime
 * exception (a bug) has its descriptor removed from the set and the failure reported to
 * {@code onFailure} (the device sets DEVICE_NEEDS_RESET); the thread and the VMM carry on.
 */
public final class VirtioWorker {
    private static final Logger LOG = System.getLogger(VirtioWorker.class.getName());

    /** Work to do when a descriptor becomes readable. */
    @FunctionalInterface
    public interface Handler {
        void run() throws VirtqueueException;
    }

    /** A descriptor to wait on and what to do when it is readable. */
    public record EventSource(int fd, Handler handler) {}

    private final String name;
    private final Consumer<String> onFailure;
    private final List<EventSource> sources = new ArrayList<>();
    private Epoll epoll;
    private EventFd stopEvent;
    private Thread thread;

    /**
     * A worker whose thread will be called {@code name} (e.g. {@code __rng} or {@code _disk0_q0},
     * as Cloud Hypervisor names its device threads).
     */
    public VirtioWorker(String name, Consumer<String> onFailure) {
        this.name = name;
        this.onFailure = onFailure;
    }

    public String name() {
        return name;
    }

    /** Adds a source; only before {@link #start()}. */
    public void add(EventSource source) {
        if (thread != null) {
            throw new IllegalStateException("Worker " + name + " is already running");
        }
        sources.add(source);
    }

    /** Starts the thread. */
    public void start() throws SyscallException {
        epoll = Epoll.create();
        try {
            stopEvent = EventFd.create();
            epoll.add(stopEvent.fd(), Epoll.EPOLLIN, -1);
            for (int i = 0; i < sources.size(); i++) {
                epoll.add(sources.get(i).fd(), Epoll.EPOLLIN, i);
            }
        } catch (SyscallException e) {
            closeFds();
            throw e;
        }
        thread = Thread.ofPlatform().name(name).daemon().unstarted(this::loop);
        thread.start();
    }

    private void loop() {
        try (Epoll.Events events = new Epoll.Events(sources.size() + 1)) {
            while (true) {
                int n = epoll.wait(events, -1);
                for (int i = 0; i < n; i++) {
                    long data = events.data(i);
                    if (data < 0) {
                        return;
                    }
                    run(sources.get((int) data));
                }
            }
        } catch (SyscallException e) {
            LOG.log(Level.ERROR, () -> "Device thread " + name + " stopped: " + e.getMessage());
            onFailure.accept("device thread " + name + " stopped: " + e.getMessage());
        }
    }

    private void run(EventSource source) throws SyscallException {
        String failure;
        try {
            source.handler().run();
            return;
        } catch (VirtqueueException e) {
            failure = e.getMessage();
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, "Device thread " + name + " failed", e);
            failure = name + ": internal error: " + e;
        }
        epoll.delete(source.fd());
        onFailure.accept(failure);
    }

    /**
     * Stops the thread and waits for it; afterwards no handler runs. Harmless if never started.
     * Must not be called from the worker's own thread.
     */
    public void stop() {
        if (thread == null) {
            return;
        }
        if (Thread.currentThread() == thread) {
            throw new IllegalStateException("Worker " + name + " cannot stop itself");
        }
        stopEvent.signal();
        Threads.joinUninterruptibly(thread);
        thread = null;
        closeFds();
    }

    private void closeFds() {
        if (stopEvent != null) {
            stopEvent.close();
            stopEvent = null;
        }
        if (epoll != null) {
            epoll.close();
            epoll = null;
        }
    }
}
