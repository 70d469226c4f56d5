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
 * Nimbus started as a user starts it, {@code bin/nimbus} with a command line, in its own process;
 * its standard output (the guest's serial console with {@code --serial tty}) and standard error
 * go to files the test reads.
 */
public final class NimbusProcess implements AutoCloseable {
    private static final long POLL_MILLIS = 10;

    private final Process process;
    private final Path dir;
    private final List<String> command;
    private final long startNanos;

    private NimbusProcess(Process process, Path dir, List<String> command, long startNanos) {
        this.process = process;
        this.dir = dir;
        this.command = command;
        this.startNanos = startNanos;
    }

    /** The repository root: where {@code bin/nimbus} and {@code target/nimbus.jar} are. */
    public static Path home() {
        String home = System.getProperty("nimbus.home");
        return Path.of(home != null ? home : ".").toAbsolutePath();
    }

    public static Path launcher() {
        return home().resolve("bin/nimbus");
    }

    /** Starts {@code bin/nimbus args...}. */
    public static NimbusProcess start(String... args) {
        return start(List.of(args));
    }

    public static NimbusProcess start(List<String> args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(launcher().toString());
        cmd.addAll(args);
        try {
            Path dir = Files.createTempDirectory("nimbus-run-");
            long t0 = System.nanoTime();
            Process p = new ProcessBuilder(cmd)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(dir.resolve("stdout").toFile())
                    .redirectError(dir.resolve("stderr").toFile())
                    .start();
            return new NimbusProcess(p, dir, cmd, t0);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start nimbus: command=" + cmd, e);
        }
    }

    /** Runs {@code bin/nimbus args...} to its end (at most {@code timeout}). */
    public static Result run(Duration timeout, String... args) {
        try (NimbusProcess p = start(args)) {
            OptionalInt code = p.awaitExit(timeout);
            if (code.isEmpty()) {
                throw new AssertionError("nimbus did not exit within " + timeout + "\n" + p.diagnostics());
            }
            return new Result(code.getAsInt(), p.stdout(), p.stderr());
        }
    }

    /** What a finished run left behind. */
    public record Result(int exitCode, String stdout, String stderr) {
        public KitReport report() {
            return KitReport.parse(stdout);
        }
    }

    public String stdout() {
        return read(dir.resolve("stdout"));
    }

    public String stderr() {
        return read(dir.resolve("stderr"));
    }

    public KitReport report() {
        return KitReport.parse(stdout());
    }

    /** Nanoseconds since the process was started. */
    public long elapsedNanos() {
        return System.nanoTime() - startNanos;
    }

    /** Waits until the output satisfies {@code condition} or the process exits. */
    public String awaitStdout(Predicate<String> condition, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            String out = stdout();
            if (condition.test(out) || !process.isAlive() || System.nanoTime() > deadline) {
                return process.isAlive() ? out : stdout();
            }
            sleep(POLL_MILLIS);
        }
    }

    public KitReport awaitReport(Predicate<KitReport> condition, Duration timeout) {
        return KitReport.parse(awaitStdout(s -> condition.test(KitReport.parse(s)), timeout));
    }

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

    public long pid() {
        return process.pid();
    }

    /** The command and all output, for assertion messages. */
    public String diagnostics() {
        String out = stdout();
        if (out.length() > 20_000) {
            out = "..." + out.substring(out.length() - 20_000);
        }
        return "command: " + String.join(" ", command) + "\nstderr:\n" + stderr()
                + "\nstdout:\n" + out;
    }

    @Override
    public void close() {
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (String f : List.of("stdout", "stderr")) {
            try {
                Files.deleteIfExists(dir.resolve(f));
            } catch (IOException e) {
                // Left in the temp folder; harmless.
            }
        }
        try {
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            // Not empty or gone; harmless.
        }
    }

    private static String read(Path p) {
        try {
            return Files.exists(p) ? Files.readString(p, StandardCharsets.ISO_8859_1) : "";
        } catch (IOException e) {
            return "";
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
