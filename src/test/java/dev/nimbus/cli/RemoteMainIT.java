package dev.nimbus.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nimbus.api.ApiClient;
import dev.nimbus.sys.Linux;
import dev.nimbus.testkit.GuestKit;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code nimbus-remote} against a running Nimbus: every subcommand the VMM implements, with the
 * output and exit code {@code ch-remote} gives, and a VMM that SIGTERM shuts down cleanly.
 */
class RemoteMainIT {
    @TempDir
    Path dir;

    /** What one nimbus-remote run printed. */
    record Run(int code, String out, String err) {}

    private Run remote(Path socket, String... args) {
        List<String> all = new ArrayList<>(List.of("--api-socket", socket.toString()));
        all.addAll(List.of(args));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = RemoteMain.run(all.toArray(String[]::new),
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(code, out.toString(StandardCharsets.UTF_8),
                err.toString(StandardCharsets.UTF_8));
    }

    private Process nimbus(Path socket, Path events, Path log, String... extra)
            throws IOException {
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                "dev.nimbus.cli.Main", "--api-socket", socket.toString(),
                "--event-monitor", "path=" + events));
        cmd.addAll(List.of(extra));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile())
                .start();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < deadline && p.isAlive()) {
            try (ApiClient c = ApiClient.connect(socket.toString())) {
                if (c.request("GET", "vmm.ping", null, new int[0]).status() == 200) {
                    return p;
                }
            } catch (IOException e) {
                // Not up yet.
            }
            sleep(20);
        }
        if (!p.isAlive()) {
            return p; // it already ran to its end, e.g. a guest that powers off at once
        }
        p.destroyForcibly();
        throw new AssertionError("Nimbus did not start: " + Files.readString(log));
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private String vmJson(Path serial) {
        return "{\"cpus\":{\"boot_vcpus\":1,\"max_vcpus\":1},\"memory\":{\"size\":67108864},"
                + "\"payload\":{\"kernel\":\"" + GuestKit.pvhGuest() + "\",\"cmdline\":"
                + "\"kit.action=tick kit.tick_ms=50\"},\"serial\":{\"mode\":\"File\",\"file\":\""
                + serial + "\"},\"console\":{\"mode\":\"Off\"}}";
    }

    @Test
    void everySubcommandRoundTrips() throws Exception {
        Path socket = dir.resolve("api.sock");
        Path serial = dir.resolve("serial.txt");
        Path json = dir.resolve("vm.json");
        Files.writeString(json, vmJson(serial));
        Process p = nimbus(socket, dir.resolve("events.json"), dir.resolve("log.txt"));
        int tap = -1;
        try {
            Run ping = remote(socket, "ping");
            assertEquals(0, ping.code());
            assertTrue(ping.out().contains("\"pid\":" + p.pid()), ping.out());

            Run noVm = remote(socket, "info");
            assertEquals(1, noVm.code());
            assertEquals("", noVm.out());
            assertEquals("""
                    Error: nimbus-remote exited with the following chain of errors:
                      0: http client error
                      1: Server responded with NotFound
                      2: Error from API
                      3: The VM info is not available
                      4: VM is not created
                    """, noVm.err());

            // The bug: the server answered an empty body, which the client printed as a JSON
            // parse error instead of the server's message.
            Path empty = dir.resolve("empty.json");
            Files.writeString(empty, "");
            assertEquals(new Run(1, "", """
                    Error: nimbus-remote exited with the following chain of errors:
                      0: http client error
                      1: Server responded with BadRequest
                      2: Bad Request
                    """), remote(socket, "create", empty.toString()));

            assertEquals(new Run(0, "", ""), remote(socket, "create", json.toString()));
            try (java.io.RandomAccessFile img = new java.io.RandomAccessFile(
                    dir.resolve("d.img").toFile(), "rw")) {
                img.setLength(1 << 20);
            }
            assertEquals(new Run(0, "", ""), remote(socket, "add-disk",
                    "path=" + dir.resolve("d.img") + ",readonly=on,id=disk7"));
            tap = dev.nimbus.api.NimbusProcessAccess.openTap(
                    "nbr" + (ProcessHandle.current().pid() % 100000));
            assertEquals(new Run(0, "", ""), remote(socket, "add-net",
                    "fd=[" + tap + "],mac=52:54:00:ab:cd:ef,id=net7"));
            assertEquals(new Run(0, "", ""), remote(socket, "add-pmem",
                    "file=" + dir.resolve("p.img") + ",size=1M,id=pmem7"));
            // virtio-fs needs shared memory, which this VM does not have: the VMM's 400.
            Run fs = remote(socket, "add-fs", "tag=share,socket=" + dir.resolve("fs.sock")
                    + ",id=fs7");
            assertEquals(1, fs.code());
            assertTrue(fs.err().contains("1: Server responded with BadRequest\n"), fs.err());
            assertTrue(fs.err().contains("5: Using vhost-user requires using shared memory"),
                    fs.err());
            assertEquals(new Run(0, "", ""), remote(socket, "add-vsock",
                    "cid=3,socket=" + dir.resolve("vsock.sock") + ",id=vsock7"));
            assertEquals(new Run(0, "", ""), remote(socket, "remove-device", "pmem7"));
            assertEquals(new Run(0, "", ""), remote(socket, "resize", "--memory", "128M"));
            Run info = remote(socket, "info");
            assertEquals(0, info.code());
            for (String s : List.of("disk7", "net7", "vsock7", "\"size\":134217728",
                    "\"state\":\"Created\"")) {
                assertTrue(info.out().contains(s), s + " in " + info.out());
            }
            assertFalse(info.out().contains("fs7") || info.out().contains("pmem7"), info.out());
            // virtio-vsock is not built yet: the VM would refuse to boot with it.
            assertEquals(new Run(0, "", ""), remote(socket, "remove-device", "vsock7"));

            Run paused = remote(socket, "pause");
            assertEquals(1, paused.code());
            assertTrue(paused.err().contains("4: VM is not running"), paused.err());

            assertEquals(new Run(0, "", ""), remote(socket, "boot"));
            Run counters = remote(socket, "counters");
            assertEquals(0, counters.code(), counters.err());
            assertTrue(counters.out().contains("\"disk7\":{") && counters.out().contains("\"net7\":{")
                    && counters.out().contains("\"read_bytes\":0")
                    && counters.out().contains("\"rx_bytes\":"), counters.out());
            assertEquals(new Run(0, "", ""), remote(socket, "pause"));
            assertEquals(new Run(0, "", ""), remote(socket, "resume"));
            assertEquals(new Run(0, "", ""), remote(socket, "power-button"));
            assertEquals(new Run(0, "", ""), remote(socket, "reboot"));
            assertTrue(remote(socket, "info").out().contains("\"state\":\"Running\""));
            Run snapshot = remote(socket, "snapshot", "file://" + dir);
            assertEquals(1, snapshot.code());
            assertTrue(snapshot.err().contains("1: Server responded with InternalServerError"),
                    snapshot.err());
            Run hot = remote(socket, "add-disk", "path=" + dir.resolve("e.img"));
            assertEquals(1, hot.code());
            assertEquals(new Run(0, "", ""), remote(socket, "shutdown"));
            assertEquals(new Run(0, "", ""), remote(socket, "delete"));
            // The reference server answers vmm.shutdown 200 with an empty body: one empty line.
            assertEquals(new Run(0, "\n", ""), remote(socket, "shutdown-vmm"));
            assertTrue(p.waitFor(10, TimeUnit.SECONDS));
            assertEquals(0, p.exitValue());
            assertFalse(Files.exists(socket));

            Run gone = remote(socket, "ping");
            assertEquals(1, gone.code());
            assertTrue(gone.err().startsWith("Error opening HTTP socket"), gone.err());
        } finally {
            p.destroyForcibly();
            if (tap >= 0) {
                Linux.close(tap);
            }
        }
    }

    @Test
    void usageErrorsExitWithTwo() {
        Path socket = dir.resolve("none.sock");
        assertEquals(2, remote(socket, "no-such-command").code());
        assertEquals(2, remote(socket, "add-disk").code());
        Run bad = remote(socket, "add-disk", "foo=bar");
        assertEquals(1, bad.code());
        assertTrue(bad.err().contains("0: Error parsing disk syntax"), bad.err());
    }

    @Test
    void sigtermShutsTheVmmDownCleanly() throws Exception {
        Path socket = dir.resolve("api.sock");
        Path events = dir.resolve("events.json");
        Path serial = dir.resolve("serial.txt");
        Path log = dir.resolve("log.txt");
        Process p = nimbus(socket, events, log, "--kernel", GuestKit.pvhGuest().toString(),
                "--cmdline", "kit.action=tick kit.tick_ms=50", "--memory", "size=64M",
                "--serial", "file=" + serial, "--console", "off");
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!Files.exists(serial) || !Files.readString(serial).contains("KIT-TICK")) {
            assertTrue(System.nanoTime() < deadline, "no ticks: " + Files.readString(log));
            sleep(50);
        }
        p.destroy(); // SIGTERM
        assertTrue(p.waitFor(15, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), Files.readString(log));
        assertFalse(Files.exists(socket), "socket removed");
        assertEquals(List.of("vmm/starting", "vm/booting", "vm/booted", "vm/shutdown",
                "vm/deleted", "vmm/shutdown"), dev.nimbus.api.NimbusProcessAccess.events(events));
    }

    @Test
    void guestPowerOffEndsTheVmmAndNoShutdownKeepsItServing() throws Exception {
        Path socket = dir.resolve("api.sock");
        Path events = dir.resolve("events.json");
        Path log = dir.resolve("log.txt");
        String[] guest = {"--kernel", GuestKit.pvhGuest().toString(), "--cmdline",
            "kit.action=poweroff", "--memory", "size=64M", "--serial", "null", "--console", "off"};
        List<String> args = new ArrayList<>(List.of(guest));
        args.add("--no-shutdown");
        Process stays = nimbus(socket, events, log, args.toArray(String[]::new));
        try {
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (!remote(socket, "info").out().contains("\"state\":\"Created\"")) {
                assertTrue(System.nanoTime() < deadline, Files.readString(log));
                sleep(50);
            }
            assertTrue(stays.isAlive());
            assertEquals(new Run(0, "\n", ""), remote(socket, "shutdown-vmm"));
            assertTrue(stays.waitFor(10, TimeUnit.SECONDS));
            assertEquals(List.of("vmm/starting", "vm/booting", "vm/booted", "vm/shutdown",
                    "vm/deleted", "vmm/shutdown"),
                    dev.nimbus.api.NimbusProcessAccess.events(events));
        } finally {
            stays.destroyForcibly();
        }

        // Without --no-shutdown the power-off ends the VMM with 0.
        Path socket2 = dir.resolve("api2.sock");
        Process ends = nimbus(socket2, dir.resolve("events2.json"), dir.resolve("log2.txt"),
                guest);
        assertTrue(ends.waitFor(20, TimeUnit.SECONDS));
        assertEquals(0, ends.exitValue());
        assertFalse(Files.exists(socket2));
    }
}
