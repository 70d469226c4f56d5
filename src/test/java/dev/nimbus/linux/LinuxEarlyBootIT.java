package dev.nimbus.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nimbus.arch.x86_64.E820Entry;
import dev.nimbus.arch.x86_64.RamLayout;
import dev.nimbus.testkit.GuestAssets;
import dev.nimbus.testkit.NimbusProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Debian's cloud kernel, as bzImage (64-bit boot protocol) and as vmlinux (PVH), boots under
 * Nimbus as far as the host's KVM lets it, and its own early log shows that it took Nimbus's
 * command line, e820 map, initramfs and ACPI tables, and counted every vCPU.
 *
 * <p>On a KVM without VMX/SVM (KVM-PVM) the kernel then stops on an instruction KVM cannot
 * emulate, and Nimbus must say so in one clear line and exit non-zero, not hang. With hardware
 * virtualization the kernel goes on to its init, which powers off: exit code 0.
 */
class LinuxEarlyBootIT {
    /** Emulated early boot is slow: every instruction and every UART byte is an exit. */
    private static final Duration TIMEOUT = Duration.ofMinutes(12);
    private static final int CPUS = 2;
    private static final String MEMORY = "1G";

    private static final Pattern E820 = Pattern.compile(
            "BIOS-e820: \\[mem 0x([0-9a-f]+)-0x([0-9a-f]+)\\] (usable|reserved)");
    private static final Pattern RAMDISK =
            Pattern.compile("RAMDISK: \\[mem 0x([0-9a-f]+)-0x([0-9a-f]+)\\]");
    private static final Pattern ACPI_TABLE =
            Pattern.compile("ACPI: (RSDP|XSDT|FACP|DSDT|APIC|MCFG) 0x([0-9A-F]+) ");

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"bzImage", "vmlinux"})
    void kernelTakesNimbusMachineDescription(String format) throws Exception {
        Path kernel = format.equals("bzImage") ? GuestAssets.bzImage() : GuestAssets.vmlinux();
        Path initramfs = GuestAssets.initramfs();
        String cmdline = "console=ttyS0 earlyprintk=ttyS0 reboot=k panic=1 nimbus.test=" + format;
        String emulation = HostKvm.emulationWarning();

        try (NimbusProcess p = NimbusProcess.start("--kernel", kernel.toString(),
                "--initramfs", initramfs.toString(), "--cmdline", cmdline,
                "--cpus", "boot=" + CPUS, "--memory", "size=" + MEMORY,
                "--serial", "tty", "--console", "off")) {
            OptionalInt exit = p.awaitExit(TIMEOUT);
            assertTrue(exit.isPresent(), "Nimbus hung\n" + p.diagnostics());
            String log = p.stdout();
            String why = p.diagnostics();

            assertTrue(log.contains("Command line: " + cmdline), why);

            // The e820 map the kernel prints is Nimbus's, in address order.
            List<E820Entry> expected = new ArrayList<>(RamLayout.of(1L << 30).e820());
            expected.sort(Comparator.comparingLong(E820Entry::addr));
            List<long[]> seen = new ArrayList<>();
            Matcher m = E820.matcher(log);
            while (m.find()) {
                long[] e = {Long.parseUnsignedLong(m.group(1), 16),
                    Long.parseUnsignedLong(m.group(2), 16), m.group(3).equals("usable") ? 1 : 2};
                // Linux's PVH entry code reserves the legacy ISA hole [0xA0000, 1 MiB) itself
                // (arch/x86/platform/pvh/enlighten.c); Nimbus's map leaves it out, as CH's does.
                if (format.equals("vmlinux") && e[0] == 0xA0000 && e[1] == 0xFFFFF && e[2] == 2) {
                    continue;
                }
                seen.add(e);
            }
            assertEquals(expected.size(), seen.size(), why);
            for (int i = 0; i < expected.size(); i++) {
                E820Entry e = expected.get(i);
                assertEquals(e.addr(), seen.get(i)[0], "e820 entry " + i);
                assertEquals(e.addr() + e.size() - 1, seen.get(i)[1], "e820 entry " + i);
                assertEquals(e.type(), seen.get(i)[2], "e820 entry " + i);
            }

            // The initramfs where Nimbus put it, whole (the kernel rounds its end to a page).
            Matcher rd = RAMDISK.matcher(log);
            assertTrue(rd.find(), why);
            long start = Long.parseLong(rd.group(1), 16);
            long end = Long.parseLong(rd.group(2), 16) + 1;
            long size = Files.size(initramfs);
            assertEquals((size + 4095) & ~4095L, end - start, "initramfs size");
            assertTrue(end <= 1L << 30, "initramfs inside low RAM");

            // Every ACPI table found where Nimbus wrote it, and no ACPI complaint.
            List<String> tables = new ArrayList<>();
            Matcher t = ACPI_TABLE.matcher(log);
            while (t.find()) {
                tables.add(t.group(1));
                if (t.group(1).equals("RSDP")) {
                    assertEquals(0xA0000L, Long.parseLong(t.group(2), 16));
                }
            }
            assertTrue(tables.containsAll(List.of("RSDP", "XSDT", "FACP", "DSDT", "APIC", "MCFG")),
                    "tables=" + tables + "\n" + why);
            assertFalse(log.contains("ACPI Error") || log.contains("ACPI BIOS Error")
                    || log.contains("ACPI Warning"), why);
            assertTrue(log.contains("ACPI: Using ACPI (MADT) for SMP configuration information"), why);
            assertTrue(log.contains("smpboot: Allowing " + CPUS + " CPUs, 0 hotplug CPUs"), why);

            if (emulation != null) {
                // This host: the emulator gives up, and Nimbus says so.
                assertEquals(1, exit.getAsInt(), why);
                Matcher err = Pattern.compile("nimbus: KVM internal error \\(KVM_EXIT_INTERNAL_ERROR,"
                        + " suberror 1: emulation failure, KVM cannot emulate the instruction\\)"
                        + " on vCPU \\d+ at RIP 0x[0-9a-f]+").matcher(p.stderr());
                assertTrue(err.find(), why);
            } else {
                assertEquals(0, exit.getAsInt(), why);
                assertNotNull(log.contains("NIMBUS-GUEST-READY") ? log : null, why);
            }
        }
    }
}
