package dev.nimbus.vhost;

import dev.nimbus.devices.virtio.VirtioDevice;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A {@link VhostUserServer} serving one engine on a fresh socket in a temporary folder, on its
 * own thread, for tests that play the front-end.
 */
final class BackendFixture implements AutoCloseable {
    private final Path dir;
    private final VhostUserServer server;
    private final Thread thread;
    private volatile Throwable failure;

    BackendFixture(VirtioDevice engine) throws IOException {
        this.dir = Files.createTempDirectory("nimbus-vhost-");
        this.server = VhostUserServer.listen(engine, socket());
        this.thread = Thread.ofPlatform().name("test-backend").daemon().start(() -> {
            try {
                server.run();
            } catch (Throwable t) {
                failure = t;
            }
        });
    }

    String socket() {
        return dir.resolve("backend.sock").toString();
    }

    VhostUserServer server() {
        return server;
    }

    /** Waits until the server has dropped {@code count} connections; false on timeout. */
    boolean awaitDropped(long count, long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
        while (server.dropped() < count && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        return server.dropped() >= count;
    }

    /** Waits until the server has accepted {@code count} connections in all. */
    boolean awaitConnections(long count, long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
        while (server.connections() < count && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        return server.connections() >= count;
    }

    Throwable failure() {
        return failure;
    }

    @Override
    public void close() throws IOException {
        server.close();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Files.deleteIfExists(dir.resolve("backend.sock"));
        Files.deleteIfExists(dir);
    }
}
