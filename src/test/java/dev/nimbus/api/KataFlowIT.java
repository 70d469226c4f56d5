package dev.nimbus.api;

import static dev.nimbus.api.OpenApiContract.assertRequestValid;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nimbus.json.JsonArray;
import dev.nimbus.json.JsonNumber;
import dev.nimbus.json.JsonObject;
import dev.nimbus.json.JsonParser;
import dev.nimbus.json.JsonString;
import dev.nimbus.json.JsonValue;
import dev.nimbus.sys.Linux;
import dev.nimbus.testkit.GuestKit;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kata Containers' way of running a VM, over the API socket of a Nimbus process: ping until it
 * answers, create, add a tap (its descriptor passed as SCM_RIGHTS) and a disk, boot, check the
 * state, then pause, resume, shut down, boot again, delete and shut the VMM down. The guest is
 * the test kit in tick mode, whose serial output shows each step took effect; the event monitor
 * must report the steps in the reference order.
 */
class KataFlowIT {
    private static final Pattern TICK = Pattern.compile("KIT-TICK n=(\\d+)");

    @TempDir
    Path dir;

    private Path serial;

    private String vmConfig(Path disk) {
        // Fields as Kata's generated client sends them, defaults spelled out.
        return "{\"cpus\":{\"boot_vcpus\":1,\"max_vcpus\":1,\"topology\":{\"threads_per_core\":1,"
                + "\"cores_per_die\":1,\"dies_per_package\":1,\"packages\":1}},"
                + "\"memory\":{\"size\":67108864,\"shared\":false,\"hugepages\":false},"
                + "\"payload\":{\"kernel\":\"" + GuestKit.pvhGuest() + "\","
                + "\"cmdline\":\"kit.action=tick kit.tick_ms=50\"},"
                + "\"disks\":[{\"path\":\"" + disk + "\",\"readonly\":true}],"
                + "\"rng\":{\"src\":\"/dev/urandom\"},"
                + "\"serial\":{\"mode\":\"File\",\"file\":\"" + serial + "\"},"
                + "\"console\":{\"mode\":\"Off\"},"
                + "\"platform\":{\"num_pci_segments\":1}}";
    }

    private static ApiClient.Response call(ApiClient c, String method, String endpoint,
            String body, int... fds) throws IOException {
        if (body != null) {
            assertRequestValid(method, endpoint, body);
        }
        return ApiFixture.checked(c, method, endpoint, body, fds);
    }

