package dev.nimbus.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The guest test kit's images, built from {@code src/test/kit} with gcc and binutils on first
 * use.
 *
 * <p>The images land in {@code target/kit/<hash>/}, where the hash covers every source file of
 * the kit, so an edited source builds anew and an unchanged one is reused across test runs and
 * JVMs. The build writes into a private folder first and renames it into place, so concurrent
 * test JVMs never see half-written images. See {@code src/test/kit/README.md} for what the
 * guests print and {@link KitReport} for reading it.
 */
public final class GuestKit {
    /** The tools {@code build.sh} runs; gcc runs {@code as} itself. */
    private static final List<String> TOOLS = List.of("gcc", "as", "ld", "objcopy", "readelf");

    private static final String PVH_IMAGE = "kit-pvh.elf";
    private static final String BZIMAGE_IMAGE = "kit-bzImage";
    private static final String HELLO_IMAGE = "kit-hello.elf";
    private static final long BUILD_TIMEOUT_SECONDS = 300;

    private static Path built;

    private GuestKit() {
    }

    /**
     * The PVH guest: an ELF64 file whose {@code XEN_ELFNOTE_PHYS32_ENTRY} note points at 32-bit
     * code linked at 1 MiB.
     */
    public static Path pvhGuest() {
        return outputDirectory().resolve(PVH_IMAGE);
    }

    /**
     * The hello guest, for boot benchmarks: the PVH entry of {@link #pvhGuest()}, but it prints
     * only {@code KIT-HELLO boot=pvh} and then powers off, or halts with {@code kit.action=halt}.
     */
    public static Path helloGuest() {
        return outputDirectory().resolve(HELLO_IMAGE);
    }

    /**
     * The bzImage guest: a Linux boot protocol 2.15 image with a 64-bit entry at load + 0x200,
     * a 32-bit entry at load + 0 and a real-mode setup, position independent.
     */
    public static Path bzImageGuest() {
        return outputDirectory().resolve(BZIMAGE_IMAGE);
    }

    /** The folder holding the built images, building them first if needed. */
    public static synchronized Path outputDirectory() {
        if (built == null) {
            built = build(projectRoot());
        }
        return built;
    }

    /** The kit's sources: {@code src/test/kit} of the project. */
    public static Path sourceDirectory() {
        return projectRoot().resolve("src/test/kit");
    }

    private static Path build(Path root) {
        Path sources = root.resolve("src/test/kit");
        if (!Files.isRegularFile(sources.resolve("build.sh"))) {
            throw new IllegalStateException("guest kit sources not found: dir=" + sources);
        }
        Path out = root.resolve("target/kit").resolve(sourceHash(sources));
        if (Files.isRegularFile(out.resolve(PVH_IMAGE))
                && Files.isRegularFile(out.resolve(BZIMAGE_IMAGE))
                && Files.isRegularFile(out.resolve(HELLO_IMAGE))) {
            return out;
        }
        String missing = missingTools(System.getenv("PATH"));
        if (missing != null) {
            throw new IllegalStateException(missing);
        }
        try {
            Files.createDirectories(out.getParent());
            Path work = Files.createTempDirectory(out.getParent(), out.getFileName() + ".build-");
            runBuild(sources, work);
            publish(work, out);
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("guest kit build failed: out=" + out, e);
        }
    }

    private static void runBuild(Path sources, Path work) throws IOException {
        Path log = work.resolve("build.log");
        Process p = new ProcessBuilder("sh", sources.resolve("build.sh").toString(),
                work.toString())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        boolean finished;
        try {
            finished = p.waitFor(BUILD_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("guest kit build interrupted", e);
        }
        if (!finished) {
            p.destroyForcibly();
            throw new IllegalStateException("guest kit build timed out: seconds="
                    + BUILD_TIMEOUT_SECONDS + " log=" + log);
        }
        if (p.exitValue() != 0) {
            throw new IllegalStateException("guest kit build failed: exit=" + p.exitValue()
                    + " log=" + log + "\n" + Files.readString(log, StandardCharsets.UTF_8));
        }
    }

    /** Moves a finished build into place; a build another JVM finished first wins. */
    private static void publish(Path work, Path out) throws IOException {
        try {
            Files.move(work, out, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException | DirectoryNotEmptyException
                 | AtomicMoveNotSupportedException e) {
            if (!Files.isRegularFile(out.resolve(PVH_IMAGE))) {
                throw e;
            }
            deleteTree(work);
        }
    }

    /** The message for tools missing from {@code path} (a PATH value), or null if none is. */
    static String missingTools(String path) {
        List<String> missing = new ArrayList<>();
        for (String tool : TOOLS) {
            if (findOnPath(tool, path) == null) {
                missing.add(tool);
            }
        }
        if (missing.isEmpty()) {
            return null;
        }
        return "guest kit needs gcc (with -m32) and binutils on PATH: missing="
                + String.join(",", missing)
                + " (Debian: apt-get install gcc gcc-multilib binutils)";
    }

    /** The first executable named {@code name} on PATH, or null. */
    static Path findOnPath(String name) {
        return findOnPath(name, System.getenv("PATH"));
    }

    private static Path findOnPath(String name, String path) {
        if (path == null) {
            return null;
        }
        for (String dir : path.split(":")) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, name);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    /**
     * SHA-256 over the kit's file names and contents (not its Markdown), shortened to 16 hex
     * digits: enough to tell builds apart in one target folder.
     */
    static String sourceHash(Path sources) {
        try (Stream<Path> files = Files.walk(sources)) {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            List<Path> sorted = files.filter(Files::isRegularFile)
                    .filter(f -> !f.getFileName().toString().endsWith(".md"))
                    .sorted(Comparator.comparing(f -> sources.relativize(f).toString()))
                    .toList();
            for (Path f : sorted) {
                sha.update(sources.relativize(f).toString().getBytes(StandardCharsets.UTF_8));
                sha.update((byte) 0);
                sha.update(Files.readAllBytes(f));
                sha.update((byte) 0);
            }
            return HexFormat.of().formatHex(sha.digest()).substring(0, 16);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read guest kit sources: dir=" + sources, e);
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError("SHA-256 is always present", e);
        }
    }

    /**
     * The project root: {@code nimbus.home} when the build sets it (Failsafe does), else the
     * nearest folder upwards from the working directory that holds {@code pom.xml}.
     */
    private static Path projectRoot() {
        String home = System.getProperty("nimbus.home");
        if (home != null && !home.isBlank()) {
            return Path.of(home).toAbsolutePath();
        }
        Path dir = Path.of("").toAbsolutePath();
        for (Path d = dir; d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve("pom.xml"))
                    && Files.isDirectory(d.resolve("src/test/kit"))) {
                return d;
            }
        }
        throw new IllegalStateException("project root not found: cwd=" + dir);
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
