package dev.nimbus.vhost;

import dev.nimbus.testkit.GuestAssets;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real Linux guest (the project's kernel and initramfs, {@code scripts/guest-assets.sh}) under
 * QEMU with software emulation, on a q35 machine whose RAM is a shared memfd, so vhost-user
 * back-ends can map it. Test scripts ride along in a second cpio archive appended to the
 * initramfs; the guest runs one with {@code nimbus.run=}.
 */
final class TcgLinuxGuest implements AutoCloseable {
    static final String QEMU = "qemu-system-x86_64";
    private static final Pattern FIELD = Pattern.compile("(\\w+)=(\\S*)");

    private final Process process;
    private final Path dir;
    private final List<String> command;

    private TcgLinuxGuest(Process process, Path dir, List<String> command) {
        this.process = process;
        this.dir = dir;
        this.command = command;
    }

    /**
     * Boots with {@code memMiB} of shared RAM, {@code files} (guest path to content) added to the
     * initramfs, {@code append} on the kernel command line and {@code devices} as QEMU arguments.
     */
    static TcgLinuxGuest boot(int cpus, int memMiB, Map<String, String> files, String append,
            List<String> devices) throws IOException {
        Path dir = Files.createTempDirectory("nimbus-tcg-");
        Path initrd = dir.resolve("initrd");
        Files.copy(GuestAssets.initramfs(), initrd);
        if (!files.isEmpty()) {
            appendCpio(dir, initrd, files);
        }
        List<String> cmd = new ArrayList<>(List.of(QEMU, "-accel", "tcg", "-M", "q35",
                "-smp", String.valueOf(cpus), "-m", memMiB + "M",
                "-object", "memory-backend-memfd,id=mem,size=" + memMiB + "M,share=on",
                "-numa", "node,memdev=mem",
                "-nodefaults", "-no-reboot", "-display", "none", "-serial", "stdio",
                "-kernel", GuestAssets.bzImage().toString(), "-initrd", initrd.toString(),
                "-append", "console=ttyS0 reboot=k panic=1 " + tcgTimingHints() + append));
        cmd.addAll(devices);
        Process p = new ProcessBuilder(cmd)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(dir.resolve("console").toFile())
                .redirectErrorStream(true)
                .start();
        return new TcgLinuxGuest(p, dir, cmd);
    }

    /** Adds {@code files} as a newc cpio archive after the gzip one; Linux unpacks both. */
    private static void appendCpio(Path dir, Path initrd, Map<String, String> files)
            throws IOException {
        Path root = Files.createDirectory(dir.resolve("extra"));
        StringBuilder list = new StringBuilder();
        for (Map.Entry<String, String> f : files.entrySet()) {
            Path p = root.resolve(f.getKey().replaceFirst("^/", ""));
            Files.createDirectories(p.getParent());
            Files.writeString(p, f.getValue());
            list.append(root.relativize(p)).append('\n');
        }
        // The kernel looks for the next archive at a 4-byte boundary and skips zero padding.
        long size = Files.size(initrd);
        if (size % 4 != 0) {
            Files.write(initrd, new byte[(int) (4 - size % 4)],
                    java.nio.file.StandardOpenOption.APPEND);
        }
        Process cpio = new ProcessBuilder("cpio", "-o", "-H", "newc", "--quiet", "-R", "0:0")
                .directory(root.toFile())
                .redirectOutput(ProcessBuilder.Redirect.appendTo(initrd.toFile()))
                .start();
        try (OutputStream in = cpio.getOutputStream()) {
            in.write(list.toString().getBytes(StandardCharsets.UTF_8));
        }
        try {
            if (!cpio.waitFor(30, TimeUnit.SECONDS) || cpio.exitValue() != 0) {
                throw new IOException("cpio failed: exit=" + cpio.exitValue());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    /** See docs/setup.md: without these a TCG guest on a busy host can hang at boot. */
    static String tcgTimingHints() throws IOException {
        long khz = 2_000_000;
        for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
            if (line.startsWith("cpu MHz")) {
                khz = Math.round(Double.parseDouble(line.substring(line.indexOf(':') + 1).trim())
                        * 1000);
                break;
            }
        }
        return "tsc_early_khz=" + khz + " tsc=reliable ";
    }

    /** The console output so far. */
    String output() {
        try {
            Path c = dir.resolve("console");
            return Files.exists(c) ? Files.readString(c, StandardCharsets.ISO_8859_1)
                    .replace("\r", "") : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Waits until a console line starts with {@code marker} or QEMU exits; true if seen. */
    boolean await(String marker, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (hasLine(marker)) {
                return true;
            }
            if (!process.isAlive()) {
                return hasLine(marker);
            }
            Thread.sleep(100);
        }
        return false;
    }

    private boolean hasLine(String marker) {
        return output().lines().anyMatch(l -> l.startsWith(marker));
    }

    /** Waits for QEMU to exit; its exit status, or -1 on timeout. */
    int awaitExit(Duration timeout) throws InterruptedException {
        return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS) ? process.exitValue()
                : -1;
    }

    /** The key=value fields of the first line starting with {@code marker}. */
    Map<String, String> marker(String marker) {
        String line = output().lines().filter(l -> l.startsWith(marker)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + marker + " line in:\n"
                        + diagnostics()));
        Map<String, String> fields = new LinkedHashMap<>();
        Matcher m = FIELD.matcher(line);
        while (m.find()) {
            fields.put(m.group(1), m.group(2));
        }
        return fields;
    }

    String diagnostics() {
        return "command: " + String.join(" ", command) + "\nconsole:\n" + output();
    }

    @Override
    public void close() throws IOException {
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try (var files = Files.walk(dir)) {
            files.sorted((a, b) -> b.getNameCount() - a.getNameCount()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    // Left in the temp folder.
                }
            });
        }
    }
}
