package dev.nimbus.testkit;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A kit guest booted under QEMU with KVM: a second VMM to check the kit against, independent of
 * Nimbus.
 *
 * <p>QEMU runs with {@code -nographic -no-reboot}, so the guest's UART is QEMU's standard output
 * and a guest reset or triple fault ends QEMU like a power-off does.
 */
public final class QemuGuest implements AutoCloseable {
    public static final String QEMU = "qemu-system-x86_64";

    /**
     * {@code -cpu host} alone fails on hosts whose KVM refuses IA32_ARCH_CAPABILITIES (MSR 0x10a),
     * as KVM-PVM does; the guests do not need that MSR.
     */
    public static final String CPU_MODEL = "host,-arch-capabilities";

    private static final long POLL_MILLIS = 20;

    private final Process process;
    private final Path dir;
    private final Path stdout;
    private final Path stderr;
    private final List<String> command;

    private QemuGuest(Process process, Path dir, List<String> command) {
        this.process = process;
        this.dir = dir;
        this.stdout = dir.resolve("stdout");
        this.stderr = dir.resolve("stderr");
        this.command = command;
    }

    /** Whether QEMU is installed. */
    public static boolean available() {
        return GuestKit.findOnPath(QEMU) != null;
    }

    /**
     * Starts QEMU with KVM.
     *
     * @param machine the {@code -M} value, e.g. {@code microvm,rtc=on} or {@code q35}
     * @param initrd  the {@code -initrd} file, or null
     * @param extra   more QEMU arguments
     */
    public static QemuGuest start(String machine, int cpus, int memoryMib, Path kernel,
                                  String cmdline, Path initrd, List<String> extra) {
        List<String> cmd = new ArrayList<>(List.of(QEMU, "-M", machine, "-enable-kvm",
                "-cpu", CPU_MODEL, "-smp", Integer.toString(cpus), "-m", memoryMib + "M",
                "-nographic", "-no-reboot", "-kernel", kernel.toString(), "-append", cmdline));
        if (initrd != null) {
            cmd.add("-initrd");
            cmd.add(initrd.toString());
        }
        cmd.addAll(extra);
        try {
            Path dir = Files.createTempDirectory("nimbus-qemu-");
            Process p = new ProcessBuilder(cmd)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(dir.resolve("stdout").toFile())
                    .redirectError(dir.resolve("stderr").toFile())
                    .start();
            return new QemuGuest(p, dir, cmd);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start QEMU: command=" + cmd, e);
        }
    }

    /** What the guest printed so far. */
    public KitReport report() {
        return KitReport.parse(read(stdout));
    }

    /**
     * Waits until the report satisfies {@code condition} or QEMU exits, at most
     * {@code timeout}; returns the report as it then stands.
     */
    public KitReport awaitReport(Predicate<KitReport> condition, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            KitReport r = report();
            if (condition.test(r) || !process.isAlive() || System.nanoTime() > deadline) {
                return process.isAlive() ? r : report();
            }
            sleep(POLL_MILLIS);
        }
    }

    /** Waits for QEMU to exit; empty when it still runs after {@code timeout}. */
    public OptionalInt awaitExit(Duration timeout) {
        try {
            if (process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                return OptionalInt.of(process.exitValue());
            }
            return OptionalInt.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return OptionalInt.empty();
        }
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** The command line and everything QEMU printed, for assertion messages. */
    public String diagnostics() {
        return "command: " + String.join(" ", command) + "\nstderr:\n" + read(stderr)
                + "\nstdout:\n" + read(stdout);
    }

    /** Kills QEMU if it still runs and deletes its output files. */
    @Override
    public void close() {
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Path p : List.of(stdout, stderr, dir)) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException e) {
                // Left in the temp folder; harmless.
            }
        }
    }

    private static String read(Path p) {
        try {
            return Files.exists(p) ? Files.readString(p, StandardCharsets.ISO_8859_1) : "";
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read QEMU output: file=" + p, e);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
