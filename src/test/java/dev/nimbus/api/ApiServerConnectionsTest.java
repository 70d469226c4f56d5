package dev.nimbus.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nimbus.sys.SyscallException;
import dev.nimbus.sys.UnixSocket;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How the API server shares its {@link ApiServer#MAX_CONNECTIONS} connections: idle ones make
 * room for new clients, a full server answers 503 instead of leaving clients hanging, and
 * clients that send a request too slowly, or do not read their answers, lose their connection
 * while persistent connections in use keep working.
 */
class ApiServerConnectionsTest {
    static final String PING = "GET /api/v1/vmm.ping HTTP/1.1\r\n\r\n";
    static final Duration LIMIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;
    ApiFixture api;
    final List<UnixSocket> open = new ArrayList<>();

    @AfterEach
    void stop() {
        for (UnixSocket s : open) {
            s.close();
        }
        if (api != null) {
            api.close();
        }
    }

    private UnixSocket connect() throws SyscallException {
        UnixSocket s = UnixSocket.connect(api.socket.toString());
        open.add(s);
        return s;
    }

    private static void send(UnixSocket s, String text) throws SyscallException {
        byte[] b = text.getBytes(StandardCharsets.US_ASCII);
        s.send(b, 0, b.length);
    }

    /** Everything the server sends until it closes the connection. */
    private static byte[] readToEnd(UnixSocket s) throws SyscallException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        byte[] buf = new byte[4096];
        while (true) {
            UnixSocket.Received r = s.receive(buf, 0);
            if (r.length() == 0) {
                return all.toByteArray();
            }
            all.write(buf, 0, r.length());
        }
    }

    private static void await(String what, BooleanSupplier condition) throws Exception {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("Timed out waiting until " + what);
            }
            Thread.sleep(10);
        }
    }

    /**
     * The bug: with {@link ApiServer#MAX_CONNECTIONS} clients connected and idle, the server
     * stopped accepting, so every later client, {@code nimbus-remote ping} included, hung for
     * ever. A new client now takes the place of the connection idle the longest.
     */
    @Test
    void idleConnectionsMakeRoomForNewClients() throws Exception {
        api = new ApiFixture(dir);
        assertTimeoutPreemptively(LIMIT, () -> {
            List<UnixSocket> idle = new ArrayList<>();
            for (int i = 0; i < ApiServer.MAX_CONNECTIONS; i++) {
                idle.add(connect());
                int accepted = i + 1;
                // One at a time, so that the first is the one idle the longest.
                await(accepted + " connections are served",
                        () -> api.server.connectionCount() == accepted);
            }
            assertEquals(200, api.call("GET", "vmm.ping", null).status());
            // The oldest idle connection went to make room; the newest still works.
            assertEquals(0, readToEnd(idle.get(0)).length);
            UnixSocket newest = idle.get(idle.size() - 1);
            ApiClient c = ApiClient.over(newest);
            assertEquals(200, c.request("GET", "vmm.ping", null, new int[0]).status());
        });
    }

    /**
     * The bug: a client beyond the limit waited in the listen backlog with no answer. As the
     * reference server does, it is now accepted, told 503 "Too many open connections" with
     * {@code Connection: close}, and closed, when no connection is idle enough to give way.
     */
    @Test
    void clientBeyondTheLimitIsToldTooManyOpenConnections() throws Exception {
        api = new ApiFixture(dir);
        assertTimeoutPreemptively(LIMIT, () -> {
            List<UnixSocket> reading = new ArrayList<>();
            for (int i = 0; i < ApiServer.MAX_CONNECTIONS; i++) {
                UnixSocket s = connect();
                send(s, "GET /api/v1/vmm.ping HTTP/1.1\r\n"); // not finished: not idle
                reading.add(s);
            }
            await("every connection is reading a request",
                    () -> api.server.connectionCount() == ApiServer.MAX_CONNECTIONS
                            && api.server.idleConnectionCount() == 0);

            byte[] expected = ("HTTP/1.1 503\r\nServer: Cloud Hypervisor API\r\n"
                    + "Connection: close\r\nContent-Length: 40\r\n\r\n"
                    + "{ \"error\": \"Too many open connections\" }")
                    .getBytes(StandardCharsets.US_ASCII);
            assertArrayEquals(expected, readToEnd(connect()));
            // A client that sends its request first (nimbus-remote) reads the same answer.
            try (ApiClient c = ApiClient.connect(api.socket.toString())) {
                ApiClient.Response r = c.request("GET", "vmm.ping", null, new int[0]);
                assertEquals(503, r.status());
                assertEquals("{ \"error\": \"Too many open connections\" }", r.body());
            }

            // The 64 were not hurt: each finishes its request and is answered.
            for (UnixSocket s : reading) {
                send(s, "\r\n");
                assertEquals(200, ApiClient.over(s).readResponse().status());
            }
            assertEquals(200, api.call("GET", "vmm.ping", null).status());
        });
    }

    /**
     * The bug: a client that connected and sent nothing, or sent a request a byte at a time and
     * never finished it, kept its connection for ever, so a few of them could pin the server.
     * Each request now has a deadline from its first byte (from the connection for the first);
     * a persistent connection that has been used may idle between requests as long as it likes.
     */
    @Test
    void requestsThatNeverCompleteTimeOutButPersistentConnectionsStay() throws Exception {
        long timeout = 500;
        api = new ApiFixture(dir, timeout, ApiServer.SEND_TIMEOUT_MILLIS);
        assertTimeoutPreemptively(LIMIT, () -> {
            UnixSocket used = connect();
            ApiClient persistent = ApiClient.over(used);
            assertEquals(200, persistent.request("GET", "vmm.ping", null, new int[0]).status());

            long t0 = System.nanoTime();
            UnixSocket silent = connect();
            assertEquals(0, readToEnd(silent).length, "closed without an answer");
            long silentMillis = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(silentMillis >= timeout - 50 && silentMillis < timeout + 3000,
                    "closed after " + silentMillis + " ms");

            // One byte every 100 ms keeps the connection busy but never completes a request.
            UnixSocket slow = connect();
            byte[] trickle = ("GET /api/v1/vmm.ping HTTP/1.1\r\nX-Slow: " + "a".repeat(200))
                    .getBytes(StandardCharsets.US_ASCII);
            long t1 = System.nanoTime();
            SyscallException closed = assertThrows(SyscallException.class, () -> {
                for (byte b : trickle) {
                    slow.send(new byte[] {b}, 0, 1);
                    Thread.sleep(100);
                }
            });
            long slowMillis = (System.nanoTime() - t1) / 1_000_000;
            assertTrue(slowMillis < timeout + 3000, "closed after " + slowMillis + " ms");
            assertTrue(closed.getMessage().contains("EPIPE")
                    || closed.getMessage().contains("ECONNRESET"), closed.getMessage());

            // Idle for several request timeouts, the used connection still serves.
            Thread.sleep(3 * timeout);
            assertEquals(200, persistent.request("GET", "vmm.ping", null, new int[0]).status());
            await("only the persistent connection is left",
                    () -> api.server.connectionCount() == 1);
        });
    }

    /**
     * The bug: a client that sent requests and never read the answers blocked its connection's
     * thread in send for ever. An answer not taken within the send timeout now closes the
     * connection.
     */
    @Test
    void clientThatDoesNotReadItsAnswersLosesTheConnection() throws Exception {
        api = new ApiFixture(dir, ApiServer.REQUEST_TIMEOUT_MILLIS, 300);
        assertTimeoutPreemptively(LIMIT, () -> {
            UnixSocket greedy = connect();
            byte[] many = PING.repeat(40_000).getBytes(StandardCharsets.US_ASCII);
            CompletableFuture<Throwable> sender = CompletableFuture.supplyAsync(() -> {
                try {
                    greedy.send(many, 0, many.length);
                    return null;
                } catch (IOException e) {
                    return e;
                }
            });
            await("the server gave up on the connection",
                    () -> sender.isDone() && api.server.connectionCount() == 0);
            assertTrue(sender.get() instanceof SyscallException, String.valueOf(sender.get()));
            assertEquals(200, api.call("GET", "vmm.ping", null).status());
        });
    }
}
