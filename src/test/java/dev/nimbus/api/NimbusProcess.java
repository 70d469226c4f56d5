package dev.nimbus.api;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.nimbus.sys.Linux;
import dev.nimbus.sys.SyscallException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A Nimbus VMM in a process of its own, started from this build's classes with its API socket
 * and event monitor in a test folder, the way an orchestrator starts one.
 */
final class NimbusProcess implements AutoCloseable {
    final Path socket;
    final Path events;
    final Path log;
    final Process process;

    NimbusProcess(Path dir, String... extraArgs) throws IOException {
        socket = dir.resolve("api.sock");
        events = dir.resolve("events.json");
        log = dir.resolve("nimbus.log");
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC",
                "-cp", System.getProperty("java.class.path"), "dev.nimbus.cli.Main",
                "--api-socket", "path=" + socket, "--event-monitor", "path=" + events));
        cmd.addAll(List.of(extraArgs));
        process = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        // As Kata does: ping until the API answers.
        waitFor(10_000, "API socket " + socket, () -> {
            try (ApiClient c = ApiClient.connect(socket.toString())) {
                return c.request("GET", "vmm.ping", null, new int[0]).status() == 200;
            } catch (IOException e) {
                return false;
            }
        });
    }

    long pid() {
        return process.pid();
    }

    ApiClient client() throws IOException {
        return ApiClient.connect(socket.toString());
    }

    /** Waits up to {@code millis} for {@code condition}; fails naming {@code what}. */
    static void waitFor(long millis, String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + millis * 1_000_000;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("Timed out waiting for " + what);
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail("Interrupted waiting for " + what);
            }
        }
    }

    /** Waits for the process to end; returns its exit code. */
    int awaitExit(long millis) throws InterruptedException, IOException {
        assertTrue(process.waitFor(millis, TimeUnit.MILLISECONDS),
                "Nimbus did not exit; log:\n" + Files.readString(log));
        return process.exitValue();
    }

    String logText() throws IOException {
        return Files.readString(log);
    }

    /** The names of the taps the VMM holds open, from its descriptors' fdinfo. */
    List<String> tapsHeld() throws IOException {
        List<String> taps = new ArrayList<>();
        Path fdinfo = Path.of("/proc", Long.toString(pid()), "fdinfo");
        try (var files = Files.list(fdinfo)) {
            for (Path p : files.toList()) {
                try {
                    for (String line : Files.readAllLines(p)) {
                        if (line.startsWith("iff:")) {
                            taps.add(line.substring(4).trim());
                        }
                    }
                } catch (IOException e) {
                    // The descriptor closed while we looked.
                }
            }
        }
        return taps;
    }

    /**
     * Creates a tap device named {@code name} (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR) and returns
     * its descriptor. The tap is not persistent: it goes away when the last descriptor closes.
     */
    static int openTap(String name) throws SyscallException {
        final long tunsetiff = 0x400454caL; // _IOW('T', 202, int)
        final short flags = 0x0002 | 0x1000 | 0x4000;
        int fd = Linux.open("/dev/net/tun", Linux.O_RDWR, 0);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ifreq = a.allocate(40, 8);
            byte[] n = name.getBytes(StandardCharsets.US_ASCII);
            MemorySegment.copy(n, 0, ifreq, ValueLayout.JAVA_BYTE, 0, n.length);
            ifreq.set(ValueLayout.JAVA_SHORT, 16, flags);
            Linux.ioctl(fd, tunsetiff, ifreq, "ioctl TUNSETIFF");
            return fd;
        } catch (SyscallException e) {
            Linux.close(fd);
            throw e;
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
