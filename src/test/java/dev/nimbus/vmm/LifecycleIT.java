package dev.nimbus.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nimbus.sys.Linux;
import dev.nimbus.testkit.GuestKit;
import dev.nimbus.testkit.KitReport;
import dev.nimbus.testkit.NimbusProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** How a guest ends: power-off, reset (boots again in the same process), triple fault. */
class LifecycleIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private static String kernel() {
        return GuestKit.pvhGuest().toString();
    }

    @Test
    void powerOffEndsTheProcessWithExitCodeZero() {
        NimbusProcess.Result r = NimbusProcess.run(TIMEOUT, "--kernel", kernel(),
                "--cmdline", "kit.action=poweroff", "--serial", "tty", "--console", "off");
        assertEquals(0, r.exitCode(), r.stderr());
        assertTrue(r.report().done());
    }

    @ParameterizedTest
    @ValueSource(strings = {"reset", "i8042-reset"})
    void resetBootsTheGuestAgainInTheSameProcess(String action) {
        try (NimbusProcess p = NimbusProcess.start("--kernel", kernel(), "--cmdline",
                "kit.action=" + action, "--serial", "tty", "--console", "off")) {
            KitReport r = p.awaitReport(k -> k.lines("READY").size() >= 3, TIMEOUT);
            assertTrue(r.lines("READY").size() >= 3, p.diagnostics());
            assertTrue(p.isAlive(), "a reset must not end the VMM\n" + p.diagnostics());
            // Each boot before the last saw the whole machine again and asked for the reset.
            assertTrue(r.lines("DONE").size() >= 2, p.diagnostics());
            assertTrue(r.lines("ACTION").stream().allMatch(l -> l.raw().contains("name=" + action)));
        }
    }

    @Test
    void tripleFaultEndsTheProcessWithOneClearMessage() {
        NimbusProcess.Result r = NimbusProcess.run(TIMEOUT, "--kernel", kernel(),
                "--cmdline", "kit.action=triple-fault", "--serial", "tty", "--console", "off");
        assertEquals(1, r.exitCode(), r.stderr());
        assertTrue(Pattern.compile("nimbus: Guest triple fault \\(KVM_EXIT_SHUTDOWN\\) on vCPU 0"
                + " at RIP 0x[0-9a-f]+").matcher(r.stderr()).find(), r.stderr());
    }

    @Test
    void debugPortWritesAreLoggedWithTheTimeSinceStart() {
        NimbusProcess.Result r = NimbusProcess.run(TIMEOUT, "--kernel", kernel(),
                "--cmdline", "kit.debugport=0x41 kit.action=poweroff", "--serial", "null",
                "--console", "off");
        assertEquals(0, r.exitCode(), r.stderr());
        assertTrue(Pattern.compile("\\[Debug I/O port: Kernel code 0x41\\] \\d+\\.\\d{6} seconds")
                .matcher(r.stderr()).find(), r.stderr());
    }

    /**
     * Regression: a FIFO as the serial file was opened with a blocking open; with a reader it
     * must carry the guest's output, without one it is refused (see BadInputIT).
     */
    @Test
    void serialToAFifoWithAReaderCarriesTheOutput(@TempDir Path dir) throws Exception {
        Path fifo = dir.resolve("serial.fifo");
        Process mk = new ProcessBuilder("mkfifo", fifo.toString()).start();
        assertEquals(0, mk.waitFor());
        // A reader that is there before Nimbus starts, as a process reading the FIFO would
        // be; this one never reads: the thread below, whose open waits for Nimbus, does.
        int reader = Linux.open(fifo.toString(), Linux.O_RDONLY | Linux.O_NONBLOCK, 0);
        try {
            CompletableFuture<String> read = CompletableFuture.supplyAsync(() -> {
                try {
                    return Files.readString(fifo, StandardCharsets.ISO_8859_1);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            NimbusProcess.Result r = NimbusProcess.run(TIMEOUT, "--kernel", kernel(),
                    "--cmdline", "kit.action=poweroff", "--serial", "file=" + fifo,
                    "--console", "off");
            assertEquals(0, r.exitCode(), r.stderr());
            KitReport report = KitReport.parse(read.get(10, TimeUnit.SECONDS));
            assertTrue(report.ready() && report.done());
        } finally {
            Linux.close(reader);
        }
    }

    /**
     * Regression: --debug-console was parsed and shown in vm.info but no port was ever placed,
     * so its file stayed empty.
     */
    @Test
    void debugConsoleTakesTheGuestsBytesOnItsPort(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("debug-console.txt");
        NimbusProcess.Result r = NimbusProcess.run(TIMEOUT, "--kernel", kernel(),
                "--cmdline", "kit.portcon=0xe9 kit.portcon.text=hello-e9 kit.action=poweroff",
                "--serial", "null", "--console", "off", "--debug-console", "file=" + out);
        assertEquals(0, r.exitCode(), r.stderr());
        assertEquals("hello-e9\n", Files.readString(out));

        Path moved = dir.resolve("moved.txt");
        r = NimbusProcess.run(TIMEOUT, "--kernel", kernel(),
                "--cmdline", "kit.portcon=0x250 kit.portcon.text=on-0x250 kit.action=poweroff",
                "--serial", "null", "--console", "off",
                "--debug-console", "file=" + moved + ",iobase=0x250");
        assertEquals(0, r.exitCode(), r.stderr());
        assertEquals("on-0x250\n", Files.readString(moved));
    }

    /** Regression: the command line and the VMM both validated, and both warned. */
    @Test
    void aConfigurationWarningIsLoggedOnce() {
        NimbusProcess.Result r = NimbusProcess.run(TIMEOUT, "--kernel", kernel(),
                "--cmdline", "kit.action=poweroff", "--serial", "tty", "--console", "off",
                "--debug-console", "tty");
        assertEquals(0, r.exitCode(), r.stderr());
        assertEquals(1, r.stderr().split("Using TTY output for multiple consoles", -1).length - 1,
                r.stderr());
    }

    @Test
    void debugConsoleOnAPortThatIsTakenIsRefused(@TempDir Path dir) {
        NimbusProcess.Result r = NimbusProcess.run(TIMEOUT, "--kernel", kernel(),
                "--cmdline", "kit.action=poweroff", "--serial", "null", "--console", "off",
                "--debug-console", "file=" + dir.resolve("x") + ",iobase=0x3f8");
        assertEquals(1, r.exitCode(), r.stderr());
        assertEquals("nimbus: Debug console I/O port 0x3f8 is taken: port I/O range 0x3f8+0x1 for"
                + " debug-console overlaps serial at 0x3f8+0x8", r.stderr().strip());
    }

    @Test
    void serialToAFileKeepsEveryLineAndStdoutStaysQuiet(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("serial.log");
        NimbusProcess.Result r = NimbusProcess.run(TIMEOUT, "--kernel", kernel(),
                "--cmdline", "kit.action=poweroff", "--serial", "file=" + log, "--console", "off");
        assertEquals(0, r.exitCode(), r.stderr());
        assertEquals("", r.stdout());
        KitReport report = KitReport.parse(Files.readString(log));
        assertTrue(report.ready() && report.done(), Files.readString(log));
    }

    /**
     * Regression: each guest reset reopened (and truncated) the serial file and leaked the
     * previous descriptor. The file must keep every boot's output, open once.
     */
    @Test
    void serialFileKeepsEveryBootAcrossResetsAndIsOpenOnce(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("serial.log");
        try (NimbusProcess p = NimbusProcess.start("--kernel", kernel(), "--cmdline",
                "kit.action=reset", "--serial", "file=" + log, "--console", "off")) {
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            KitReport r = KitReport.parse("");
            while (System.nanoTime() < deadline) {
                r = KitReport.parse(Files.exists(log) ? Files.readString(log) : "");
                if (r.lines("READY").size() >= 4) {
                    break;
                }
                Thread.sleep(50);
            }
            assertTrue(r.lines("READY").size() >= 4, p.diagnostics());
            long open = 0;
            try (var fds = Files.list(Path.of("/proc/" + p.pid() + "/fd"))) {
                for (Path fd : fds.toList()) {
                    try {
                        if (Files.readSymbolicLink(fd).equals(log)) {
                            open++;
                        }
                    } catch (java.io.IOException e) {
                        // closed while we looked
                    }
                }
            }
            assertEquals(1, open, "descriptors open on the serial file");
        }
    }

    @Test
    void nullSerialDiscardsOutputButTheGuestStillRuns() {
        NimbusProcess.Result r = NimbusProcess.run(TIMEOUT, "--kernel", kernel(),
                "--cmdline", "kit.action=poweroff", "--serial", "null", "--console", "off");
        assertEquals(0, r.exitCode(), r.stderr());
        assertEquals("", r.stdout());
    }

    /**
     * A serial console whose reader has stopped reading must not stall the vCPU: with the
     * pipe to the reader full, the guest keeps running (vCPU 0 keeps using CPU time) and the
     * lines nobody took are dropped rather than queued behind a blocked write.
     */
    @Test
    void aConsoleNobodyReadsDoesNotStallTheGuest() throws Exception {
        Process p = new ProcessBuilder(NimbusProcess.launcher().toString(), "--kernel", kernel(),
                "--cmdline", "kit.action=flood", "--serial", "tty", "--console", "off")
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        try {
            java.io.InputStream in = p.getInputStream();
            // Nobody reads: wait until the pipe to us is full (64 KiB on Linux, less page slack).
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (in.available() < 61440 && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertTrue(in.available() >= 61440, "pipe never filled: " + in.available());
            // Then Nimbus's own 64 KiB buffer fills too (the flood runs at some 10-30 KB/s
            // under emulation); from here on every byte the guest prints has nowhere to go.
            Thread.sleep(10_000);
            long before = vcpuCpuTicks(p.pid());
            Thread.sleep(3000);
            long after = vcpuCpuTicks(p.pid());
            assertTrue(after - before > 50, "vCPU 0 used " + (after - before)
                    + " clock ticks in 3 s with its console blocked: it stalled");
            assertTrue(p.isAlive());
        } finally {
            p.destroyForcibly();
            p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
        }
    }

    /** User plus system CPU time of the thread named vcpu0, in clock ticks. */
    private static long vcpuCpuTicks(long pid) throws java.io.IOException {
        try (var tasks = java.nio.file.Files.list(java.nio.file.Path.of("/proc/" + pid + "/task"))) {
            for (java.nio.file.Path t : tasks.toList()) {
                if (java.nio.file.Files.readString(t.resolve("comm")).strip().equals("vcpu0")) {
                    String stat = java.nio.file.Files.readString(t.resolve("stat"));
                    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    return Long.parseLong(f[11]) + Long.parseLong(f[12]);
                }
            }
        }
        throw new AssertionError("no vcpu0 thread in process " + pid);
    }

    @Test
    void aGuestThatNeverStopsKeepsRunningUntilKilled() {
        try (NimbusProcess p = NimbusProcess.start("--kernel", kernel(), "--cmdline",
                "kit.action=tick kit.tick_ms=10", "--serial", "tty", "--console", "off")) {
            KitReport r = p.awaitReport(k -> k.ticks().size() >= 20, TIMEOUT);
            assertTrue(r.ticks().size() >= 20, p.diagnostics());
            OptionalInt code = p.awaitExit(Duration.ofMillis(200));
            assertTrue(code.isEmpty());
            assertNotEquals(0, p.pid());
        }
    }
}