    private String serialText() {
        try {
            return Files.readString(serial, StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            return "";
        }
    }

    private int ticks() {
        Matcher m = TICK.matcher(serialText());
        int last = 0;
        while (m.find()) {
            last = Integer.parseInt(m.group(1));
        }
        return last;
    }

    private static String state(ApiClient c) throws IOException {
        ApiClient.Response info = call(c, "GET", "vm.info", null);
        assertEquals(200, info.status(), info.body());
        return ((JsonString) ((JsonObject) JsonParser.parse(info.body())).get("state")).value();
    }

    @Test
    void kataBootFlowOverTheApiSocket() throws Exception {
        serial = dir.resolve("serial.txt");
        Path disk = dir.resolve("root.img");
        Path disk2 = dir.resolve("data.img");
        Files.write(disk, new byte[1 << 20]);
        Files.write(disk2, new byte[1 << 20]);
        String tapName = "nbt" + (ProcessHandle.current().pid() % 100000);
        int tap = NimbusProcess.openTap(tapName);
        try (NimbusProcess nimbus = new NimbusProcess(dir);
                ApiClient c = nimbus.client()) {
            // One connection for every request, as Kata's runtime-rs keeps one.
            assertEquals(200, call(c, "GET", "vmm.ping", null).status());
            assertEquals(204, call(c, "PUT", "vm.create", vmConfig(disk)).status());
            assertEquals("Created", state(c));

            String net = "{\"mac\":\"52:54:00:12:34:56\",\"num_queues\":2,\"queue_size\":256,"
                    + "\"ip\":\"192.168.249.1\",\"mask\":\"255.255.255.0\",\"iommu\":false,"
                    + "\"vhost_user\":false,\"vhost_mode\":\"Client\"}";
            assertEquals(204, call(c, "PUT", "vm.add-net", net, tap).status());
            Linux.close(tap);
            tap = -1;
            assertEquals(List.of(tapName), nimbus.tapsHeld(), "the VMM holds the tap");
            assertEquals(204, call(c, "PUT", "vm.add-disk",
                    "{\"path\":\"" + disk2 + "\",\"readonly\":false,\"id\":\"data\"}").status());

            assertEquals(204, call(c, "PUT", "vm.boot", null).status());
            ApiClient.Response info = call(c, "GET", "vm.info", null);
            JsonObject vm = (JsonObject) JsonParser.parse(info.body());
            assertEquals("Running", ((JsonString) vm.get("state")).value());
            JsonObject config = (JsonObject) vm.get("config");
            assertEquals(2, ((JsonArray) config.get("disks")).elements().size());
            assertTrue(info.body().contains(disk2.toString()), info.body());
            JsonObject netJson = (JsonObject) ((JsonArray) config.get("net")).elements().get(0);
            assertEquals("52:54:00:12:34:56", ((JsonString) netJson.get("mac")).value());
            assertTrue(((JsonObject) vm.get("device_tree")).members().containsKey("__serial"));

            NimbusProcess.waitFor(20_000, "guest ticks", () -> ticks() >= 3);
            assertTrue(serialText().contains("KIT-READY"));

            // Paused: not one more tick.
            assertEquals(204, call(c, "PUT", "vm.pause", null).status());
            assertEquals("Paused", state(c));
            Thread.sleep(300); // the last line printed before the pause reaches the file
            int atPause = ticks();
            Thread.sleep(1000);
            assertEquals(atPause, ticks(), "a paused guest printed");

            // Resumed: ticking again.
            assertEquals(204, call(c, "PUT", "vm.resume", null).status());
            assertEquals("Running", state(c));
            NimbusProcess.waitFor(10_000, "ticks after resume", () -> ticks() >= atPause + 3);

            // Shut down: the config stays, nothing runs.
            assertEquals(204, call(c, "PUT", "vm.shutdown", null).status());
            assertEquals("Created", state(c));
            Thread.sleep(200);
            int atShutdown = ticks();
            Thread.sleep(500);
            assertEquals(atShutdown, ticks());

            // Boot again: a fresh guest, counting from 1.
            Files.writeString(serial, "");
            assertEquals(204, call(c, "PUT", "vm.boot", null).status());
            assertEquals("Running", state(c));
            NimbusProcess.waitFor(20_000, "ticks of the second boot", () -> ticks() >= 2);
            assertTrue(serialText().contains("KIT-READY"));
            assertTrue(serialText().contains("KIT-TICK n=1 "), serialText());

            assertEquals(204, call(c, "PUT", "vm.delete", null).status());
            assertEquals(404, call(c, "GET", "vm.info", null).status());
            assertEquals(List.of(), nimbus.tapsHeld(), "the tap closed with the config");

            ApiClient.Response bye = call(c, "PUT", "vmm.shutdown", null);
            assertEquals(200, bye.status());
            assertEquals("", bye.body());
            assertEquals(0, nimbus.awaitExit(10_000), nimbus.logText());
            assertFalse(Files.exists(nimbus.socket), "API socket removed on exit");

            assertEquals(List.of("vmm/starting", "vm/booting", "vm/booted", "vm/pausing",
                    "vm/paused", "vm/resuming", "vm/resumed", "vm/shutdown", "vm/booting",
                    "vm/booted", "vm/shutdown", "vm/deleted", "vmm/shutdown"),
                    events(nimbus.events));
        } finally {
            if (tap >= 0) {
                Linux.close(tap);
            }
        }
    }

    /**
     * The events of a monitor file as {@code source/event}, checking each record's shape: a
     * pretty-printed object followed by a blank line, with a {@code {secs, nanos}} timestamp
     * that never goes back.
     */
    static List<String> events(Path file) throws IOException {
        String text = Files.readString(file);
        assertTrue(text.endsWith("}\n\n"), text);
        List<String> out = new ArrayList<>();
        double last = 0;
        for (String record : text.split("\n\n")) {
            assertTrue(record.startsWith("{\n  \"timestamp\": {\n    \"secs\": "), record);
            JsonObject e = (JsonObject) JsonParser.parse(record);
            assertEquals(List.of("timestamp", "source", "event", "properties"),
                    List.copyOf(e.members().keySet()));
            JsonObject ts = (JsonObject) e.get("timestamp");
            double t = Long.parseLong(((JsonNumber) ts.get("secs")).text())
                    + Long.parseLong(((JsonNumber) ts.get("nanos")).text()) / 1e9;
            assertTrue(t >= last, "timestamps go forward: " + text);
            last = t;
            JsonValue source = e.get("source");
            out.add(((JsonString) source).value() + "/" + ((JsonString) e.get("event")).value());
        }
        return out;
    }
}
