package dev.nimbus.vhost;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Host commands the Linux-guest tests run, with their output for assertion messages. */
final class Commands {
    record Result(int exitCode, String output, byte[] stdout) {}

    private Commands() {}

    /** Runs {@code cmd} to its end (at most {@code timeoutSeconds}); stderr goes to output. */
    static Result run(long timeoutSeconds, String... cmd) throws IOException,
            InterruptedException {
        Path err = java.nio.file.Files.createTempFile("nimbus-cmd-", ".err");
        try {
            Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("timed out: " + String.join(" ", cmd));
            }
            String text = new String(out, StandardCharsets.ISO_8859_1)
                    + java.nio.file.Files.readString(err, StandardCharsets.ISO_8859_1);
            return new Result(p.exitValue(), text, out);
        } finally {
            java.nio.file.Files.deleteIfExists(err);
        }
    }

    /** Runs {@code cmd} and fails the test unless it exits 0. */
    static Result check(long timeoutSeconds, String... cmd) throws IOException,
            InterruptedException {
        Result r = run(timeoutSeconds, cmd);
        if (r.exitCode() != 0) {
            throw new AssertionError(String.join(" ", cmd) + " failed: exit=" + r.exitCode()
                    + "\n" + r.output());
        }
        return r;
    }

    /** The project's guest root file system, made or taken from the cache. */
    static Path rootfs() throws IOException, InterruptedException {
        Path script = dev.nimbus.testkit.NimbusProcess.home().resolve("scripts/guest-rootfs.sh");
        Result r = check(1800, script.toString(), "-q");
        for (String line : r.output().split("\\s+")) {
            if (line.startsWith("rootfs=")) {
                return Path.of(line.substring("rootfs=".length()));
            }
        }
        throw new AssertionError("guest-rootfs.sh printed no rootfs= line:\n" + r.output());
    }

    static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static List<String> lines(String s) {
        return s.lines().toList();
    }
}
