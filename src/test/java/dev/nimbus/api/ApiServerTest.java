package dev.nimbus.api;

import static dev.nimbus.api.OpenApiContract.assertError;
import static dev.nimbus.api.OpenApiContract.assertRequestValid;
import static dev.nimbus.api.OpenApiContract.errorChain;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nimbus.json.JsonObject;
import dev.nimbus.json.JsonParser;
import dev.nimbus.sys.Linux;
import dev.nimbus.sys.UnixSocket;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The API server in this JVM, without guests: routing, methods, bodies, the status codes and
 * error chains of the reference server, and bad input of every kind, which must never hurt it.
 */
class ApiServerTest {
    static final String VM_JSON = "{\"cpus\":{\"boot_vcpus\":1,\"max_vcpus\":1},"
            + "\"memory\":{\"size\":67108864},\"payload\":{\"kernel\":\"/nonexistent/kernel\"},"
            + "\"serial\":{\"mode\":\"Null\"},\"console\":{\"mode\":\"Off\"}}";

    @TempDir
    Path dir;
    ApiFixture api;

    @BeforeEach
    void start() throws Exception {
        api = new ApiFixture(dir);
    }

    @AfterEach
    void stop() throws Exception {
        api.close();
    }

    private ApiClient.Response call(String method, String endpoint, String body)
            throws IOException {
        if (body != null && (endpoint.startsWith("vm.add-") || endpoint.equals("vm.create"))
                && body.startsWith("{\"")) {
            assertRequestValid(method, endpoint, body);
        }
        return api.call(method, endpoint, body);
    }

    /** Sends raw bytes on a new connection and reads one response. */
    private ApiClient.Response raw(String text) throws IOException {
        try (ApiClient c = ApiClient.over(UnixSocket.connect(api.socket.toString()))) {
            c.sendRaw(text.getBytes(StandardCharsets.ISO_8859_1), new int[0]);
            return c.readResponse();
        }
    }

    @Test
    void pingReportsVersionAndPid() throws Exception {
        ApiClient.Response r = call("GET", "vmm.ping", null);
        assertEquals(200, r.status());
        JsonObject ping = (JsonObject) JsonParser.parse(r.body());
        assertEquals(ProcessHandle.current().pid(),
                Long.parseLong(ping.get("pid").toString().replaceAll("\\D", "")));
        assertEquals("0.1.0", ((dev.nimbus.json.JsonString) ping.get("version")).value());
    }

    @Test
    void unknownPathsAreNotFound() throws Exception {
        assertError(call("GET", "vm.nonexistent", null), 404, "Not Found");
        assertError(raw("GET /api/v2/vmm.ping HTTP/1.1\r\n\r\n"), 404, "Not Found");
        assertError(raw("GET /api/v1/vmm.ping?x=1 HTTP/1.1\r\n\r\n"), 404, "Not Found");
        // vm.coredump exists only in guest-debug builds of the reference server.
        assertError(call("PUT", "vm.coredump", "{\"destination_url\":\"file:///tmp/x\"}"), 404,
                "Not Found");
    }

    @Test
    void absoluteFormTargetIsRouted() throws Exception {
        ApiClient.Response r = raw("GET http://localhost/api/v1/vmm.ping HTTP/1.1\r\n\r\n");
        assertEquals(200, r.status());
    }

    @Test
    void wrongMethodsAreBadRequests() throws Exception {
        assertError(call("GET", "vm.boot", null), 400, "Bad Request");
        assertError(call("PUT", "vm.info", null), 400, "Bad Request");
        assertError(call("PUT", "vmm.ping", null), 400, "Bad Request");
        assertError(call("GET", "vmm.shutdown", null), 400, "Bad Request");
        assertError(call("GET", "vm.create", null), 400, "Bad Request");
        assertError(call("PUT", "vm.counters", null), 400, "Bad Request");
        assertError(call("GET", "vm.add-disk", null), 400, "Bad Request");
        // Methods other than GET and PUT on an action: 400 with an empty body.
        ApiClient.Response patch = call("PATCH", "vm.pause", null);
        assertEquals(400, patch.status());
        assertEquals("", patch.body());
        ApiClient.Response delete = call("DELETE", "vm.add-net", null);
        assertEquals(400, delete.status());
        assertEquals("", delete.body());
    }

