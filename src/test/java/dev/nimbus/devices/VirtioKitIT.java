package dev.nimbus.devices;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nimbus.devices.pci.PciSegment;
import dev.nimbus.devices.virtio.VirtioPciDevice;
import dev.nimbus.testkit.GuestKit;
import dev.nimbus.testkit.KitDisk;
import dev.nimbus.testkit.KitNetExchange;
import dev.nimbus.testkit.KitReport;
import dev.nimbus.testkit.NimbusProcess;
import dev.nimbus.testkit.TapNetwork;
import dev.nimbus.testkit.VirtioKitChecks;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.Random;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Kit guests booted by {@code bin/nimbus} drive its virtio-pci devices the way
 * {@code dev.nimbus.testkit.QemuVirtioKitIT} drives QEMU's: PCI through 0xCF8/0xCFC and ECAM,
 * capabilities, BARs moved below 4 GiB, MSI-X interrupts taken by an IDT handler, virtio 1.x
 * initialization, then each device's action, with every result checked on the host.
 *
 * <p>The block and network tests ({@code --disk path=...,serial=...} and
 * {@code --net tap=...,mac=...}) fail until virtio-blk and virtio-net are wired into the VM:
 * the guest then reports {@code KIT-ERROR what=virtio-device-not-found}.
 */
class VirtioKitIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(90);
    private static final int RNG_BYTES = 1000;
    private static final long FOUR_GIB = 1L << 32;
    private static final int VIRTIO_PCI_DEVICE_CONSOLE = 0x1043;
    private static final int VIRTIO_PCI_DEVICE_RNG = 0x1044;

    @TempDir
    Path dir;

    private static Path kernel(String path) {
        return path.equals("pvh") ? GuestKit.pvhGuest() : GuestKit.bzImageGuest();
    }

    private static List<String> args(String path, String cmdline, String... more) {
        List<String> a = new ArrayList<>(List.of("--kernel", kernel(path).toString(),
                "--cmdline", "kit.action=poweroff " + cmdline, "--serial", "tty"));
        a.addAll(List.of(more));
        return a;
    }

    private static KitReport runToPowerOff(NimbusProcess p) {
        OptionalInt exit = p.awaitExit(TIMEOUT);
        assertEquals(OptionalInt.of(0), exit, p.diagnostics());
        return p.report();
    }

    private static KitReport run(List<String> args) {
        try (NimbusProcess p = NimbusProcess.start(args)) {
            return runToPowerOff(p);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"pvh", "bzimage"})
    void bothConfigurationMechanismsSeeTheDeviceModelsLayout(String path) throws IOException {
        Path console = dir.resolve("console.txt");
        KitReport r = run(args(path, "", "--console", "file=" + console));
        VirtioKitChecks.assertBothMechanismsAgree(r, PciSegment.PCI_MMCONFIG_START);
        assertTrue(r.errors().isEmpty(), r.toString());

        KitReport.Line host = VirtioKitChecks.function(r, "00:00.0");
        assertEquals(0x8086, host.number("vendor"));
        assertEquals(0x0D57, host.number("device"));
        assertEquals(0x060000, host.number("class"));

        int[] ids = {VIRTIO_PCI_DEVICE_CONSOLE, VIRTIO_PCI_DEVICE_RNG};
        int[] vectors = {3, 2};     // one per queue plus the configuration vector
        for (int i = 0; i < ids.length; i++) {
            int id = ids[i];
            KitReport.Line f = r.lines("PCI").stream().filter(l -> l.number("device") == id)
                    .findFirst().orElseThrow(() -> new AssertionError("no device " + id));
            String bdf = f.get("bdf");
            assertEquals(VirtioPciDevice.VIRTIO_PCI_VENDOR_ID, f.number("vendor"));
            assertEquals(VirtioPciDevice.VIRTIO_PCI_MODERN_REVISION, f.number("revision"));
            assertEquals(0, f.number("irq_pin"), "no INTx: " + f.raw());

            List<KitReport.Line> bars = r.lines("PCI-BAR").stream()
                    .filter(b -> b.get("bdf").equals(bdf)).toList();
            assertEquals(1, bars.size(), r.toString());
            KitReport.Line bar = bars.get(0);
            assertEquals(0, bar.number("bar"));
            assertEquals("mem64", bar.get("type"));
            assertEquals(VirtioPciDevice.CAPABILITY_BAR_SIZE, bar.number("size"));
            assertTrue(bar.number("addr") >= FOUR_GIB, "64-bit BARs go above 4 GiB: "
                    + bar.raw());

            assertCap(r, bdf, "common", VirtioPciDevice.COMMON_CONFIG_BAR_OFFSET,
                    VirtioPciDevice.COMMON_CONFIG_SIZE);
            assertCap(r, bdf, "isr", VirtioPciDevice.ISR_CONFIG_BAR_OFFSET,
                    VirtioPciDevice.ISR_CONFIG_SIZE);
            KitReport.Line notify = assertCap(r, bdf, "notify",
                    VirtioPciDevice.NOTIFICATION_BAR_OFFSET, VirtioPciDevice.NOTIFICATION_SIZE);
            assertEquals(VirtioPciDevice.NOTIFY_OFF_MULTIPLIER, notify.number("multiplier"));
            KitReport.Line msix = r.lines("PCI-CAP").stream()
                    .filter(c -> c.get("bdf").equals(bdf) && c.get("name").equals("msix"))
                    .findFirst().orElseThrow();
            assertEquals(vectors[i], msix.number("table_size"), msix.raw());
            assertEquals(0, msix.number("table_bar"));
            assertEquals(VirtioPciDevice.MSIX_TABLE_BAR_OFFSET, msix.number("table_offset"));
            assertEquals(0, msix.number("pba_bar"));
            assertEquals(VirtioPciDevice.MSIX_PBA_BAR_OFFSET, msix.number("pba_offset"));
        }
        VirtioKitChecks.assertStructuresInsideBars(r);
    }

    private static KitReport.Line assertCap(KitReport r, String bdf, String name, long offset,
                                            long length) {
        KitReport.Line c = r.lines("VIRTIO-CAP").stream()
                .filter(l -> l.get("bdf").equals(bdf) && l.get("name").equals(name))
                .findFirst().orElseThrow(() -> new AssertionError("no " + name + " cap on "
                        + bdf + "\n" + r));
        assertEquals(0, c.number("bar"), c.raw());
        assertEquals(offset, c.number("bar_offset"), c.raw());
        assertEquals(length, c.number("length"), c.raw());
        return c;
    }

    @ParameterizedTest
    @ValueSource(strings = {"pvh", "bzimage"})
    void rngDeliversTheSourceFilesBytesThroughAMovedBar(String path) throws IOException {
        byte[] source = new byte[64 << 10];
        new Random(43).nextBytes(source);
        Path entropy = dir.resolve("entropy");
        Files.write(entropy, source);
        KitReport r = run(args(path, "kit.virtio=rng kit.rng.bytes=" + RNG_BYTES,
                "--console", "off", "--rng", "src=" + entropy));
        VirtioKitChecks.assertDevicesDriven(r, List.of("rng"));
        VirtioKitChecks.assertRngReadTheSource(r, source, RNG_BYTES);

        // The guest moved BAR 0 from above 4 GiB into the 32-bit window and used it there.
        String bdf = VirtioKitChecks.line(r, "VIRTIO", "rng").get("bdf");
        KitReport.Line move = r.lines("PCI-BAR-MOVE").stream()
                .filter(m -> m.get("bdf").equals(bdf)).findFirst().orElseThrow();
        assertTrue(move.number("from") >= FOUR_GIB, move.raw());
        long to = move.number("to");
        assertTrue(to >= PciSegment.MEM_32BIT_DEVICES_START && to + move.number("size")
                <= PciSegment.MEM_32BIT_DEVICES_START + PciSegment.MEM_32BIT_DEVICES_SIZE,
                move.raw());
        assertEquals(to + VirtioPciDevice.COMMON_CONFIG_BAR_OFFSET,
                VirtioKitChecks.line(r, "VIRTIO", "rng").number("common"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"pvh", "bzimage"})
    void rngFromTheDefaultSourceLooksRandom(String path) {
        KitReport r = run(args(path, "kit.virtio=rng kit.rng.bytes=" + RNG_BYTES,
                "--console", "off"));
        VirtioKitChecks.assertDevicesDriven(r, List.of("rng"));
        VirtioKitChecks.assertRngLooksRandom(r, RNG_BYTES);
    }

    @ParameterizedTest
    @ValueSource(strings = {"pvh", "bzimage"})
    void consoleLinesLandInTheConsoleFile(String path) throws IOException {
        Path console = dir.resolve("console.txt");
        String token = "nimbus-" + path;
        KitReport r = run(args(path, "kit.virtio=console kit.console.text=" + token,
                "--console", "file=" + console));
        VirtioKitChecks.assertDevicesDriven(r, List.of("console"));
        assertEquals("per-queue", VirtioKitChecks.line(r, "VIRTIO-MSIX", "console").get("mode"));
        VirtioKitChecks.assertConsoleFile(r, Files.readString(console,
                StandardCharsets.ISO_8859_1), path, token);
    }

    /** Known sectors read back by CRC, written sectors checked in the image: {@code --disk}. */
    @ParameterizedTest
    @ValueSource(strings = {"pvh", "bzimage"})
    void blockReadsAndWritesAreTheImagesBytes(String path) throws IOException {
        KitDisk disk = KitDisk.create(dir);
        KitReport r = run(args(path, "kit.virtio=blk " + disk.cmdline(), "--console", "off",
                "--disk", "path=" + disk.image() + ",serial=" + KitDisk.SERIAL));
        VirtioKitChecks.assertDevicesDriven(r, List.of("blk"));
        disk.assertGuestReport(r);
        disk.assertImage();
    }

    /** Frames both ways through a tap bridged into a test namespace: {@code --net tap=}. */
    @ParameterizedTest
    @ValueSource(strings = {"pvh", "bzimage"})
    void framesCrossTheTapIntactBothWays(String path) throws IOException {
        try (TapNetwork net = TapNetwork.create();
                KitNetExchange exchange = KitNetExchange.open(net);
                NimbusProcess p = NimbusProcess.start(args(path,
                        "kit.virtio=net " + exchange.cmdline(), "--console", "off",
                        "--net", "tap=" + net.tap() + ",mac=" + KitNetExchange.GUEST_MAC))) {
            exchange.run(p::awaitReport, TIMEOUT);
            KitReport r = runToPowerOff(p);
            VirtioKitChecks.assertDevicesDriven(r, List.of("net"));
            assertLinkUp(r);
            exchange.assertGuestToHost(r);
            exchange.assertHostToGuest(r);
        }
    }

    /** Without VIRTIO_NET_F_STATUS (Cloud Hypervisor offers none) the link is up (5.1.4). */
    private static void assertLinkUp(KitReport r) {
        KitReport.Line net = r.require("VIRTIO-NET");
        assertTrue(!net.has("link_up") || net.flag("link_up"), net.raw());
    }

    /**
     * The whole criterion in one boot: all four devices, one after the other. Fails
     * until virtio-blk and virtio-net are wired into the VM.
     */
    @ParameterizedTest
    @ValueSource(strings = {"pvh", "bzimage"})
    void allFourDevicesInOneBoot(String path) throws IOException {
        byte[] source = new byte[16 << 10];
        new Random(47).nextBytes(source);
        Path entropy = dir.resolve("entropy");
        Files.write(entropy, source);
        Path console = dir.resolve("console.txt");
        KitDisk disk = KitDisk.create(dir);
        try (TapNetwork net = TapNetwork.create();
                KitNetExchange exchange = KitNetExchange.open(net);
                NimbusProcess p = NimbusProcess.start(args(path,
                        "kit.virtio=rng,console,blk,net kit.rng.bytes=" + RNG_BYTES
                                + " kit.console.text=all " + disk.cmdline() + " "
                                + exchange.cmdline(),
                        "--console", "file=" + console, "--rng", "src=" + entropy,
                        "--disk", "path=" + disk.image() + ",serial=" + KitDisk.SERIAL,
                        "--net", "tap=" + net.tap() + ",mac=" + KitNetExchange.GUEST_MAC))) {
            exchange.run(p::awaitReport, TIMEOUT);
            KitReport r = runToPowerOff(p);
            VirtioKitChecks.assertDevicesDriven(r, List.of("rng", "console", "blk", "net"));
            VirtioKitChecks.assertRngReadTheSource(r, source, RNG_BYTES);
            VirtioKitChecks.assertConsoleFile(r, Files.readString(console,
                    StandardCharsets.ISO_8859_1), path, "all");
            disk.assertGuestReport(r);
            assertLinkUp(r);
            exchange.assertGuestToHost(r);
            exchange.assertHostToGuest(r);
        }
        disk.assertImage();
    }
}
