package dev.nimbus.assets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Builds the guest assets with {@code scripts/guest-assets.sh} and boots them under QEMU with
 * software emulation (TCG), so the assets are known good before Nimbus itself runs them.
 *
 * <p>The guest's {@code /init} prints {@code NIMBUS-*} marker lines on its console; these tests
 * assert on them. The script caches its output, so only the first run on a machine downloads the
 * Debian packages. Needs Debian's apt (or a filled cache), {@code qemu-system-x86_64}, and for the
 * root file system test {@code cpio} and {@code mkfs.ext4}; a missing tool fails the tests that
 * need it (the set-up script and CI install them all).
 */
class GuestAssetsIT {

    private static final Duration BUILD_TIMEOUT = Duration.ofMinutes(15);
    private static final Duration BOOT_TIMEOUT = Duration.ofMinutes(4);
    private static final Duration CACHED_RUN_LIMIT = Duration.ofSeconds(5);
    private static final String QEMU = "qemu-system-x86_64";

    /** ELF program header type of a note segment (ELF gABI). */
    private static final int PT_NOTE = 4;
    /** Xen ELF note that holds the 32-bit PVH entry point (xen/include/public/elfnote.h). */
    private static final int XEN_ELFNOTE_PHYS32_ENTRY = 18;

    private static final Pattern FIELD = Pattern.compile("(\\w+)=(\\S*)");

    private static Path repo;
    private static Map<String, Path> assets;

    @BeforeAll
    static void buildAssets() throws Exception {
        repo = Path.of(System.getProperty("nimbus.home", System.getProperty("user.dir")));
        Path script = repo.resolve("scripts/guest-assets.sh");
        assertTrue(Files.isExecutable(script), "script missing or not executable: " + script);
        Run run = run(List.of(script.toString(), "-q"), BUILD_TIMEOUT);
        assertEquals(0, run.exitCode(), "guest-assets.sh failed:\n" + run.output());
        assets = parsePaths(run.stdout());
        for (String key : List.of("bzImage", "vmlinux", "initramfs", "config", "manifest")) {
            assertNotNull(assets.get(key), "guest-assets.sh printed no " + key + "= line");
            assertTrue(Files.size(assets.get(key)) > 0, "empty asset: " + assets.get(key));
        }
    }

    @Test
    void secondRunIsFastAndLeavesTheCacheAlone() throws Exception {
        Map<String, FileTime> before = modificationTimes();
        long start = System.nanoTime();
        Run run = run(List.of(repo.resolve("scripts/guest-assets.sh").toString(), "-q"),
                BUILD_TIMEOUT);
        Duration took = Duration.ofNanos(System.nanoTime() - start);

        assertEquals(0, run.exitCode(), run.output());
        assertEquals(assets, parsePaths(run.stdout()));
        assertEquals(before, modificationTimes(), "a cached run rewrote assets");
        assertTrue(took.compareTo(CACHED_RUN_LIMIT) < 0, "cached run took " + took);
    }

    @Test
    void manifestRecordsSizeAndDigestOfEveryAsset() throws Exception {
        List<String> manifest = Files.readAllLines(assets.get("manifest"));
        Map<String, String> keys = Map.of("bzImage", "bzImage", "vmlinux", "vmlinux",
                "initramfs.cpio.gz", "initramfs", "config", "config");
        int checked = 0;
        for (String line : manifest) {
            String[] f = line.split(" ");
            if (f.length != 4 || !f[0].equals("file")) {
                continue;
            }
            Path file = assets.get(keys.get(f[1]));
            assertNotNull(file, "MANIFEST names an unknown file: " + line);
            assertEquals(Long.parseLong(f[2]), Files.size(file), "size of " + file);
            assertEquals(f[3], sha256(file), "sha256 of " + file);
            checked++;
        }
        assertEquals(4, checked, "MANIFEST file lines:\n" + String.join("\n", manifest));
        assertTrue(manifest.stream().anyMatch(l -> l.startsWith("kernel_package linux-image-")),
                "MANIFEST has no kernel_package line");
        assertTrue(manifest.stream().anyMatch(l -> l.startsWith("busybox_package busybox-static ")),
                "MANIFEST has no busybox_package line");
    }

