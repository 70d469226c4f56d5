package dev.nimbus.vhost;

import dev.nimbus.devices.virtio.VirtioDevice;
import dev.nimbus.log.RateLimitedLog;
import dev.nimbus.sys.Errno;
import dev.nimbus.sys.SyscallException;
import dev.nimbus.sys.UnixSocket;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A vhost-user back-end daemon: serves one front-end connection at a time with a
 * {@link VhostUserBackend} over one device engine, and when that front-end goes away (closed,
 * crashed, or dropped for breaking the protocol) serves the next one, so a VMM can reconnect.
 *
 * <p>Two ways to meet the front-end: listen on the socket path (the usual, and what
 * {@code --disk vhost_user=on} in Nimbus and Cloud Hypervisor connect to), or connect to a
 * front-end that listens ({@code client=on}; Nimbus's {@code vhost_mode=server}), retrying
 * until it is there.
 */
public final class VhostUserServer implements AutoCloseable {
    private static final Logger LOG = System.getLogger(VhostUserServer.class.getName());
    private static final RateLimitedLog PEER_ERRORS = new RateLimitedLog(LOG);
    private static final long CONNECT_RETRY_MILLIS = 100;

    private final VirtioDevice engine;
    private final String socketPath;
    private final boolean client;
    private final UnixSocket listener;
    private final AtomicLong connections = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private volatile boolean closed;
    private volatile VhostUserChannel current;

    private VhostUserServer(VirtioDevice engine, String socketPath, boolean client,
            UnixSocket listener) {
        this.engine = engine;
        this.socketPath = socketPath;
        this.client = client;
        this.listener = listener;
    }

    /** Listens on {@code socketPath}, replacing a stale socket there (never a regular file). */
    public static VhostUserServer listen(VirtioDevice engine, String socketPath)
            throws IOException {
        Path p = Path.of(socketPath);
        if (Files.isRegularFile(p) || Files.isDirectory(p)) {
            throw new IOException("Not a socket, left alone: " + socketPath);
        }
        // A stale socket from an earlier run would make bind fail with EADDRINUSE.
        Files.deleteIfExists(p);
        return new VhostUserServer(engine, socketPath, false, UnixSocket.listen(socketPath, 1));
    }

    /** Connects to a front-end that listens on {@code socketPath}. */
    public static VhostUserServer connectTo(VirtioDevice engine, String socketPath) {
        return new VhostUserServer(engine, socketPath, true, null);
    }

    /** Connections served so far (including the current one). */
    public long connections() {
        return connections.get();
    }

    /** Connections dropped because the front-end broke the protocol. */
    public long dropped() {
        return dropped.get();
    }

    /**
     * Serves front-ends one after another until {@link #close()}. Returns then.
     *
     * @throws SyscallException if the listening socket itself fails
     */
    public void run() throws SyscallException {
        while (!closed) {
            UnixSocket socket = client ? connect() : listener.accept();
            if (socket == null) {
                return;
            }
            serve(socket);
        }
    }

    private UnixSocket connect() throws SyscallException {
        while (!closed) {
            try {
                return UnixSocket.connect(socketPath);
            } catch (SyscallException e) {
                if (e.errno() != Errno.ENOENT && e.errno() != 111 /* ECONNREFUSED */) {
                    throw e;
                }
            }
            try {
                Thread.sleep(CONNECT_RETRY_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }
        return null;
    }

    /** Serves one connection to its end; never throws for what the peer did. */
    private void serve(UnixSocket socket) {
        long n = connections.incrementAndGet();
        LOG.log(Level.INFO, () -> engine.id() + ": front-end connected (connection " + n + ")");
        VhostUserChannel channel = new VhostUserChannel(socket);
        current = channel;
        try (VhostUserBackend backend = new VhostUserBackend(engine, channel)) {
            backend.serve();
        } catch (VhostUserException e) {
            dropped.incrementAndGet();
            PEER_ERRORS.log(Level.WARNING, () -> engine.id() + ": dropped front-end connection "
                    + n + ": " + e.getMessage() + cause(e));
        } catch (RuntimeException e) {
            // A bug on our side: log it in full, and keep serving.
            dropped.incrementAndGet();
            LOG.log(Level.ERROR, engine.id() + ": connection " + n + " failed", e);
        } finally {
            current = null;
            channel.close();
        }
    }

    /** The cause's message when the message does not already say it. */
    private static String cause(Exception e) {
        Throwable c = e.getCause();
        return c == null || e.getMessage().contains(c.getMessage()) ? ""
                : " (" + c.getMessage() + ")";
    }

    /** Stops serving: ends the current connection and the accept loop. */
    @Override
    public void close() {
        closed = true;
        VhostUserChannel c = current;
        if (c != null) {
            c.shutdown();
        }
        if (listener != null) {
            listener.shutdown();
            listener.close();
            try {
                Files.deleteIfExists(Path.of(socketPath));
            } catch (IOException e) {
                LOG.log(Level.DEBUG, () -> "Cannot remove " + socketPath + ": " + e.getMessage());
            }
        }
    }
}
