package dev.nimbus.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The project's Linux guest assets (Debian's cloud kernel as bzImage and as PVH vmlinux, and the
 * busybox initramfs), made and cached by {@code scripts/guest-assets.sh}. A test that needs them
 * fails with the script's own error when they cannot be made; it never skips.
 */
public final class GuestAssets {
    private static Map<String, Path> paths;

    private GuestAssets() {}

    public static Path bzImage() {
        return path("bzImage");
    }

    public static Path vmlinux() {
        return path("vmlinux");
    }

    public static Path initramfs() {
        return path("initramfs");
    }

    private static synchronized Path path(String name) {
        if (paths == null) {
            paths = make();
        }
        Path p = paths.get(name);
        if (p == null) {
            throw new AssertionError("scripts/guest-assets.sh printed no " + name + "= path: " + paths);
        }
        return p;
    }

    private static Map<String, Path> make() {
        Path script = NimbusProcess.home().resolve("scripts/guest-assets.sh");
        try {
            Process p = new ProcessBuilder(script.toString(), "-q")
                    .redirectError(ProcessBuilder.Redirect.INHERIT)
                    .start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(20, TimeUnit.MINUTES) || p.exitValue() != 0) {
                throw new AssertionError(script + " failed (exit " + p.exitValue() + "); output:\n" + out);
            }
            Map<String, Path> map = new HashMap<>();
            for (String line : out.split("\\s+")) {
                int eq = line.indexOf('=');
                if (eq > 0) {
                    map.put(line.substring(0, eq), Path.of(line.substring(eq + 1)));
                }
            }
            return map;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}