    @Test
    void methodTheParserDoesNotKnowGetsParseErrorAndClose() throws Exception {
        ApiClient.Response r = raw("POST /api/v1/vmm.ping HTTP/1.1\r\n\r\n");
        assertEquals(400, r.status());
        assertTrue(r.body().contains("Invalid HTTP Method"), r.body());
        assertEquals(200, call("GET", "vmm.ping", null).status());
    }

    @Test
    void bodyWhereNoneIsTakenOrNoneWhereOneIsNeeded() throws Exception {
        assertError(call("PUT", "vm.pause", "{}"), 400, "Bad Request");
        assertError(call("PUT", "vm.add-disk", null), 400, "Bad Request");
        // The bug: vm.create alone answered 400 with an empty body.
        for (String endpoint : List.of("vm.create", "vm.add-disk", "vm.add-net", "vm.add-device",
                "vm.add-fs", "vm.add-pmem", "vm.add-vsock", "vm.add-vdpa", "vm.add-user-device",
                "vm.add-generic-vhost-user", "vm.remove-device", "vm.resize", "vm.resize-disk",
                "vm.resize-zone", "vm.snapshot", "vm.restore", "vm.receive-migration",
                "vm.send-migration")) {
            ApiClient.Response r = call("PUT", endpoint, null);
            assertEquals(400, r.status(), endpoint);
            assertEquals("[\"Bad Request\"]", r.body(), endpoint);
        }
    }

    /** The bug: a NUL in a path passed vm.create and vm.boot leaked InvalidPathException. */
    @Test
    void aNulInAPathIsRefusedAtCreate() throws Exception {
        assertError(call("PUT", "vm.create", "{\"payload\":{\"kernel\":\"a\\u0000b\"}}"), 400,
                "Error from API", "The VM could not be created", "Invalid value for"
                + " payload.kernel: it contains a NUL character, which no path or name can hold");
        assertError(call("PUT", "vm.create", VM_JSON.replace("}}",
                "},\"disks\":[{\"path\":\"/x\"},{\"path\":\"/tmp/d\\u0000\"}]}")), 400,
                "Error from API", "The VM could not be created", "Invalid value for"
                + " disks[1].path: it contains a NUL character, which no path or name can hold");
        assertError(call("GET", "vm.info", null), 404, "Error from API",
                "The VM info is not available", "VM is not created");
    }

    @Test
    void malformedJsonAndWrongTypesAreDeserializationErrors() throws Exception {
        for (String body : List.of("{", "not json", "[]", "{\"payload\":{\"kernel\":1}}",
                "{\"cpus\":{\"boot_vcpus\":\"two\",\"max_vcpus\":2},\"payload\":{}}",
                "{\"cpus\":{\"boot_vcpus\":1},\"payload\":{}}",
                "{\"memory\":{\"size\":-1},\"payload\":{}}",
                "{\"payload\":{\"kernel\":\"\\ud800\"}}")) {
            ApiClient.Response r = api.call("PUT", "vm.create", body);
            assertEquals(400, r.status(), body);
            List<String> chain = errorChain(r.body());
            assertEquals("Failed to deserialize JSON", chain.get(0), body);
            assertEquals(2, chain.size(), body);
        }
        ApiClient.Response disk = api.call("PUT", "vm.add-disk", "{\"path\":42}");
        assertEquals(400, disk.status());
        assertEquals("Failed to deserialize JSON", errorChain(disk.body()).get(0));
        // Nothing was created by any of them.
        assertError(call("GET", "vm.info", null), 404, "Error from API",
                "The VM info is not available", "VM is not created");
    }

    @Test
    void unknownFieldsAreIgnored() throws Exception {
        String body = VM_JSON.replace("{\"cpus\"", "{\"sgx_epc\":null,\"future_field\":[1],"
                + "\"cpus\"");
        assertEquals(204, api.call("PUT", "vm.create", body).status());
        ApiClient.Response info = call("GET", "vm.info", null);
        assertEquals(200, info.status());
        assertFalse(info.body().contains("future_field"));
    }

