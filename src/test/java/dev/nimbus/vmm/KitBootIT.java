package dev.nimbus.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nimbus.arch.x86_64.E820Entry;
import dev.nimbus.arch.x86_64.RamLayout;
import dev.nimbus.testkit.GuestKit;
import dev.nimbus.testkit.KitReport;
import dev.nimbus.testkit.NimbusProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Kit guests booted by {@code bin/nimbus} through both direct-boot paths report exactly the
 * machine Nimbus set up: the memory map, the command line, the ACPI tables and the vCPU count.
 */
class KitBootIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    static Stream<Arguments> machines() {
        Stream.Builder<Arguments> b = Stream.builder();
        for (String path : List.of("pvh", "bzimage")) {
            for (int cpus : new int[] {1, 2, 4}) {
                for (String mem : List.of("128M", "1G", "3584M", "6G")) {
                    b.add(Arguments.of(path, cpus, mem));
                }
            }
        }
        return b.build();
    }

    private static Path guest(String path) {
        return path.equals("pvh") ? GuestKit.pvhGuest() : GuestKit.bzImageGuest();
    }

    private static long bytes(String size) {
        long n = Long.parseLong(size.substring(0, size.length() - 1));
        return size.endsWith("G") ? n << 30 : n << 20;
    }

    @ParameterizedTest(name = "{0} cpus={1} memory={2}")
    @MethodSource("machines")
    void guestSeesTheMemoryMapCommandLineAcpiTablesAndCpus(String path, int cpus, String mem) {
        String cmdline = "console=ttyS0 nimbus.test=" + path + "-" + cpus + " kit.action=poweroff";
        NimbusProcess.Result r = NimbusProcess.run(TIMEOUT, "--kernel", guest(path).toString(),
                "--cmdline", cmdline, "--cpus", "boot=" + cpus, "--memory", "size=" + mem,
                "--serial", "tty", "--console", "off");
        KitReport report = r.report();
        String why = r.stderr() + "\n" + r.stdout();

        assertEquals(0, r.exitCode(), why);
        assertEquals(path, report.bootPath(), why);
        assertEquals(cmdline, report.commandLine());
        assertTrue(report.errors().isEmpty(), why);

        // The memory map is RamLayout's e820, entry for entry.
        List<E820Entry> expected = RamLayout.of(bytes(mem)).e820();
        List<KitReport.MemoryRange> seen = report.memoryMap();
        assertEquals(expected.size(), seen.size(), why);
        for (int i = 0; i < expected.size(); i++) {
            assertEquals(expected.get(i).addr(), seen.get(i).addr(), "entry " + i);
            assertEquals(expected.get(i).size(), seen.get(i).size(), "entry " + i);
            assertEquals(expected.get(i).type(), seen.get(i).type(), "entry " + i);
        }
        long ram = bytes(mem);
        long low = Math.min(ram, 3L << 30);
        assertEquals(ram - (1 << 20) + 0xA0000, report.ramBytes(), "RAM the guest can use");
        assertEquals(ram > (3L << 30) ? (4L << 30) + ram - (3L << 30) : low, report.ramTop());

        // ACPI: RSDP where CH puts it, every table whole, one enabled local APIC per vCPU.
        assertEquals(0xA0000, report.rsdp().orElseThrow().addr());
        for (String sig : List.of("XSDT", "FACP", "DSDT", "APIC")) {
            assertTrue(report.acpiTable(sig).orElseThrow(() -> new AssertionError(sig + " missing"))
                    .checksumOk(), sig);
        }
        assertTrue(report.acpiTables().stream().allMatch(KitReport.AcpiTable::checksumOk));
        assertEquals(cpus, report.enabledCpus());
        assertEquals(cpus, report.localApics().size());
        for (int i = 0; i < cpus; i++) {
            assertEquals(i, report.localApics().get(i).apicId());
        }
        assertEquals(0xFEC00000L, report.ioApics().get(0).addr());
        assertTrue(report.fadt().orElseThrow().hwReduced());
        assertEquals(0, report.cpu().apicId());
    }

    @Test
    void initramfsArrivesIntactOnBothPaths(@TempDir Path dir) throws Exception {
        byte[] data = new byte[300_000];
        new Random(42).nextBytes(data);
        Path initrd = dir.resolve("initrd.img");
        Files.write(initrd, data);
        CRC32 crc = new CRC32();
        crc.update(data);

        for (String path : List.of("pvh", "bzimage")) {
            NimbusProcess.Result r = NimbusProcess.run(TIMEOUT, "--kernel", guest(path).toString(),
                    "--initramfs", initrd.toString(), "--cmdline", "kit.action=poweroff",
                    "--serial", "tty", "--console", "off");
            assertEquals(0, r.exitCode(), r.stderr());
            KitReport.Module m = r.report().modules().get(0);
            assertEquals(data.length, m.size(), path);
            assertEquals(crc.getValue(), m.crc32().orElseThrow(), path);
            assertEquals(0, m.addr() % 4096, "initramfs is page aligned");
        }
    }

    @Test
    void cmosClockReadsTheHostTimeInUtc() {
        LocalDateTime before = LocalDateTime.now(ZoneOffset.UTC).withNano(0);
        NimbusProcess.Result r = NimbusProcess.run(TIMEOUT, "--kernel", GuestKit.pvhGuest().toString(),
                "--cmdline", "kit.action=poweroff", "--serial", "tty", "--console", "off");
        LocalDateTime after = LocalDateTime.now(ZoneOffset.UTC);
        KitReport.Rtc rtc = r.report().rtc().orElseThrow();
        assertTrue(!rtc.dateTime().isBefore(before) && !rtc.dateTime().isAfter(after),
                rtc + " not within " + before + " .. " + after);
        assertTrue(rtc.bcd() && rtc.h24());
    }
}
