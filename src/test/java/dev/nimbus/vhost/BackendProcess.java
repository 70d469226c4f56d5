package dev.nimbus.vhost;

import dev.nimbus.testkit.NimbusProcess;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A back-end program ({@code bin/nimbus-vhost-user-blk}, {@code bin/nimbus-vhost-user-net})
 * started as a user starts it, optionally inside a network namespace, with its output in a
 * file. Closing it sends SIGTERM, as a service manager would.
 */
final class BackendProcess implements AutoCloseable {
    private final Process process;
    private final Path log;

    private BackendProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    /**
     * Starts {@code bin/<program> args...} (inside {@code netns} unless null) and waits for
     * {@code socket} to appear, unless the back-end connects instead ({@code socket} null).
     */
    static BackendProcess start(String netns, String program, Path socket, Path log,
            String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        if (netns != null) {
            cmd.addAll(List.of("ip", "netns", "exec", netns));
        }
        cmd.add(NimbusProcess.home().resolve("bin").resolve(program).toString());
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(log.toFile()).redirectErrorStream(true).start();
        BackendProcess b = new BackendProcess(p, log);
        if (socket != null) {
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (!Files.exists(socket) && p.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            if (!Files.exists(socket)) {
                b.close();
                throw new AssertionError(program + " did not create " + socket + ":\n"
                        + b.log());
            }
        }
        return b;
    }

    boolean isAlive() {
        return process.isAlive();
    }

    String log() {
        try {
            return Files.exists(log) ? Files.readString(log) : "";
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e.getMessage() + ")";
        }
    }

    /** Sends SIGTERM and waits for the exit; the exit status, or -1 if it had to be killed. */
    int stop() throws InterruptedException {
        process.destroy();
        if (process.waitFor(15, TimeUnit.SECONDS)) {
            return process.exitValue();
        }
        process.destroyForcibly();
        process.waitFor(5, TimeUnit.SECONDS);
        return -1;
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            stop();
        }
    }
}
