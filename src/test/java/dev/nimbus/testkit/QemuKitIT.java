package dev.nimbus.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nimbus.testkit.KitReport.AcpiTable;
import dev.nimbus.testkit.KitReport.LocalApic;
import dev.nimbus.testkit.KitReport.Module;
import dev.nimbus.testkit.KitReport.Tick;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.OptionalInt;
import java.util.Random;
import java.util.zip.CRC32;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Boots the kit guests under QEMU with KVM and checks that what they report is what QEMU set
 * up. This proves the kit on a VMM other than Nimbus, so that Nimbus's integration tests can
 * trust it.
 *
 * <p>Machines: {@code microvm,rtc=on} (PVH through qboot, hardware-reduced ACPI; the RTC is off
 * by default there) and {@code q35} (SeaBIOS, full ACPI with PM1 and the 0xCF9 reset register).
 * QEMU is a cross-check of the kit, installed by the set-up script and CI; without it the test
 * fails rather than silently passing.
 */
class QemuKitIT {
    private static final long MIB = 1L << 20;
    private static final int MEMORY_MIB = 512;
    private static final Duration BOOT_TIMEOUT = Duration.ofSeconds(90);
    private static final String MICROVM = "microvm,rtc=on";
    private static final String Q35 = "q35";

    @BeforeAll
    static void requireQemu() {
        assertTrue(QemuGuest.available(), QemuGuest.QEMU
                + " is not installed (Debian: apt-get install qemu-system-x86)");
    }

    @Test
    void pvhGuestReportsWhatMicrovmSetUp() {
        String cmdline = "console=ttyS0 nimbus.test=pvh  spaced kit.action=poweroff";
        LocalDateTime before = LocalDateTime.now(ZoneOffset.UTC);
        try (QemuGuest q = QemuGuest.start(MICROVM, 1, MEMORY_MIB, GuestKit.pvhGuest(), cmdline,
                null, List.of())) {
            OptionalInt exit = q.awaitExit(BOOT_TIMEOUT);
            KitReport r = q.report();
            String why = q.diagnostics();

            assertEquals(OptionalInt.of(0), exit, why);
            assertTrue(r.done(), why);
            assertTrue(r.errors().isEmpty(), why);
            assertEquals("pvh", r.bootPath());
            assertEquals(32, r.entryBits());
            assertEquals(0x336ec578L, r.require("PVH").number("magic"));
            assertEquals(r.require("PVH").number("addr"), r.entry().number("ebx"));
            assertEquals(cmdline, r.commandLine());

            assertEquals(MEMORY_MIB * MIB, r.ramTop(), why);
            assertTrue(r.ramBytes() > (MEMORY_MIB - 16) * MIB && r.ramBytes() <= MEMORY_MIB * MIB,
                    "ram_bytes=" + r.ramBytes());

            assertEquals("boot", r.rsdp().orElseThrow().source());
            assertAcpiTablesValid(r, List.of("XSDT", "FACP", "DSDT", "APIC"));
            assertTrue(r.fadt().orElseThrow().hwReduced());
            assertTrue(r.fadtRegister("sleep_control").isPresent(), why);
            KitReport.Line action = r.action().orElseThrow();
            assertEquals("poweroff", action.get("name"));
            assertEquals("sleep_control", action.get("method"));
            assertEquals(0x34, action.number("value"));

            assertEquals("KVMKVMKVM", r.hypervisorVendor().orElseThrow());
            assertRtcNearHostClock(r, before);
        }
    }