    @Test
    void vmlinuxCarriesThePvhEntryNote() throws Exception {
        long entry = pvhEntry(assets.get("vmlinux"));
        // pvh_start_xen is in the kernel's own text, which PVH loads at its link address, 16 MiB.
        assertTrue(entry >= 0x100_0000L && entry < 0x200_0000L,
                "PVH entry=0x" + Long.toHexString(entry));
        String manifestEntry = Files.readAllLines(assets.get("manifest")).stream()
                .filter(l -> l.startsWith("pvh_entry "))
                .findFirst().orElseThrow().substring("pvh_entry ".length());
        assertEquals(entry, Long.decode(manifestEntry));
    }

    @Test
    void bzImageBootsOnMicrovmAndFindsVirtioMmioDevices(@TempDir Path tmp) throws Exception {
        Path disk = emptyDisk(tmp);
        Boot boot = boot("microvm", assets.get("bzImage"), 2, 256, "",
                "-device", "virtio-rng-device",
                "-drive", "if=none,id=disk0,format=raw,file=" + disk,
                "-device", "virtio-blk-device,drive=disk0");

        boot.assertReady(2, 256);
        Map<String, String> devices = boot.marker("NIMBUS-DEVICES");
        assertHas(devices.get("virtio"), "rng", "blk");
        assertHas(devices.get("block"), "vda");
        assertEquals("0", devices.get("modules_failed"), boot.output());
        assertTrue(Integer.parseInt(devices.get("modules_ok")) > 0, boot.output());
        boot.assertPoweredOff();
    }

    @Test
    void bzImageBootsOnQ35AndFindsVirtioPciDevices(@TempDir Path tmp) throws Exception {
        Path disk = emptyDisk(tmp);
        Boot boot = boot("q35", assets.get("bzImage"), 3, 384, "nimbus.ip=192.0.2.2/24",
                "-device", "virtio-rng-pci",
                "-drive", "if=none,id=disk0,format=raw,file=" + disk,
                "-device", "virtio-blk-pci,drive=disk0",
                // No backend: the guest only needs to see the device. No option ROM either.
                "-device", "virtio-net-pci,romfile=",
                "-device", "virtio-balloon-pci");

        boot.assertReady(3, 384);
        Map<String, String> devices = boot.marker("NIMBUS-DEVICES");
        assertHas(devices.get("virtio"), "rng", "blk", "net", "balloon");
        assertHas(devices.get("block"), "vda");
        assertHas(devices.get("net"), "eth0", "lo");
        assertEquals("0", devices.get("modules_failed"), boot.output());
        assertFalse(boot.output().contains("NIMBUS-ERROR"), boot.output());
        boot.assertPoweredOff();
    }

    @Test
    void vmlinuxBootsThroughPvhOnMicrovm() throws Exception {
        Boot boot = boot("microvm", assets.get("vmlinux"), 1, 192, "",
                "-device", "virtio-rng-device");

        boot.assertReady(1, 192);
        assertHas(boot.marker("NIMBUS-DEVICES").get("virtio"), "rng");
        boot.assertPoweredOff();
    }

    @Test
    void vmlinuxBootsThroughPvhOnQ35() throws Exception {
        Boot boot = boot("q35", assets.get("vmlinux"), 2, 256, "", "-device", "virtio-rng-pci");

        boot.assertReady(2, 256);
        assertHas(boot.marker("NIMBUS-DEVICES").get("virtio"), "rng");
        boot.assertPoweredOff();
    }