    @Test
    void lifecycleCallsWithoutAVmGetTheReferenceCodes() throws Exception {
        // The status codes the API document gives: 404 when no VM was created.
        assertError(call("PUT", "vm.pause", null), 404, "Error from API",
                "The VM could not be paused", "VM is not created");
        assertError(call("PUT", "vm.resume", null), 404, "Error from API",
                "The VM could not resume", "VM is not created");
        assertError(call("PUT", "vm.shutdown", null), 404, "Error from API",
                "The VM could not shutdown", "VM is not created");
        assertError(call("PUT", "vm.reboot", null), 404, "Error from API",
                "The VM could not reboot", "VM is not created");
        assertError(call("PUT", "vm.power-button", null), 404, "Error from API",
                "Error triggering power button", "VM is not created");
        assertError(call("PUT", "vm.nmi", null), 404, "Error from API", "Error triggering NMI",
                "VM is not created");
        assertError(call("PUT", "vm.boot", null), 404, "Error from API",
                "The VM could not boot", "VM config is missing");
        assertError(call("GET", "vm.info", null), 404, "Error from API",
                "The VM info is not available", "VM is not created");
        assertError(call("GET", "vm.counters", null), 404, "Error from API",
                "The VM info is not available", "VM is not created");
        assertError(call("PUT", "vm.add-disk", "{\"path\":\"/tmp/x.img\"}"), 404,
                "Error from API", "The disk could not be added to the VM", "VM is not created");
        assertError(call("PUT", "vm.remove-device", "{\"id\":\"_disk0\"}"), 404,
                "Error from API", "The device could not be removed from the VM",
                "VM is not created");
        assertError(call("PUT", "vm.resize", "{\"desired_vcpus\":2}"), 404, "Error from API",
                "The VM could not be resized", "VM is not created");
        assertError(call("PUT", "vm.snapshot", "{\"destination_url\":\"file:///tmp/s\"}"), 404,
                "Error from API", "The VM could not be snapshotted", "VM is not created");
        // Deleting nothing succeeds, as it does on the reference server.
        assertEquals(204, call("PUT", "vm.delete", null).status());
    }

    @Test
    void lifecycleCallsOnACreatedVmGetTheReferenceCodes() throws Exception {
        assertEquals(204, call("PUT", "vm.create", VM_JSON).status());
        assertError(call("PUT", "vm.create", VM_JSON), 500, "Error from API",
                "The VM could not be created", "VM is already created");
        // Created but not booted: 405, as the API document says.
        assertError(call("PUT", "vm.pause", null), 405, "Error from API",
                "The VM could not be paused", "VM is not running");
        assertError(call("PUT", "vm.resume", null), 405, "Error from API",
                "The VM could not resume", "VM is not running");
        assertError(call("PUT", "vm.shutdown", null), 405, "Error from API",
                "The VM could not shutdown", "VM is not running");
        assertError(call("PUT", "vm.reboot", null), 405, "Error from API",
                "The VM could not reboot", "VM is not running");
        assertError(call("PUT", "vm.power-button", null), 405, "Error from API",
                "Error triggering power button", "VM is not running");
        ApiClient.Response info = call("GET", "vm.info", null);
        assertEquals(200, info.status());
        assertTrue(info.body().contains("\"state\":\"Created\""), info.body());
        assertFalse(info.body().contains("device_tree"), info.body());
        // This hypervisor builds no VM: the boot fails with the reason, and nothing runs.
        ApiClient.Response boot = call("PUT", "vm.boot", null);
        assertEquals(500, boot.status());
        List<String> chain = errorChain(boot.body());
        assertEquals(List.of("Error from API", "The VM could not boot"), chain.subList(0, 2));
        assertTrue(String.join(" ", chain).contains("creates no VMs"), boot.body());
        assertTrue(call("GET", "vm.info", null).body().contains("\"state\":\"Created\""));
        assertEquals(204, call("PUT", "vm.delete", null).status());
        assertEquals(404, call("GET", "vm.info", null).status());
    }

    @Test
    void invalidConfigurationsAreRefusedAtBootAndAtAdd() throws Exception {
        assertEquals(204, call("PUT", "vm.create", VM_JSON.replace(
                "\"boot_vcpus\":1,\"max_vcpus\":1", "\"boot_vcpus\":2,\"max_vcpus\":1")).status());
        ApiClient.Response boot = call("PUT", "vm.boot", null);
        assertEquals(400, boot.status());
        assertEquals(List.of("Error from API", "The VM could not boot",
                "Failed to validate config"), errorChain(boot.body()).subList(0, 3));
        assertEquals(204, call("PUT", "vm.delete", null).status());

        assertEquals(204, call("PUT", "vm.create", VM_JSON).status());
        assertEquals(204, call("PUT", "vm.add-disk",
                "{\"path\":\"/tmp/a.img\",\"id\":\"disk1\"}").status());
        ApiClient.Response dup = call("PUT", "vm.add-disk",
                "{\"path\":\"/tmp/b.img\",\"id\":\"disk1\"}");
        assertEquals(409, dup.status());
        assertEquals(List.of("Error from API", "The disk could not be added to the VM",
                "Failed to validate config"), errorChain(dup.body()).subList(0, 3));
        String info = call("GET", "vm.info", null).body();
        assertTrue(info.contains("/tmp/a.img") && !info.contains("/tmp/b.img"), info);
    }

