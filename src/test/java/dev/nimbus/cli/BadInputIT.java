package dev.nimbus.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.nimbus.testkit.GuestKit;
import dev.nimbus.testkit.NimbusProcess;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every kind of bad input on the command line ends {@code bin/nimbus} with exit code 1 and one
 * line on stderr that says what is wrong: never a stack trace, never a hang.
 */
class BadInputIT {
    @TempDir
    static Path dir;

    static Path bigInitramfs;

    @BeforeAll
    static void files() throws IOException {
        bigInitramfs = dir.resolve("big.img");
        try (RandomAccessFile f = new RandomAccessFile(bigInitramfs.toFile(), "rw")) {
            f.setLength(200L << 20); // sparse: 200 MiB that a 128 MiB guest cannot hold
        }
        Files.createDirectories(dir.resolve("a-directory"));
        Files.writeString(dir.resolve("not-a-kernel"), "#!/bin/sh\necho I am no kernel\n");
    }

    /**
     * The kit guest's PT_LOAD segments as [start, end) physical ranges, read from its ELF
     * program headers, so the expected messages follow the kit as it grows.
     */
    static List<long[]> loadSegments(Path elf) throws IOException {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(Files.readAllBytes(elf))
                .order(java.nio.ByteOrder.LITTLE_ENDIAN);
        long phoff = b.getLong(0x20);
        int phentsize = Short.toUnsignedInt(b.getShort(0x36));
        int phnum = Short.toUnsignedInt(b.getShort(0x38));
        List<long[]> segments = new ArrayList<>();
        for (int i = 0; i < phnum; i++) {
            int o = (int) (phoff + (long) i * phentsize);
            if (b.getInt(o) == 1) { // PT_LOAD
                long paddr = b.getLong(o + 0x18);
                segments.add(new long[] {paddr, paddr + b.getLong(o + 0x28)});
            }
        }
        return segments;
    }

    static Stream<Arguments> cases() throws IOException {
        String k = GuestKit.pvhGuest().toString();
        List<long[]> segments = loadSegments(GuestKit.pvhGuest());
        long kernelEnd = segments.stream().mapToLong(seg -> seg[1]).max().orElseThrow();
        long[] first = segments.get(0);
        String big = bigInitramfs.toString();
        String longCmdline = "a".repeat(70_000);
        return Stream.of(
                Arguments.of(List.of("--foo"), "nimbus: Unexpected argument '--foo' found"),
                Arguments.of(List.of("--kernel"),
                        "nimbus: A value is required for --kernel but none was supplied"),
                Arguments.of(List.of("--kernel", k, "--cpus", "foo=1"),
                        "nimbus: Error parsing --cpus: Unknown option: foo"),
                Arguments.of(List.of("--kernel", k, "--cpus", "boot=x"),
                        "nimbus: Error parsing --cpus: Unable to convert x for boot"),
                Arguments.of(List.of("--kernel", k, "--cpus", "boot=2,max=1"),
                        "nimbus: Error validating configuration: Max CPUs (1) lower than boot CPUs (2)"),
                Arguments.of(List.of("--kernel", k, "--memory", "size=12Q"),
                        "nimbus: Error parsing --memory: Unable to convert 12Q for size"),
                Arguments.of(List.of("--kernel", k, "--serial", "bogus"),
                        "nimbus: Error parsing --serial: Unknown option: bogus"),
                Arguments.of(List.of("--kernel", "/nonexistent/vmlinux"),
                        "nimbus: Kernel file not found: path=/nonexistent/vmlinux"),
                Arguments.of(List.of("--kernel", dir.resolve("a-directory").toString()),
                        "nimbus: Kernel file cannot be read: path=" + dir.resolve("a-directory")
                                + " (Is a directory)"),
                Arguments.of(List.of("--kernel", dir.resolve("not-a-kernel").toString()),
                        "nimbus: Not an ELF or bzImage kernel: path=" + dir.resolve("not-a-kernel")),
                Arguments.of(List.of("--kernel", k, "--initramfs", "/nonexistent/initrd"),
                        "nimbus: Initramfs file not found: path=/nonexistent/initrd"),
                Arguments.of(List.of("--kernel", k, "--initramfs", big, "--memory", "size=128M"),
                        "nimbus: Too little memory for kernel and initramfs: kernel ends at 0x"
                                + Long.toHexString(kernelEnd) + ","
                                + " initramfs_size=209715200 must end below 0x8000000"
                                + " (ram_size=134217728)"),
                Arguments.of(List.of("--kernel", k, "--memory", "size=1M"),
                        "nimbus: Too little memory for kernel and initramfs: kernel needs"
                                + " [0x" + Long.toHexString(first[0]) + ", 0x"
                                + Long.toHexString(first[1]) + "), RAM below 3 GiB ends at 0x100000"
                                + " (ram_size=1048576)"),
                Arguments.of(List.of("--kernel", k, "--disk", "path=/nonexistent/disk.img"),
                        "nimbus: Cannot open disk _disk0: open /nonexistent/disk.img failed:"
                                + " ENOENT (No such file or directory)"),
                Arguments.of(List.of("--kernel", k, "--vsock", "cid=3,socket=/tmp/nimbus-v.sock"),
                        "nimbus: virtio-vsock (--vsock) is not supported by Nimbus yet"),
                Arguments.of(List.of("--kernel", k, "--cmdline", longCmdline),
                        "nimbus: Kernel command line too long: length=70000, the command line"
                                + " area takes at most 65535"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("cases")
    void badInputGetsOneClearLineAndExitCodeOne(List<String> args, String message) {
        List<String> all = new ArrayList<>(args);
        if (!args.contains("--serial") && !args.equals(List.of("--kernel"))) {
            all.addAll(List.of("--serial", "null", "--console", "off"));
        }
        NimbusProcess.Result r = NimbusProcess.run(Duration.ofSeconds(30),
                all.toArray(String[]::new));
        assertEquals(1, r.exitCode(), r.stderr());
        assertEquals(message, r.stderr().strip(), "stderr must be exactly the one error line");
        assertFalse(r.stderr().contains("\tat "), "no stack trace");
        assertEquals("", r.stdout());
    }
}