    @Test
    void markersReachAVirtioConsoleAndRebootIsReported() throws Exception {
        // The serial port is left out: everything the test sees came through hvc0. microvm has
        // no i8042, so reboot=k would cycle through slow fallbacks under TCG (minutes on a
        // loaded host); reboot=t (a triple fault, the last word wins) ends QEMU at once.
        Boot boot = boot("microvm", assets.get("bzImage"), 1, 256,
                "console=hvc0 nimbus.sleep=1 nimbus.reboot reboot=t",
                "-serial", "none",
                "-chardev", "stdio,id=con0",
                "-device", "virtio-serial-device",
                "-device", "virtconsole,chardev=con0");

        boot.assertReady(1, 256);
        assertHas(boot.marker("NIMBUS-DEVICES").get("virtio"), "console");
        double ready = Double.parseDouble(boot.marker("NIMBUS-GUEST-READY").get("uptime_s"));
        double reboot = Double.parseDouble(boot.marker("NIMBUS-GUEST-REBOOT").get("uptime_s"));
        assertTrue(reboot - ready >= 1.0, "nimbus.sleep=1 did not wait:\n" + boot.output());
        assertEquals(0, boot.exitCode(), boot.output());
    }

    @Test
    void switchesToAnExt4RootAndRunsAScriptThere(@TempDir Path tmp) throws Exception {
        Path mkfs = tool("mkfs.ext4");
        assertTrue(tool("cpio") != null && mkfs != null, "needs cpio and mkfs.ext4 (e2fsprogs)");
        // A root file system made of the initramfs itself, with /init as /sbin/nimbus-init.
        Path root = Files.createDirectory(tmp.resolve("root"));
        Run unpack = run(List.of("sh", "-c", "gzip -dc \"$0\" | cpio -id --quiet",
                assets.get("initramfs").toString()), BOOT_TIMEOUT, root);
        assertEquals(0, unpack.exitCode(), unpack.output());
        Files.delete(root.resolve("etc/nimbus/initramfs"));
        Files.copy(repo.resolve("guest/init"), root.resolve("sbin/nimbus-init"));
        Files.writeString(root.resolve("check.sh"),
                "grep -q ' / ext4 ' /proc/mounts && echo ROOT-IS-EXT4\nexit 3\n");
        Path image = tmp.resolve("root.ext4");
        Run made = run(List.of(mkfs.toString(), "-q", "-F", "-d", root.toString(),
                image.toString(), "64M"), BOOT_TIMEOUT);
        assertEquals(0, made.exitCode(), made.output());

        Boot boot = boot("microvm", assets.get("bzImage"), 1, 256,
                "nimbus.root=/dev/vda nimbus.run=/check.sh",
                "-drive", "if=none,id=root,format=raw,file=" + image,
                "-device", "virtio-blk-device,drive=root");

        Map<String, String> switched = boot.marker("NIMBUS-SWITCH-ROOT");
        assertEquals("/dev/vda", switched.get("root"));
        boot.assertReady(1, 256);
        assertTrue(boot.output().lines().anyMatch(l -> l.equals("ROOT-IS-EXT4")), boot.output());
        assertEquals("3", boot.marker("NIMBUS-RUN-EXIT").get("rc"));
        boot.assertPoweredOff();
    }

    // ---- booting -------------------------------------------------------------------------

    /** Console output and exit status of one QEMU run. */
    private record Boot(String output, int exitCode) {

        /** The key=value fields of the first console line that starts with {@code name}. */
        Map<String, String> marker(String name) {
            String line = output.lines()
                    .filter(l -> l.startsWith(name + " ") || l.equals(name))
                    .findFirst()
                    .orElseThrow(() -> new AssertionError("no " + name + " line in:\n" + output));
            Map<String, String> fields = new LinkedHashMap<>();
            Matcher m = FIELD.matcher(line);
            while (m.find()) {
                fields.put(m.group(1), m.group(2));
            }
            return fields;
        }