    @Test
    void coldAddAndRemoveChangeTheConfiguration() throws Exception {
        assertEquals(204, call("PUT", "vm.create", VM_JSON).status());
        assertEquals(204, call("PUT", "vm.add-disk", "{\"path\":\"/tmp/c.img\",\"id\":\"d\"}")
                .status());
        assertEquals(204, call("PUT", "vm.add-pmem", "{\"file\":\"/tmp/p.img\",\"id\":\"p\"}")
                .status());
        assertEquals(204, call("PUT", "vm.resize",
                "{\"desired_vcpus\":1,\"desired_ram\":134217728}").status());
        String info = call("GET", "vm.info", null).body();
        assertTrue(info.contains("/tmp/c.img") && info.contains("/tmp/p.img"), info);
        assertTrue(info.contains("\"size\":134217728"), info);
        assertEquals(204, call("PUT", "vm.remove-device", "{\"id\":\"d\"}").status());
        assertFalse(call("GET", "vm.info", null).body().contains("/tmp/c.img"));
        assertError(call("PUT", "vm.remove-device", "{\"id\":\"d\"}"), 404, "Error from API",
                "The device could not be removed from the VM", "No device with id \"d\" to remove");
    }

    @Test
    void tapDescriptorsTravelAsScmRightsAndCloseWithTheConfig() throws Exception {
        assertEquals(204, call("PUT", "vm.create", VM_JSON).status());
        int[] pipe = pipe();
        try (ApiClient c = api.client()) {
            String body = "{\"mac\":\"12:34:56:78:9a:bc\",\"num_queues\":2,\"queue_size\":256}";
            assertRequestValid("PUT", "vm.add-net", body);
            ApiClient.Response r = ApiFixture.checked(c, "PUT", "vm.add-net", body,
                    new int[] {pipe[0]});
            assertEquals(204, r.status(), r.body());
        }
        String info = call("GET", "vm.info", null).body();
        JsonObject config = (JsonObject) ((JsonObject) JsonParser.parse(info)).get("config");
        JsonObject net = (JsonObject) ((dev.nimbus.json.JsonArray) config.get("net")).elements()
                .get(0);
        assertEquals("12:34:56:78:9a:bc", ((dev.nimbus.json.JsonString) net.get("mac")).value());
        dev.nimbus.json.JsonArray fds = (dev.nimbus.json.JsonArray) net.get("fds");
        assertEquals(1, fds.elements().size());
        int received = Integer.parseInt(((dev.nimbus.json.JsonNumber) fds.elements().get(0))
                .text());
        assertTrue(Files.exists(Path.of("/proc/self/fd/" + received)));
        assertEquals(Files.readSymbolicLink(Path.of("/proc/self/fd/" + pipe[0])),
                Files.readSymbolicLink(Path.of("/proc/self/fd/" + received)));
        assertEquals(204, call("PUT", "vm.delete", null).status());
        // The VMM closed its copy when the configuration went; ours is still open.
        assertTrue(!Files.exists(Path.of("/proc/self/fd/" + received))
                || !Files.readSymbolicLink(Path.of("/proc/self/fd/" + received))
                        .equals(Files.readSymbolicLink(Path.of("/proc/self/fd/" + pipe[0]))));
        Linux.close(pipe[0]);
        Linux.close(pipe[1]);
    }

    private static int[] pipe() throws Exception {
        try (java.lang.foreign.Arena a = java.lang.foreign.Arena.ofConfined()) {
            java.lang.foreign.MemorySegment fds = a.allocate(8, 4);
            Linux.call("pipe2", Linux.SYS_PIPE2, fds.address(), Linux.O_CLOEXEC, 0);
            return new int[] {fds.get(java.lang.foreign.ValueLayout.JAVA_INT, 0),
                fds.get(java.lang.foreign.ValueLayout.JAVA_INT, 4)};
        }
    }

