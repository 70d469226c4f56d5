package dev.nimbus.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.nimbus.testkit.GuestKit;
import dev.nimbus.testkit.NimbusProcess;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
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
        Files.write(dir.resolve("disk.img"), new byte[1 << 20]);
        // The kit's bzImage asking to load just below 2^63, where pref_address + init_size
        // used to wrap around and pass the fit check.
        byte[] bz = Files.readAllBytes(GuestKit.bzImageGuest());
        le(bz).putLong(OFFSETOF_PREF_ADDRESS, HIGH_PREF_ADDRESS);
        Files.write(dir.resolve("bzimage-high"), bz);
        // The kit's ELF with a first PT_LOAD whose memsz is 2^64 - 1.
        byte[] elf = Files.readAllBytes(GuestKit.pvhGuest());
        le(elf).putLong(firstLoadHeader(elf) + 0x28, -1L);
        Files.write(dir.resolve("elf-huge-memsz"), elf);
        mkfifo(dir.resolve("fifo"));
    }

    static void mkfifo(Path path) throws IOException {
        try {
            Process p = new ProcessBuilder("mkfifo", path.toString()).inheritIO().start();
            if (p.waitFor() != 0) {
                throw new IOException("mkfifo " + path + " failed");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    static final int OFFSETOF_PREF_ADDRESS = 0x258;
    static final long HIGH_PREF_ADDRESS = 0x7fff_ffff_ffff_f000L;

    static ByteBuffer le(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** File offset of the first PT_LOAD program header. */
    static int firstLoadHeader(byte[] elf) {
        ByteBuffer b = le(elf);
        long phoff = b.getLong(0x20);
        int phentsize = Short.toUnsignedInt(b.getShort(0x36));
        for (int i = 0; i < Short.toUnsignedInt(b.getShort(0x38)); i++) {
            int o = (int) (phoff + (long) i * phentsize);
            if (b.getInt(o) == 1) {
                return o;
            }
        }
        throw new IllegalStateException("no PT_LOAD");
    }

    /**
     * Bytes from its load address a bzImage needs: the larger of init_size and its
     * protected-mode part (the file after the setup sectors).
     */
    static long bzImageFootprint(Path bzImage) throws IOException {
        byte[] b = Files.readAllBytes(bzImage);
        int setupSects = Byte.toUnsignedInt(b[0x1F1]);
        long pmSize = b.length - (long) ((setupSects == 0 ? 4 : setupSects) + 1) * 512;
        return Math.max(Integer.toUnsignedLong(le(b).getInt(0x260)), pmSize);
    }

    /**
     * The kit guest's PT_LOAD segments as [start, end) physical ranges, read from its ELF
     * program headers, so the expected messages follow the kit as it grows.
     */
    static List<long[]> loadSegments(Path elf) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(elf))
                .order(ByteOrder.LITTLE_ENDIAN);
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
        String disk = dir.resolve("disk.img").toString();
        String fifo = dir.resolve("fifo").toString();
        long bzFootprint = bzImageFootprint(GuestKit.bzImageGuest());
        byte[] elf = Files.readAllBytes(GuestKit.pvhGuest());
        int firstLoadIndex = (firstLoadHeader(elf) - (int) le(elf).getLong(0x20))
                / Short.toUnsignedInt(le(elf).getShort(0x36));
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
                        "nimbus: Kernel path is a directory: path=" + dir.resolve("a-directory")),
                Arguments.of(List.of("--kernel", "/dev/zero"),
                        "nimbus: Kernel file is not a regular file: path=/dev/zero"),
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
                Arguments.of(List.of("--kernel", k, "--initramfs", "/dev/zero"),
                        "nimbus: Initramfs file is not a regular file: path=/dev/zero"),
                Arguments.of(List.of("--kernel", k, "--memory", "size=0"),
                        "nimbus: Error validating configuration: Memory size must be at least"
                                + " 1 MiB: size=0"),
                Arguments.of(List.of("--kernel", k, "--memory", "size=1"),
                        "nimbus: Error validating configuration: Memory size must be at least"
                                + " 1 MiB: size=1"),
                Arguments.of(List.of("--kernel", k, "--memory", "size=4K"),
                        "nimbus: Error validating configuration: Memory size must be at least"
                                + " 1 MiB: size=4096"),
                Arguments.of(List.of("--kernel", k, "--memory", "size=1025K"),
                        "nimbus: Error validating configuration: Memory size is misaligned with"
                                + " default page size or its hugepage size: size=1049600"
                                + " page_size=4096"),
                Arguments.of(List.of("--kernel", k, "--memory", "size=70000G"),
                        "nimbus: Error validating configuration: Memory size does not fit in"
                                + " the guest physical address space: size=75161927680000, RAM"
                                + " must end below 0x3fffffef0000 (max_phys_bits=46)"),
                Arguments.of(List.of("--kernel", k, "--cpus", "boot=1,max_phys_bits=32"),
                        "nimbus: Error validating configuration: Physical address bits too few"
                                + " for the memory map: max_phys_bits=32, at least 33 are needed"),
                Arguments.of(List.of("--kernel", k, "--disk", "path=" + disk + ",num_queues=0"),
                        "nimbus: Error validating configuration: Number of queues (0) to"
                                + " virtio_blk must be at least 1"),
                Arguments.of(List.of("--kernel", k, "--net", "tap=nbbad0,num_queues=3"),
                        "nimbus: Error validating configuration: Number of queues (3) to"
                                + " virtio_net must be even: a receive and a transmit queue per"
                                + " pair"),
                Arguments.of(List.of("--kernel", k, "--net", "tap=nimbus-tap-name-too-long"),
                        "nimbus: Error validating configuration: Interface name too long (max"
                                + " length is 15): nimbus-tap-name-too-long"),
                Arguments.of(List.of("--kernel", k, "--disk",
                                "path=" + dir.resolve("a-directory")),
                        "nimbus: Cannot open disk _disk0: Disk path is a directory: path="
                                + dir.resolve("a-directory")),
                Arguments.of(List.of("--kernel", k, "--disk", "path=/dev/null"),
                        "nimbus: Cannot open disk _disk0: Disk image is neither a regular file"
                                + " nor a block device: path=/dev/null"),
                Arguments.of(List.of("--kernel", dir.resolve("bzimage-high").toString()),
                        "nimbus: Too little memory for kernel and initramfs: kernel needs [0x"
                                + Long.toHexString(HIGH_PREF_ADDRESS) + ", 0x"
                                + Long.toHexString(HIGH_PREF_ADDRESS + bzFootprint) + "), RAM"
                                + " below 3 GiB ends at 0x20000000 (ram_size=536870912)"),
                Arguments.of(List.of("--kernel", dir.resolve("elf-huge-memsz").toString()),
                        "nimbus: ELF kernel is malformed: path=" + dir.resolve("elf-huge-memsz")
                                + ", segment " + firstLoadIndex + " runs past the top of the"
                                + " address space: paddr=0x" + Long.toHexString(first[0])
                                + " memsz=0xffffffffffffffff"),
                Arguments.of(List.of("--kernel", k, "--serial", "file=" + fifo, "--console",
                                "off"),
                        "nimbus: Cannot open the serial output: " + fifo + " is a FIFO that no"
                                + " process reads, or a socket"),
                Arguments.of(List.of("--kernel", k, "--event-monitor", "path=" + fifo),
                        "nimbus: Error opening event monitor: " + fifo + " is a FIFO that no"
                                + " process reads, or a socket"),
                Arguments.of(List.of("--kernel", k, "--log-file", fifo),
                        "nimbus: Cannot open log file " + fifo + ": " + fifo + " is a FIFO that"
                                + " no process reads, or a socket"),
                Arguments.of(List.of("--kernel", k, "--debug-console", "file=" + fifo),
                        "nimbus: Cannot open the debug-console output: " + fifo + " is a FIFO"
                                + " that no process reads, or a socket"),
                Arguments.of(List.of("--kernel", k, "--rng", "src=" + fifo),
                        "nimbus: Cannot open the entropy source " + fifo + ": not a character"
                                + " device or a regular file"),
                Arguments.of(List.of("--kernel", k, "--log-file", ""),
                        "nimbus: Cannot open log file: the path is empty"),
                Arguments.of(List.of("--kernel", ""), "nimbus: Kernel path is empty"),
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