        void assertReady(int cpus, int memMiB) {
            Map<String, String> ready = marker("NIMBUS-GUEST-READY");
            assertEquals(String.valueOf(cpus), ready.get("cpus"), output);
            long memKb = Long.parseLong(ready.get("mem_total_kb"));
            // The kernel keeps its image and early reservations out of MemTotal.
            assertTrue(memKb > memMiB * 1024L * 7 / 10 && memKb <= memMiB * 1024L,
                    "mem_total_kb=" + memKb + " for -m " + memMiB + "M");
            assertFalse(ready.get("kernel").isEmpty(), output);
            double start = Double.parseDouble(ready.get("init_start_s"));
            double now = Double.parseDouble(ready.get("uptime_s"));
            assertTrue(start > 0 && now >= start, output);
        }

        void assertPoweredOff() {
            marker("NIMBUS-GUEST-POWEROFF");
            assertEquals(0, exitCode, "QEMU exit status; output:\n" + output);
        }
    }

    /**
     * Boots {@code kernel} (a bzImage, or an ELF with a PVH note) with our initramfs. Extra kernel
     * command-line words go after the defaults; {@code console=} may be overridden there.
     */
    private static Boot boot(String machine, Path kernel, int cpus, int memMiB, String append,
            String... devices) throws IOException, InterruptedException {
        assertTrue(tool(QEMU) != null, QEMU + " is not installed (apt-get install qemu-system-x86)");
        String console = append.contains("console=") ? "" : "console=ttyS0 ";
        List<String> cmd = new ArrayList<>(List.of(QEMU,
                "-accel", "tcg", "-M", machine, "-smp", String.valueOf(cpus),
                "-m", memMiB + "M", "-nodefaults", "-no-reboot", "-display", "none",
                "-kernel", kernel.toString(), "-initrd", assets.get("initramfs").toString(),
                "-append", console + "reboot=k panic=1 " + tcgTimingHints() + append));
        if (!Arrays.asList(devices).contains("-serial")) {
            cmd.addAll(List.of("-serial", "stdio"));
        }
        cmd.addAll(Arrays.asList(devices));
        Run run = run(cmd, BOOT_TIMEOUT);
        assertFalse(run.timedOut(), "QEMU did not finish in " + BOOT_TIMEOUT + ":\n" + run.output());
        return new Boot(run.output().replace("\r", ""), run.exitCode());
    }

