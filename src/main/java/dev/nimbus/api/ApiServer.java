package dev.nimbus.api;

import dev.nimbus.api.HttpRequestParser.HttpParseException;
import dev.nimbus.json.JsonObject;
import dev.nimbus.json.JsonWriter;
import dev.nimbus.sys.Errno;
import dev.nimbus.sys.FileControl;
import dev.nimbus.sys.FileStat;
import dev.nimbus.sys.Linux;
import dev.nimbus.sys.SyscallException;
import dev.nimbus.sys.UnixSocket;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The HTTP API server on a Unix stream socket ({@code --api-socket path=...|fd=...}).
 *
 * <p>Bound to a path, it first takes an exclusive lock on {@code <path>.lock}, so a second VMM
 * given the same path fails instead of stealing the socket; holding the lock, it removes whatever
 * a crashed VMM left at the path and binds. {@link #close} removes the socket again (the lock
 * file stays, as an empty file: removing it would race with a VMM starting up). Given a
 * descriptor, it first checks that it is a listening socket, then serves on it as it is.
 *
 * <p>One thread ({@code http-server}) accepts; each connection gets a thread of its own that
 * reads requests, which may come in any number of pieces and several per connection, and answers
 * each in turn. At most {@link #MAX_CONNECTIONS} connections are served at once. A connection
 * stays open between requests for as long as the client likes, except that when the server is
 * full a new client takes the place of the connection idle the longest; when none is idle (all
 * are answering or reading a request) the newcomer is told {@code 503} and closed. A client gets
 * {@link #REQUEST_TIMEOUT_MILLIS} to send a whole request, counted from the first byte (from the
 * connection for its first request), and {@link #SEND_TIMEOUT_MILLIS} to take each answer; a
 * connection that runs out of either is closed. Requests go to {@link Endpoints}, which hands
 * them to the VMM's control loop one at a time.
 */
public final class ApiServer implements AutoCloseable {
    private static final Logger LOG = System.getLogger(ApiServer.class.getName());

    /** Connections served at once. */
    public static final int MAX_CONNECTIONS = 64;

    /**
     * How long a client has to send a complete request (line, headers and body), from its first
     * byte, or from the connection for the first request. Over a local socket a request of
     * {@link HttpRequestParser#MAX_BODY_BYTES} takes milliseconds.
     */
    public static final long REQUEST_TIMEOUT_MILLIS = 10_000;

    /** How long an answer may wait for a client that does not read before its connection goes. */
    public static final long SEND_TIMEOUT_MILLIS = 10_000;

    static final int BACKLOG = 128;
    static final int READ_SIZE = 64 << 10;
    /** How long {@link #close} lets answers in flight finish. */
    static final long CLOSE_GRACE_MILLIS = 2000;
    /** How long accepting pauses when the process or system is out of descriptors or memory. */
    static final long ACCEPT_RETRY_MILLIS = 100;
    /** Reads of what a refused client already sent, at most (1 MiB), before its socket closes. */
    static final int REFUSED_DRAIN_READS = 16;

    /**
     * What a client that finds the server full is told before its connection is closed: status
     * line (no reason phrase), {@code Connection: close}, no content type, and body as the
     * reference server sends them; the {@code Server} header is the one on every other answer.
     */
    static final byte[] SERVER_FULL = ("HTTP/1.1 503\r\n"
            + "Server: " + HttpResponse.SERVER + "\r\n"
            + "Connection: close\r\n"
            + "Content-Length: 40\r\n"
            + "\r\n"
            + "{ \"error\": \"Too many open connections\" }").getBytes(StandardCharsets.US_ASCII);

    // include/uapi/linux/stat.h, include/uapi/asm-generic/fcntl.h, x86-64 syscall table
    static final int S_IFMT = 0170000;
    static final int S_IFSOCK = 0140000;
    static final int S_IFLNK = 0120000;
    static final int S_IFREG = 0100000;
    static final int S_IFDIR = 0040000;
    static final int O_NOFOLLOW = 0400000;
    static final int O_PATH = 010000000;
    static final int SYS_UNLINK = 87;
    // include/uapi/asm-generic/errno-base.h, errno.h
    static final int ENFILE = 23;
    static final int EMFILE = 24;
    static final int ENOBUFS = 105;

    private final UnixSocket listener;
    private final String path;
    private final int lockFd;
    private final Endpoints endpoints;
    /** Connections with a thread serving them; guarded by {@code this}, as their states are. */
    private final Set<Connection> connections = new HashSet<>();
    private long requestTimeoutMillis = REQUEST_TIMEOUT_MILLIS;
    private long sendTimeoutMillis = SEND_TIMEOUT_MILLIS;
    private Thread acceptor;
    private boolean closing;
    private boolean fullReported;

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
        checkPath(path);
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
            removeStale(path);
            UnixSocket listener = UnixSocket.listen(path, BACKLOG);
            return new ApiServer(listener, path, lock, endpoints);
        } catch (SyscallException | IllegalArgumentException e) {
            Linux.close(lock);
            throw new ApiServerException("Error creating API server socket " + path, e);
        } catch (ApiServerException e) {
            Linux.close(lock);
            throw e;
        }
    }

    /** Refuses paths no socket can have, before anything (the lock file) is created for them. */
    private static void checkPath(String path) throws ApiServerException {
        if (path.isEmpty()) {
            throw new ApiServerException("API socket path is empty: give --api-socket "
                    + "path=<socket path> or fd=<listening socket>", null);
        }
        int length = path.getBytes(StandardCharsets.UTF_8).length;
        if (length >= UnixSocket.UNIX_PATH_MAX) {
            throw new ApiServerException("API socket path is too long: length=" + length
                    + ", a Unix socket path takes at most " + (UnixSocket.UNIX_PATH_MAX - 1)
                    + " bytes: " + path, null);
        }
    }

    /**
     * Removes what is at {@code path} before binding: with the lock held, a socket there is a
     * crashed VMM's leftover. The reference VMM unlinks whatever is there; Nimbus also replaces
     * an empty regular file (scripts pass a placeholder from mktemp(1)), saying so, but refuses
     * a file with data in it or a directory: a mistyped path must not cost the user a file.
     */
    private static void removeStale(String path) throws ApiServerException, SyscallException {
        int fd;
        try {
            fd = Linux.open(path, O_PATH | O_NOFOLLOW, 0);
        } catch (SyscallException e) {
            // Nothing there (ENOENT), or nothing we may see; bind reports what is wrong.
            return;
        }
        int type;
        long size;
        try {
            FileStat stat = FileStat.of(fd);
            type = stat.mode() & S_IFMT;
            size = stat.size();
        } finally {
            Linux.close(fd);
        }
        if (type == S_IFDIR) {
            throw new ApiServerException("API socket path " + path + " is a directory", null);
        }
        if (type == S_IFREG && size > 0) {
            throw new ApiServerException("API socket path " + path + " is a regular file with "
                    + size + " bytes in it; refusing to replace it with a socket", null);
        }
        if (type != S_IFSOCK) {
            LOG.log(Level.WARNING, "API socket path " + path + " held a " + typeName(type)
                    + ", not a socket; it is removed to bind the socket there");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = arena.allocateFrom(path);
            long ret = Linux.raw(SYS_UNLINK, p.address(), 0, 0, 0, 0, 0);
            if (ret < 0 && ret != -Errno.ENOENT) {
                throw new SyscallException("unlink " + path, (int) -ret);
            }
        }
    }

    private static String typeName(int type) {
        return switch (type) {
            case S_IFREG -> "regular file";
            case S_IFLNK -> "symbolic link";
            default -> "file of type 0" + Integer.toOctalString(type);
        };
    }

    /**
     * A server on the listening socket {@code fd}, inherited from the parent; refused unless
     * {@code fd} is an open socket on which listen(2) was called.
     */
    public static ApiServer onFd(int fd, Endpoints endpoints) throws ApiServerException {
        checkListening(fd);
        return new ApiServer(UnixSocket.of(fd), null, -1, endpoints);
    }

    private static void checkListening(int fd) throws ApiServerException {
        FileStat st;
        try {
            st = FileStat.of(fd);
        } catch (SyscallException e) {
            if (e.errno() == Errno.EBADF) {
                throw new ApiServerException("API socket fd=" + fd
                        + " is not an open file descriptor", null);
            }
            throw new ApiServerException("Cannot use API socket fd=" + fd, e);
        }
        if ((st.mode() & S_IFMT) != S_IFSOCK) {
            throw new ApiServerException("API socket fd=" + fd + " is not a socket", null);
        }
        boolean listening;
        try {
            listening = SocketOptions.isListening(fd);
        } catch (SyscallException e) {
            throw new ApiServerException("Cannot use API socket fd=" + fd, e);
        }
        if (!listening) {
            throw new ApiServerException("API socket fd=" + fd
                    + " is not a listening socket: call listen(2) on it before passing it", null);
        }
    }

    /** Sets the timeouts (milliseconds) before {@link #start}; tests make them short. */
    void timeouts(long requestMillis, long sendMillis) {
        requestTimeoutMillis = requestMillis;
        sendTimeoutMillis = sendMillis;
    }

    /** Connections being served now. */
    synchronized int connectionCount() {
        return connections.size();
    }

    /** Connections being served now that are idle: no request being read or answered. */
    synchronized int idleConnectionCount() {
        int idle = 0;
        for (Connection c : connections) {
            if (c.idle) {
                idle++;
            }
        }
        return idle;
    }

    /** Starts accepting connections. */
    public void start() {
        acceptor = Thread.ofPlatform().name("http-server").daemon().unstarted(this::acceptLoop);
        acceptor.start();
    }

    private void acceptLoop() {
        boolean shortReported = false;
        while (true) {
            UnixSocket socket;
            try {
                socket = listener.accept();
            } catch (SyscallException e) {
                if (isShortOfResources(e.errno())) {
                    // The connection waits in the backlog; taking it later is all we can do.
                    if (!shortReported) {
                        shortReported = true;
                        LOG.log(Level.WARNING, "Cannot accept API connections for now: "
                                + e.getMessage());
                    }
                    if (!pause(ACCEPT_RETRY_MILLIS)) {
                        return;
                    }
                    continue;
                }
                LOG.log(Level.ERROR, "HTTP server error on accepting a connection", e);
                return;
            }
            shortReported = false;
            if (socket == null) {
                return; // the listener was shut down
            }
            Connection c = new Connection(socket);
            boolean admitted;
            synchronized (this) {
                if (closing) {
                    socket.close();
                    return;
                }
                admitted = connections.size() < MAX_CONNECTIONS || evictIdlest();
                if (admitted) {
                    connections.add(c);
                    fullReported = false;
                } else if (!fullReported) {
                    fullReported = true;
                    LOG.log(Level.WARNING, "API server full: all " + MAX_CONNECTIONS
                            + " connections are busy; new clients are refused with 503");
                }
            }
            if (admitted) {
                Thread.ofPlatform().name("http-client").daemon().stackSize(256 << 10)
                        .unstarted(c).start();
            } else {
                refuse(socket);
            }
        }
    }

    private static boolean isShortOfResources(int errno) {
        // These pass once descriptors or memory are freed.
        return errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == Errno.ENOMEM;
    }

    private static boolean pause(long millis) {
        try {
            Thread.sleep(millis);
            return true;
        } catch (InterruptedException e) {
            return false;
        }
    }

    /**
     * Closes the connection idle the longest to make room; false when none is idle. A request
     * its client sends at this very moment is lost with the connection, as when any server
     * closes an idle persistent connection.
     */
    private boolean evictIdlest() {
        Connection idlest = null;
        for (Connection c : connections) {
            if (c.idle && (idlest == null || c.idleSince < idlest.idleSince)) {
                idlest = c;
            }
        }
        if (idlest == null) {
            return false;
        }
        LOG.log(Level.DEBUG, "API server full: closing the connection idle the longest");
        idlest.evicted = true;
        idlest.idle = false;
        connections.remove(idlest);
        idlest.socket.shutdown(); // its thread sees end of stream and closes it
        return true;
    }

    /**
     * Tells a client there is no room and closes its connection. Bytes it already sent are
     * read first: closing a Unix socket with unread data makes the peer's next read fail with
     * ECONNRESET instead of reading the answer to its end.
     */
    private static void refuse(UnixSocket socket) {
        try {
            socket.send(SERVER_FULL, 0, SERVER_FULL.length);
            FileControl.setNonBlocking(socket.fd());
            byte[] buf = new byte[READ_SIZE];
            for (int i = 0; i < REFUSED_DRAIN_READS; i++) {
                UnixSocket.Received r = socket.receive(buf, 0);
                closeAll(r.fds());
                if (r.length() == 0) {
                    break;
                }
            }
        } catch (SyscallException e) {
            // EAGAIN: all read; anything else: the client is gone. Either way, close.
        } finally {
            socket.close();
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
        synchronized (this) {
            if (closing) {
                return;
            }
            closing = true;
            notifyAll();
        }
        listener.shutdown();
        if (acceptor != null) {
            try {
                acceptor.join(CLOSE_GRACE_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        shutConnections(System.nanoTime() + CLOSE_GRACE_MILLIS * 1_000_000);
        listener.close();
        if (path != null) {
            try (Arena arena = Arena.ofConfined()) {
                long ret = Linux.raw(SYS_UNLINK, arena.allocateFrom(path).address(), 0, 0, 0, 0,
                        0);
                if (ret < 0 && ret != -Errno.ENOENT) {
                    LOG.log(Level.WARNING, "Cannot remove API socket " + path + ": "
                            + new SyscallException("unlink", (int) -ret).getMessage());
                }
            }
            Linux.close(lockFd);
        }
    }

    /** Waits (up to {@code deadline}) for answers in flight to go out, then shuts every one. */
    private synchronized void shutConnections(long deadline) {
        long left;
        while (anyBusy() && (left = deadline - System.nanoTime()) > 0) {
            try {
                wait(Math.max(1, left / 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        for (Connection c : connections) {
            c.socket.shutdown();
        }
    }

    private boolean anyBusy() {
        for (Connection c : connections) {
            if (c.busy) {
                return true;
            }
        }
        return false;
    }

    /**
     * One client connection: reads requests, answers them in order. Its state fields are
     * guarded by the server; its socket is closed only by its own thread, after it left the
     * server's set, so the server never shuts a descriptor number that was reused.
     */
    private final class Connection implements Runnable {
        private final UnixSocket socket;
        private final long acceptedAt = System.nanoTime();
        /** No request being read or answered: the server may close it to make room. */
        private boolean idle = true;
        private long idleSince = acceptedAt;
        private boolean busy; // a request is being answered
        private boolean evicted;

        Connection(UnixSocket socket) {
            this.socket = socket;
        }

        @Override
        public void run() {
            HttpRequestParser parser = new HttpRequestParser();
            byte[] buf = new byte[READ_SIZE];
            List<Integer> fds = new ArrayList<>();
            boolean answeredAny = false;
            long requestStart = acceptedAt; // when the request being read began
            long timeoutSet = 0;
            try {
                SocketOptions.sendTimeout(socket.fd(), sendTimeoutMillis);
                while (true) {
                    long timeout = 0;
                    if (!answeredAny || parser.midRequest()) {
                        long left = requestTimeoutMillis
                                - (System.nanoTime() - requestStart) / 1_000_000;
                        if (left <= 0) {
                            LOG.log(Level.DEBUG, "API connection closed: no complete request "
                                    + "within " + requestTimeoutMillis + " ms");
                            return;
                        }
                        timeout = left;
                    }
                    if (timeout != timeoutSet) {
                        SocketOptions.receiveTimeout(socket.fd(), timeout);
                        timeoutSet = timeout;
                    }
                    UnixSocket.Received r;
                    try {
                        r = socket.receive(buf, 0);
                    } catch (SyscallException e) {
                        if (e.errno() == Errno.EAGAIN) {
                            continue; // the deadline check above closes it
                        }
                        throw e;
                    }
                    for (int fd : r.fds()) {
                        fds.add(fd);
                    }
                    if (r.fdsTruncated()) {
                        LOG.log(Level.WARNING, "Descriptors sent with an API request were "
                                + "dropped: more than " + UnixSocket.SCM_MAX_FD);
                    }
                    if (r.length() == 0 || !reading()) {
                        return;
                    }
                    boolean wasMidRequest = parser.midRequest();
                    parser.feed(buf, 0, r.length());
                    int answered = serve(parser, fds);
                    if (answered < 0) {
                        return;
                    }
                    answeredAny |= answered > 0;
                    if (!parser.midRequest()) {
                        idleAgain();
                    } else if (answered > 0 || !wasMidRequest && answeredAny) {
                        requestStart = System.nanoTime();
                    }
                }
            } catch (SyscallException e) {
                LOG.log(Level.DEBUG, "API connection closed: " + e.getMessage());
            } finally {
                for (int fd : fds) {
                    Linux.close(fd);
                }
                remove(this);
                socket.close();
            }
        }

        /**
         * Answers every complete request buffered: how many, or -1 when the connection must
         * close.
         */
        private int serve(HttpRequestParser parser, List<Integer> fds) throws SyscallException {
            int answered = 0;
            while (true) {
                HttpRequest request;
                try {
                    request = parser.next();
                } catch (HttpParseException e) {
                    reply(parseError(e.getMessage()));
                    return -1;
                }
                if (request == null) {
                    if (parser.takeContinue()) {
                        reply(HttpResponse.of(HttpResponse.CONTINUE));
                    }
                    return answered;
                }
                int[] taken = new int[fds.size()];
                for (int i = 0; i < taken.length; i++) {
                    taken[i] = fds.get(i);
                }
                fds.clear();
                if (!begin()) {
                    closeAll(taken);
                    return -1;
                }
                try {
                    HttpResponse response = endpoints.handle(new HttpRequest(request.method(),
                            request.path(), request.body(), taken));
                    reply(response);
                } finally {
                    end();
                }
                answered++;
            }
        }

        private void reply(HttpResponse response) throws SyscallException {
            byte[] bytes = response.encode();
            socket.send(bytes, 0, bytes.length);
        }

        /** Bytes arrived: no longer idle; false when the server closed this connection. */
        private boolean reading() {
            synchronized (ApiServer.this) {
                if (evicted || closing) {
                    return false;
                }
                idle = false;
                return true;
            }
        }

        private void idleAgain() {
            synchronized (ApiServer.this) {
                idle = true;
                idleSince = System.nanoTime();
            }
        }

        private boolean begin() {
            synchronized (ApiServer.this) {
                if (closing || evicted) {
                    return false;
                }
                busy = true;
                return true;
            }
        }

        private void end() {
            synchronized (ApiServer.this) {
                busy = false;
                ApiServer.this.notifyAll();
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