    @Test
    void descriptorsSentToOtherEndpointsAreClosed() throws Exception {
        int[] pipe = pipe();
        try (ApiClient c = api.client()) {
            assertEquals(200, c.request("GET", "vmm.ping", null, new int[] {pipe[1]}).status());
        }
        // The server's copy of the write end is gone: reading the pipe sees end of file.
        Linux.close(pipe[1]);
        try (java.lang.foreign.Arena a = java.lang.foreign.Arena.ofConfined()) {
            java.lang.foreign.MemorySegment b = a.allocate(1);
            assertEquals(0, Linux.read(pipe[0], b, 1));
        }
        Linux.close(pipe[0]);
    }

    @Test
    void bodyOverTheLimitIsRefusedAndTheServerLivesOn() throws Exception {
        int size = HttpRequestParser.MAX_BODY_BYTES + 1;
        ApiClient.Response r = raw("PUT /api/v1/vm.create HTTP/1.1\r\nContent-Length: " + size
                + "\r\n\r\n{");
        assertEquals(400, r.status());
        assertTrue(r.body().contains("larger than the limit of 4194304"), r.body());
        // A body of exactly the limit is read (and then refused: not a VmConfig object).
        StringBuilder big = new StringBuilder("[\"");
        big.repeat("a", HttpRequestParser.MAX_BODY_BYTES - big.length() - 2).append("\"]");
        assertEquals(HttpRequestParser.MAX_BODY_BYTES, big.length());
        ApiClient.Response full = api.call("PUT", "vm.create", big.toString());
        assertEquals(400, full.status());
        assertEquals(200, call("GET", "vmm.ping", null).status());
    }