    /**
     * Under TCG the guest's TSC runs at the host's TSC rate, but the kernel measures it against
     * the emulated PIT, and on a busy host that measurement fails; microvm has no HPET or ACPI PM
     * timer to fall back on, and the boot then hangs. Telling the kernel the rate avoids it.
     */
    private static String tcgTimingHints() throws IOException {
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

    private static Path emptyDisk(Path dir) throws IOException {
        Path disk = dir.resolve("disk.raw");
        try (FileChannel ch = FileChannel.open(disk, StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE)) {
            ch.truncate(0);
            ch.write(ByteBuffer.allocate(1), 16L << 20);
        }
        return disk;
    }

    private static void assertHas(String csv, String... items) {
        assertNotNull(csv, "field missing");
        List<String> have = List.of(csv.split(","));
        for (String item : items) {
            assertTrue(have.contains(item), "'" + item + "' not in '" + csv + "'");
        }
    }

    // ---- the assets ----------------------------------------------------------------------

    private static Map<String, Path> parsePaths(String stdout) {
        Map<String, Path> paths = new LinkedHashMap<>();
        stdout.lines().map(String::strip).filter(l -> l.contains("=")).forEach(l ->
                paths.put(l.substring(0, l.indexOf('=')), Path.of(l.substring(l.indexOf('=') + 1))));
        return paths;
    }

    private static Map<String, FileTime> modificationTimes() throws IOException {
        Map<String, FileTime> times = new LinkedHashMap<>();
        for (Map.Entry<String, Path> e : assets.entrySet()) {
            times.put(e.getKey(), Files.getLastModifiedTime(e.getValue()));
        }
        return times;
    }

    private static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("no SHA-256", e);
        }
    }

    /**
     * The XEN_ELFNOTE_PHYS32_ENTRY address of a 64-bit little-endian ELF file, read from its
     * PT_NOTE segments (ELF gABI: Elf64_Ehdr, Elf64_Phdr, and note records of namesz, descsz,
     * type, name and desc, each padded to 4 bytes).
     */
    private static long pvhEntry(Path elf) throws IOException {
        try (FileChannel ch = FileChannel.open(elf)) {
            ByteBuffer eh = read(ch, 0, 64);
            assertEquals(0x464c457f, eh.getInt(0), "not an ELF file: " + elf);
            assertEquals(2, eh.get(4), "not ELF64: " + elf);
            long phoff = eh.getLong(32);
            int phentsize = Short.toUnsignedInt(eh.getShort(54));
            int phnum = Short.toUnsignedInt(eh.getShort(56));
            for (int i = 0; i < phnum; i++) {
                ByteBuffer ph = read(ch, phoff + (long) i * phentsize, 56);
                if (ph.getInt(0) != PT_NOTE) {
                    continue;
                }
                ByteBuffer notes = read(ch, ph.getLong(8), Math.toIntExact(ph.getLong(32)));
                while (notes.remaining() >= 12) {
                    int namesz = notes.getInt();
                    int descsz = notes.getInt();
                    int type = notes.getInt();
                    byte[] name = new byte[namesz];
                    notes.get(name);
                    notes.position(align4(notes.position()));
                    int desc = notes.position();
                    notes.position(align4(desc + descsz));
                    if (type == XEN_ELFNOTE_PHYS32_ENTRY
                            && new String(name, StandardCharsets.US_ASCII).equals("Xen\0")) {
                        return descsz >= 8 ? notes.getLong(desc)
                                : Integer.toUnsignedLong(notes.getInt(desc));
                    }
                }
            }
        }
        throw new AssertionError("no Xen PHYS32_ENTRY note in " + elf);
    }

    private static int align4(int n) {
        return (n + 3) & ~3;
    }

    private static ByteBuffer read(FileChannel ch, long offset, int len) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(len).order(ByteOrder.LITTLE_ENDIAN);
        while (buf.hasRemaining() && ch.read(buf, offset + buf.position()) > 0) {
            // keep reading until full or end of file
        }
        return buf.flip();
    }

    // ---- processes -----------------------------------------------------------------------

    private record Run(int exitCode, boolean timedOut, String stdout, String output) { }

    private static Run run(List<String> cmd, Duration timeout) throws IOException,
            InterruptedException {
        return run(cmd, timeout, null);
    }

    /** Runs a command with stdin from /dev/null; {@code output} is stdout and stderr together. */
    private static Run run(List<String> cmd, Duration timeout, Path dir) throws IOException,
            InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        if (dir != null) {
            pb.directory(dir.toFile());
        }
        Process p = pb.start();
        StringBuilder stdout = new StringBuilder();
        StringBuilder all = new StringBuilder();
        Thread out = drain(p.getInputStream(), stdout, all);
        Thread err = drain(p.getErrorStream(), null, all);
        boolean done = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (!done) {
            p.destroyForcibly().waitFor();
        }
        out.join();
        err.join();
        synchronized (all) {
            return new Run(done ? p.exitValue() : -1, !done, stdout.toString(), all.toString());
        }
    }

    private static Thread drain(InputStream in, StringBuilder own, StringBuilder all) {
        return Thread.ofVirtual().start(() -> {
            try (BufferedReader r = new BufferedReader(
                    new InputStreamReader(in, StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    if (own != null) {
                        own.append(line).append('\n');
                    }
                    synchronized (all) {
                        all.append(line).append('\n');
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /** The path of an executable on PATH or in /usr/sbin or /sbin, else null. */
    private static Path tool(String name) {
        String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
        // mkfs.ext4 lives in /sbin, which a non-root PATH may lack.
        for (String dir : (path + ":/usr/sbin:/sbin").split(":")) {
            Path candidate = Path.of(dir.isEmpty() ? "." : dir, name);
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }
}