    @ParameterizedTest(name = "{0} -smp {1}")
    @CsvSource(delimiter = '|', value = {
        MICROVM + "|1", MICROVM + "|2", MICROVM + "|4", Q35 + "|1", Q35 + "|2", Q35 + "|4"})
    void madtListsOneEnabledLocalApicPerCpu(String machine, int cpus) {
        try (QemuGuest q = QemuGuest.start(machine, cpus, MEMORY_MIB, GuestKit.pvhGuest(),
                "kit.action=poweroff", null, List.of())) {
            OptionalInt exit = q.awaitExit(BOOT_TIMEOUT);
            KitReport r = q.report();
            String why = q.diagnostics();

            assertEquals(OptionalInt.of(0), exit, why);
            assertTrue(r.done(), why);
            assertEquals(cpus, r.enabledCpus(), why);
            List<LocalApic> enabled = r.localApics().stream().filter(LocalApic::enabled).toList();
            assertEquals(cpus, enabled.size());
            assertEquals(cpus, enabled.stream().map(LocalApic::apicId).distinct().count());
            assertEquals(0, r.cpu().apicId(), "the boot CPU");
            assertFalse(r.ioApics().isEmpty(), why);
            assertEquals(0xfec00000L, r.ioApics().getFirst().addr());
            assertAcpiTablesValid(r, List.of("FACP", "DSDT", "APIC"));
            assertTrue(r.ramBytes() > (MEMORY_MIB - 16) * MIB && r.ramBytes() <= MEMORY_MIB * MIB,
                    "ram_bytes=" + r.ramBytes());
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource(delimiter = '|', value = {
        "pvh|" + MICROVM, "bzimage|" + MICROVM, "pvh|" + Q35, "bzimage|" + Q35})
    void initramfsArrivesIntact(String image, String machine, @TempDir Path dir)
            throws IOException {
        byte[] initrd = new byte[300_000];
        new Random(42).nextBytes(initrd);
        Path file = dir.resolve("initrd.bin");
        Files.write(file, initrd);
        CRC32 crc = new CRC32();
        crc.update(initrd);
        Path kernel = image.equals("pvh") ? GuestKit.pvhGuest() : GuestKit.bzImageGuest();
        String cmdline = "console=ttyS0 kit.action=poweroff";

        try (QemuGuest q = QemuGuest.start(machine, 1, MEMORY_MIB, kernel, cmdline, file,
                List.of())) {
            OptionalInt exit = q.awaitExit(BOOT_TIMEOUT);
            KitReport r = q.report();
            String why = q.diagnostics();

            assertEquals(OptionalInt.of(0), exit, why);
            assertTrue(r.errors().isEmpty(), why);
            assertEquals(image, r.bootPath());
            assertEquals(cmdline, r.commandLine());
            List<Module> modules = r.modules();
            assertEquals(1, modules.size(), why);
            assertEquals(initrd.length, modules.getFirst().size());
            assertEquals(crc.getValue(), modules.getFirst().crc32().orElseThrow(), why);
            assertTrue(modules.getFirst().addr() + initrd.length <= r.ramTop());
        }
    }

    @Test
    void bzImageBootsThroughItsRealModeSetup() {
        try (QemuGuest q = QemuGuest.start(Q35, 2, MEMORY_MIB, GuestKit.bzImageGuest(),
                "kit.action=poweroff", null, List.of())) {
            OptionalInt exit = q.awaitExit(BOOT_TIMEOUT);
            KitReport r = q.report();
            String why = q.diagnostics();

            assertEquals(OptionalInt.of(0), exit, why);
            assertEquals(16, r.entryBits(), why);
            assertEquals(0x100000, r.loadAddress());
            KitReport.Line bootParams = r.require("BOOTPARAMS");
            assertEquals("HdrS", bootParams.get("header"));
            assertEquals(0x20f, bootParams.number("version"));
            assertEquals(0xaa55, bootParams.number("boot_flag"));
            assertEquals(r.memoryMap().size(), bootParams.intNumber("e820_entries"));
            assertTrue(r.memoryMap().stream().allMatch(m -> m.source().equals("e820")));
            assertTrue(r.ramBytes() > (MEMORY_MIB - 16) * MIB, "ram_bytes=" + r.ramBytes());
            assertEquals("bios", r.rsdp().orElseThrow().source(), "found by the spec's scan");
            assertEquals(2, r.enabledCpus());
            assertAcpiTablesValid(r, List.of("RSDT", "FACP", "DSDT", "APIC"));
        }
    }

    /** Actions that end the VM: with -no-reboot QEMU exits on power-off, reset and shutdown. */
    @ParameterizedTest(name = "{0} {1}")
    @CsvSource(delimiter = '|', value = {
        MICROVM + "|poweroff|sleep_control", MICROVM + "|reset|reset_reg",
        MICROVM + "|triple-fault|ud2",
        Q35 + "|poweroff|pm1_cnt", Q35 + "|reset|reset_reg", Q35 + "|i8042-reset|port",
        Q35 + "|triple-fault|ud2"})
    void actionEndsTheVm(String machine, String action, String method) {
        try (QemuGuest q = QemuGuest.start(machine, 1, MEMORY_MIB, GuestKit.pvhGuest(),
                "kit.action=" + action, null, List.of())) {
            OptionalInt exit = q.awaitExit(BOOT_TIMEOUT);
            KitReport r = q.report();
            String why = q.diagnostics();

            assertEquals(OptionalInt.of(0), exit, why);
            KitReport.Line line = r.action().orElseThrow();
            assertEquals(action, line.get("name"));
            assertEquals(method, line.get("method"));
            assertTrue(r.errors().isEmpty(), why);
        }
    }

    @Test
    void q35PowerOffUsesSlpTypFromTheDsdt() {
        try (QemuGuest q = QemuGuest.start(Q35, 1, MEMORY_MIB, GuestKit.pvhGuest(),
                "kit.action=poweroff", null, List.of())) {
            OptionalInt exit = q.awaitExit(BOOT_TIMEOUT);
            KitReport r = q.report();

            assertEquals(OptionalInt.of(0), exit, q.diagnostics());
            KitReport.Line s5 = r.require("ACPI-S5");
            KitReport.Line action = r.action().orElseThrow();
            assertEquals("io", action.get("space"));
            assertEquals(r.fadtRegister("pm1a_cnt").orElseThrow().addr(), action.number("addr"));
            assertEquals(s5.number("slp_typ_a") << 10 | 1 << 13, action.number("value"));
        }
    }

    @Test
    void haltKeepsTheVmRunning() throws InterruptedException {
        try (QemuGuest q = QemuGuest.start(MICROVM, 1, MEMORY_MIB, GuestKit.pvhGuest(),
                "kit.action=halt", null, List.of())) {
            KitReport r = q.awaitReport(x -> x.action().isPresent(), BOOT_TIMEOUT);
            assertEquals("halt", r.action().orElseThrow().get("name"), q.diagnostics());

            Thread.sleep(1000);

            assertTrue(q.isAlive(), q.diagnostics());
        }
    }

    @Test
    void tickPrintsAtASteadyPace() {
        int intervalMs = 100;
        int wanted = 8;
        try (QemuGuest q = QemuGuest.start(MICROVM, 1, MEMORY_MIB, GuestKit.bzImageGuest(),
                "kit.action=tick kit.tick_ms=" + intervalMs, null, List.of())) {
            KitReport first = q.awaitReport(x -> !x.ticks().isEmpty(), BOOT_TIMEOUT);
            long start = System.nanoTime();
            KitReport r = q.awaitReport(x -> x.ticks().size() >= wanted, BOOT_TIMEOUT);
            long hostMs = (System.nanoTime() - start) / 1_000_000;
            String why = q.diagnostics();

            assertEquals("rtc", first.action().orElseThrow().get("clock"), why);
            List<Tick> ticks = r.ticks();
            assertTrue(ticks.size() >= wanted, why);
            for (int i = 1; i < ticks.size(); i++) {
                assertEquals(ticks.get(i - 1).n() + 1, ticks.get(i).n());
                long gap = ticks.get(i).ms() - ticks.get(i - 1).ms();
                assertTrue(gap >= intervalMs - 5 && gap < intervalMs * 4,
                        "gap=" + gap + "\n" + why);
            }
            // The guest's TSC milliseconds and the host's clock agree on the pace.
            long guestMs = ticks.get(wanted - 1).ms() - ticks.getFirst().ms();
            assertTrue(hostMs >= guestMs / 2 && hostMs <= guestMs * 3,
                    "host_ms=" + hostMs + " guest_ms=" + guestMs);
            assertTrue(q.isAlive());
        }
    }

    @Test
    void debugPortByteReachesPort0x80(@TempDir Path dir) throws IOException {
        Path debugcon = dir.resolve("port80.out");
        List<String> device = List.of("-chardev", "file,id=port80,path=" + debugcon,
                "-device", "isa-debugcon,iobase=0x80,chardev=port80");
        try (QemuGuest q = QemuGuest.start(MICROVM, 1, MEMORY_MIB, GuestKit.pvhGuest(),
                "kit.debugport=0x5a kit.action=poweroff", null, device)) {
            OptionalInt exit = q.awaitExit(BOOT_TIMEOUT);

            assertEquals(OptionalInt.of(0), exit, q.diagnostics());
            assertEquals(0x5a, q.report().require("DEBUGPORT").number("value"));
            byte[] written = Files.readAllBytes(debugcon);
            assertEquals(1, written.length);
            assertEquals(0x5a, written[0] & 0xFF);
        }
    }

    private static void assertAcpiTablesValid(KitReport r, List<String> expected) {
        List<AcpiTable> tables = r.acpiTables();
        for (String sig : expected) {
            assertTrue(r.acpiTable(sig).isPresent(), "no " + sig + " table:\n" + r);
        }
        for (AcpiTable t : tables) {
            if (!t.signature().equals("FACS")) {
                assertTrue(t.checksumOk(), "checksum of " + t);
            }
        }
    }

    private static void assertRtcNearHostClock(KitReport r, LocalDateTime before) {
        LocalDateTime rtc = r.rtc().orElseThrow().dateTime();
        LocalDateTime after = LocalDateTime.now(ZoneOffset.UTC);
        assertTrue(!rtc.isBefore(before.minusMinutes(1)) && !rtc.isAfter(after.plusMinutes(1)),
                "rtc=" + rtc + " host(UTC)=" + before + ".." + after);
    }
}