    @Test
    void requestSplitAcrossManyWritesIsRead() throws Exception {
        String body = VM_JSON;
        byte[] request = ("PUT /api/v1/vm.create HTTP/1.1\r\nHost: localhost\r\n"
                + "Content-Length: " + body.length() + "\r\n\r\n" + body)
                .getBytes(StandardCharsets.US_ASCII);
        try (ApiClient c = ApiClient.over(UnixSocket.connect(api.socket.toString()))) {
            for (byte b : request) {
                c.sendRaw(new byte[] {b}, new int[0]);
            }
            assertEquals(204, c.readResponse().status());
            // The connection stays usable (persistent connections).
            assertEquals(200, ApiFixture.checked(c, "GET", "vm.info", null, new int[0])
                    .status());
        }
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws Exception {
        String two = "GET /api/v1/vmm.ping HTTP/1.1\r\n\r\n"
                + "GET /api/v1/vm.info HTTP/1.1\r\n\r\n";
        try (ApiClient c = ApiClient.over(UnixSocket.connect(api.socket.toString()))) {
            c.sendRaw(two.getBytes(StandardCharsets.US_ASCII), new int[0]);
            assertEquals(200, c.readResponse().status());
            assertEquals(404, c.readResponse().status());
        }
    }

    @Test
    void expectContinueGetsAnInterimResponse() throws Exception {
        UnixSocket s = UnixSocket.connect(api.socket.toString());
        try (ApiClient c = ApiClient.over(s)) {
            c.sendRaw(("PUT /api/v1/vm.create HTTP/1.1\r\nExpect: 100-continue\r\n"
                    + "Content-Length: " + VM_JSON.length() + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII), new int[0]);
            byte[] buf = new byte[256];
            UnixSocket.Received interim = s.receive(buf, 0);
            assertTrue(new String(buf, 0, interim.length(), StandardCharsets.US_ASCII)
                    .startsWith("HTTP/1.1 100 \r\n"));
            c.sendRaw(VM_JSON.getBytes(StandardCharsets.US_ASCII), new int[0]);
            assertEquals(204, c.readResponse().status());
        }
    }

    @Test
    void clientsThatDisconnectMidRequestDoNotHurtTheServer() throws Exception {
        for (String part : List.of("PUT /api/v1/vm.cre", "PUT /api/v1/vm.create HTTP/1.1\r\n",
                "PUT /api/v1/vm.create HTTP/1.1\r\nContent-Length: 500\r\n\r\n{\"cpus\":")) {
            UnixSocket s = UnixSocket.connect(api.socket.toString());
            byte[] b = part.getBytes(StandardCharsets.US_ASCII);
            s.send(b, 0, b.length);
            s.close();
        }
        // One that sends a request and leaves before reading the answer.
        UnixSocket s = UnixSocket.connect(api.socket.toString());
        byte[] b = "PUT /api/v1/vm.pause HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        s.send(b, 0, b.length);
        s.close();
        assertEquals(200, call("GET", "vmm.ping", null).status());
        assertEquals(404, call("GET", "vm.info", null).status());
    }

    @Test
    void malformedHeadersAreParseErrors() throws Exception {
        assertEquals(400, raw("GET /api/v1/vmm.ping HTTP/1.1\r\nNoColon\r\n\r\n").status());
        assertEquals(400, raw("PUT /api/v1/vm.create HTTP/1.1\r\nContent-Length: x\r\n\r\n")
                .status());
        assertEquals(400, raw("GET /api/v1/vmm.ping HTTP/2.0\r\n\r\n").status());
        assertEquals(400, raw("GARBAGE\r\n\r\n").status());
        assertEquals(200, call("GET", "vmm.ping", null).status());
    }

    @Test
    void fiftyClientsAtOnceAreAllAnswered() throws Exception {
        assertEquals(204, call("PUT", "vm.create", VM_JSON).status());
        int clients = 50;
        CountDownLatch ready = new CountDownLatch(clients);
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            List<Future<int[]>> results = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                results.add(pool.submit(() -> {
                    try (ApiClient c = api.client()) {
                        ready.countDown();
                        ready.await(10, TimeUnit.SECONDS);
                        int ping = c.request("GET", "vmm.ping", null, new int[0]).status();
                        int info = c.request("GET", "vm.info", null, new int[0]).status();
                        int pause = c.request("PUT", "vm.pause", null, new int[0]).status();
                        return new int[] {ping, info, pause};
                    }
                }));
            }
            for (Future<int[]> f : results) {
                assertArrayEquals(new int[] {200, 200, 405}, f.get(30, TimeUnit.SECONDS));
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void unsupportedEndpointsAnswerAtOnce() throws Exception {
        assertEquals(204, call("PUT", "vm.create", VM_JSON).status());
        for (String[] c : new String[][] {
            {"vm.add-device", "{\"path\":\"/sys/bus/pci/devices/0000:00:01.0\"}"},
            {"vm.add-vdpa", "{\"path\":\"/dev/vhost-vdpa-0\",\"num_queues\":1}"},
            {"vm.add-user-device", "{\"socket\":\"/tmp/u.sock\"}"},
            {"vm.add-generic-vhost-user",
                "{\"socket\":\"/tmp/g.sock\",\"device_type\":1,\"queue_sizes\":[256]}"},
            {"vm.restore", "{\"source_url\":\"file:///tmp/snap\"}"},
            {"vm.receive-migration", "{\"receiver_url\":\"unix:/tmp/m.sock\"}"},
            {"vm.send-migration", "{\"destination_url\":\"unix:/tmp/m.sock\"}"},
            {"vm.resize-disk", "{\"id\":\"d\",\"desired_size\":1048576}"},
            {"vm.resize-zone", "{\"id\":\"z\",\"desired_ram\":1048576}"},
        }) {
            ApiClient.Response r = call("PUT", c[0], c[1]);
            assertEquals(500, r.status(), c[0] + ": " + r.body());
            assertEquals("Error from API", errorChain(r.body()).get(0));
        }
        ApiClient.Response noPath = call("PUT", "vm.add-device", "{\"iommu\":true}");
        assertEquals(400, noPath.status());
    }

    @Test
    void secondServerOnTheSamePathIsRefusedAndStaleSocketsAreReplaced() throws Exception {
        ApiServer.ApiServerException e = assertThrows(ApiServer.ApiServerException.class,
                () -> ApiServer.bind(api.socket.toString(), new Endpoints(api.vmm)));
        assertTrue(e.getMessage().contains("in use"), e.getMessage());
        assertEquals(200, call("GET", "vmm.ping", null).status());

        // A socket file left behind by a VMM that died (nobody holds the lock).
        Path stale = dir.resolve("stale.sock");
        UnixSocket.listen(stale.toString(), 1).close();
        assertTrue(Files.exists(stale));
        ApiServer second = ApiServer.bind(stale.toString(), new Endpoints(api.vmm));
        second.start();
        try (ApiClient c = ApiClient.connect(stale.toString())) {
            assertEquals(200, c.request("GET", "vmm.ping", null, new int[0]).status());
        }
        second.close();
        assertFalse(Files.exists(stale), "socket removed on close");
    }
}
