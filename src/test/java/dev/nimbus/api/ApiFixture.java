package dev.nimbus.api;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nimbus.hypervisor.CpuidEntry;
import dev.nimbus.hypervisor.Hypervisor;
import dev.nimbus.hypervisor.HypervisorException;
import dev.nimbus.hypervisor.Vm;
import dev.nimbus.vmm.EventMonitor;
import dev.nimbus.vmm.Vmm;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A VMM serving its API in this JVM, for tests of the API server that need no guest: its
 * hypervisor refuses to create VMs, so a boot fails the way a boot on a broken host does.
 */
final class ApiFixture implements AutoCloseable {
    final Path socket;
    final Vmm vmm;
    final ApiServer server;
    private final Thread loop;

    /** A hypervisor on which every VM creation fails. */
    static final class NoVmHypervisor implements Hypervisor {
        @Override
        public Vm createVm() throws HypervisorException {
            throw new HypervisorException("This test's hypervisor creates no VMs");
        }

        @Override
        public List<CpuidEntry> supportedCpuid() {
            return List.of();
        }

        @Override
        public String emulationWarning() {
            return null;
        }

        @Override
        public void close() {}
    }

    ApiFixture(Path dir) throws Exception {
        this(dir, EventMonitor.NONE);
    }

    ApiFixture(Path dir, EventMonitor events) throws Exception {
        this(dir, events, ApiServer.REQUEST_TIMEOUT_MILLIS, ApiServer.SEND_TIMEOUT_MILLIS);
    }

    /**
     * A server whose clients get {@code requestMillis} to send each request and
     * {@code sendMillis} to take each answer.
     */
    ApiFixture(Path dir, long requestMillis, long sendMillis) throws Exception {
        this(dir, EventMonitor.NONE, requestMillis, sendMillis);
    }

    private ApiFixture(Path dir, EventMonitor events, long requestMillis, long sendMillis)
            throws Exception {
        socket = dir.resolve("api.sock");
        vmm = new Vmm(new NoVmHypervisor(), events, false, "0.1.0");
        server = ApiServer.bind(socket.toString(), new Endpoints(vmm));
        server.timeouts(requestMillis, sendMillis);
        server.start();
        loop = Thread.ofPlatform().name("test-vmm").daemon()
                .start(() -> vmm.run(Optional.empty()));
    }

    /** A new connection to the server. */
    ApiClient client() throws IOException {
        return ApiClient.connect(socket.toString());
    }

    /** One request on a connection of its own, checked against the contract. */
    ApiClient.Response call(String method, String endpoint, String body) throws IOException {
        try (ApiClient c = client()) {
            return checked(c, method, endpoint, body, new int[0]);
        }
    }

    /** One request on {@code c}, its bodies checked against the contract. */
    static ApiClient.Response checked(ApiClient c, String method, String endpoint, String body,
            int[] fds) throws IOException {
        ApiClient.Response r = c.request(method, endpoint, body, fds);
        OpenApiContract.assertResponseValid(method, endpoint, r.status(), r.body());
        return r;
    }

    @Override
    public void close() {
        vmm.requestExit();
        try {
            assertTrue(vmm.awaitTermination(5000), "VMM loop did not end");
            server.close();
            loop.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("Interrupted while stopping the VMM", e);
        }
    }
}
