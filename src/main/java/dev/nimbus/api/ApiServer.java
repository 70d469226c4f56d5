package dev.nimbus.api;

import dev.nimbus.api.HttpRequestParser.HttpParseException;
import dev.nimbus.json.JsonObject;
import dev.nimbus.json.JsonWriter;
import dev.nimbus.sys.FileControl;
import dev.nimbus.sys.Linux;
import dev.nimbus.sys.SyscallException;
import dev.nimbus.sys.UnixSocket;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The HTTP API server on a Unix stream socket ({@code --api-socket path=...|fd=...}).
 *
 * <p>Bound to a path, it first takes an exclusive lock on {@code <path>.lock}, so a second VMM
 * given the same path fails instead of stealing the socket; holding the lock, it removes whatever
 * stale socket a crashed VMM left and binds. {@link #close} removes the socket again (the lock
 * file stays, as an empty file: removing it would race with a VMM starting up). Given a
 * descriptor, it serves on that listening socket as it is.
 *
 * <p>One thread ({@code http-server}) accepts; each connection gets a thread of its own that
 * reads requests, which may come in any number of pieces and several per connection, and answers
 * each in turn. At most {@link #MAX_CONNECTIONS} connections are served at once; more wait in the
 * listen backlog until one closes. Requests go to {@link Endpoints}, which hands them to the
 * VMM's control loop one at a time.
 */
public final class ApiServer implements AutoCloseable {
    private static final Logger LOG = System.getLogger(ApiServer.class.getName());

    /** Connections served at once. */
    public static final int MAX_CONNECTIONS = 64;

    static final int BACKLOG = 128;
    static final int READ_SIZE = 64 << 10;
    /** How long {@link #close} lets answers in flight finish. */
    static final long CLOSE_GRACE_MILLIS = 2000;

    private final UnixSocket listener;
    private final String path;
    private final int lockFd;
    private final Endpoints endpoints;
    private final Set<Connection> connections = new HashSet<>();
    private Thread acceptor;
    private boolean closing;

    private ApiServer(UnixSocket listener, String path, int lockFd, Endpoints endpoints) {
        this.listener = listener;
        this.path = path;
        this.lockFd = lockFd;
        this.endpoints = endpoints;
    }

    /** The API server could not be set up; the message is for the user. */
    public static final class ApiServerException extends Exception {
        private static final long serialVersionUID = 1L;

        public ApiServerException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** A server on a new socket at {@code path}; call {@link #start}. */
    public static ApiServer bind(String path, Endpoints endpoints) throws ApiServerException {
        String lockPath = path + ".lock";
        int lock;
        try {
            lock = FileControl.tryLockExclusive(lockPath);
        } catch (SyscallException e) {
            throw new ApiServerException("Error creating API server socket " + path, e);
        }
        if (lock < 0) {
            throw new ApiServerException("API socket path " + path
                    + " is in use by another VMM (lock " + lockPath + " is held)", null);
        }
        try {
            // The lock is ours, so a socket at the path is a crashed VMM's leftover.
            Files.deleteIfExists(Path.of(path));
            UnixSocket listener = UnixSocket.listen(path, BACKLOG);
            return new ApiServer(listener, path, lock, endpoints);
        } catch (IOException | IllegalArgumentException e) {
            Linux.close(lock);
            throw new ApiServerException("Error creating API server socket " + path, e);
        }
    }

    /** A server on the listening socket {@code fd}, inherited from the parent. */
    public static ApiServer onFd(int fd, Endpoints endpoints) {
        return new ApiServer(UnixSocket.of(fd), null, -1, endpoints);
    }

    /** Starts accepting connections. */
    public void start() {
        acceptor = Thread.ofPlatform().name("http-server").daemon().unstarted(this::acceptLoop);
        acceptor.start();
    }

    private void acceptLoop() {
        while (true) {
            synchronized (this) {
                while (connections.size() >= MAX_CONNECTIONS && !closing) {
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                if (closing) {
                    return;
                }
            }
            UnixSocket socket;
            try {
                socket = listener.accept();
            } catch (SyscallException e) {
                LOG.log(Level.ERROR, "HTTP server error on accepting a connection", e);
                return;
            }
            if (socket == null) {
                return; // the listener was shut down
            }
            Connection c = new Connection(socket);
            synchronized (this) {
                if (closing) {
                    socket.close();
                    return;
                }
                connections.add(c);
            }
            Thread.ofPlatform().name("http-client").daemon().stackSize(256 << 10)
                    .unstarted(c).start();
        }
    }

    private synchronized void remove(Connection c) {
        connections.remove(c);
        notifyAll();
    }

    /**
     * Stops serving: no new connections, answers in flight get a moment to go out, open
     * connections are shut, and the socket file (when this server bound one) is removed.
     */
    @Override
    public void close() {
        List<Connection> open;
        synchronized (this) {
            if (closing) {
                return;
            }
            closing = true;
            notifyAll();
            open = new ArrayList<>(connections);
        }
        listener.shutdown();
        if (acceptor != null) {
            try {
                acceptor.join(CLOSE_GRACE_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        long deadline = System.nanoTime() + CLOSE_GRACE_MILLIS * 1_000_000;
        for (Connection c : open) {
            c.closeWhenIdle(deadline);
        }
        listener.close();
        if (path != null) {
            try {
                Files.deleteIfExists(Path.of(path));
            } catch (IOException e) {
                LOG.log(Level.WARNING, "Cannot remove API socket " + path, e);
            }
            Linux.close(lockFd);
        }
    }

    /** One client connection: reads requests, answers them in order. */
    private final class Connection implements Runnable {
        private final UnixSocket socket;
        private boolean busy; // a request is being answered
        private boolean done;

        Connection(UnixSocket socket) {
            this.socket = socket;
        }

        @Override
        public void run() {
            HttpRequestParser parser = new HttpRequestParser();
            byte[] buf = new byte[READ_SIZE];
            List<Integer> fds = new ArrayList<>();
            try {
                while (true) {
                    UnixSocket.Received r = socket.receive(buf, 0);
                    for (int fd : r.fds()) {
                        fds.add(fd);
                    }
                    if (r.fdsTruncated()) {
                        LOG.log(Level.WARNING, "Descriptors sent with an API request were "
                                + "dropped: more than " + UnixSocket.SCM_MAX_FD);
                    }
                    if (r.length() == 0) {
                        return;
                    }
                    parser.feed(buf, 0, r.length());
                    if (!serve(parser, fds)) {
                        return;
                    }
                }
            } catch (SyscallException e) {
                LOG.log(Level.DEBUG, "API connection closed: " + e.getMessage());
            } finally {
                for (int fd : fds) {
                    Linux.close(fd);
                }
                finish();
            }
        }

        /** Answers every complete request buffered; false when the connection must close. */
        private boolean serve(HttpRequestParser parser, List<Integer> fds)
                throws SyscallException {
            while (true) {
                HttpRequest request;
                try {
                    request = parser.next();
                } catch (HttpParseException e) {
                    reply(parseError(e.getMessage()));
                    return false;
                }
                if (request == null) {
                    if (parser.takeContinue()) {
                        reply(HttpResponse.of(HttpResponse.CONTINUE));
                    }
                    return true;
                }
                int[] taken = new int[fds.size()];
                for (int i = 0; i < taken.length; i++) {
                    taken[i] = fds.get(i);
                }
                fds.clear();
                if (!begin()) {
                    closeAll(taken);
                    return false;
                }
                try {
                    HttpResponse response = endpoints.handle(new HttpRequest(request.method(),
                            request.path(), request.body(), taken));
                    reply(response);
                } finally {
                    end();
                }
            }
        }

        private void reply(HttpResponse response) throws SyscallException {
            byte[] bytes = response.encode();
            socket.send(bytes, 0, bytes.length);
        }

        private synchronized boolean begin() {
            synchronized (ApiServer.this) {
                if (closing) {
                    return false;
                }
            }
            busy = true;
            return true;
        }

        private synchronized void end() {
            busy = false;
            notifyAll();
        }

        private void finish() {
            synchronized (this) {
                done = true;
                notifyAll();
            }
            socket.close();
            remove(this);
        }

        /** Waits (up to {@code deadline}) for an answer in flight to go out, then shuts. */
        synchronized void closeWhenIdle(long deadline) {
            long left;
            while (busy && !done && (left = deadline - System.nanoTime()) > 0) {
                try {
                    wait(Math.max(1, left / 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            if (!done) {
                socket.shutdown();
            }
        }
    }

    /**
     * What the reference server answers to bytes it cannot read as a request: 400 with the
     * reason, telling the client that earlier unanswered requests are dropped.
     */
    static HttpResponse parseError(String reason) {
        String text = JsonWriter.write(JsonObject.builder()
                .put("error", reason + "\nAll previous unanswered requests will be dropped.")
                .build());
        return HttpResponse.json(HttpResponse.BAD_REQUEST, text);
    }

    private static void closeAll(int[] fds) {
        for (int fd : fds) {
            Linux.close(fd);
        }
    }
}
