package dev.nimbus.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The kit's virtio driver against QEMU's virtio-pci devices with KVM, the reference the Nimbus
 * tests ({@code dev.nimbus.devices.VirtioKitIT}) are held to: machine q35 (SeaBIOS assigns
 * the BARs, 0xCF8/0xCFC and ECAM at 0xB0000000 both decode), transitional virtio devices with
 * their modern capabilities, MSI-X.
 *
 * <p>Every result is checked on the host: the entropy file's bytes, the console chardev's file,
 * the disk image's bytes, frames in a network namespace of the test's own (see
 * {@link TapNetwork}). Both boot paths of the kit run each test.
 */
class QemuVirtioKitIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(90);
    private static final String MACHINE = "q35";
    private static final int MEMORY_MIB = 512;
    private static final long Q35_ECAM_BASE = 0xB000_0000L;
    private static final int RNG_BYTES = 1000;

    @TempDir
    Path dir;

    @BeforeAll
    static void requireQemu() {
        assertTrue(QemuGuest.available(), QemuGuest.QEMU
                + " is not installed (Debian: apt-get install qemu-system-x86)");
    }

    private static Path kernel(String path) {
        return path.equals("pvh") ? GuestKit.pvhGuest() : GuestKit.bzImageGuest();
    }

    private static QemuGuest start(String path, String cmdline, List<String> devices) {
        List<String> extra = new ArrayList<>(List.of("-nic", "none"));
        extra.addAll(devices);
        return QemuGuest.start(MACHINE, 1, MEMORY_MIB, kernel(path),
                "kit.action=poweroff " + cmdline, null, extra);
    }

    private static KitReport runToPowerOff(QemuGuest q) {
        OptionalInt exit = q.awaitExit(TIMEOUT);
        assertEquals(OptionalInt.of(0), exit, q.diagnostics());
        return q.report();
    }

    @ParameterizedTest
    @ValueSource(strings = {"pvh", "bzimage"})
    void bothConfigurationMechanismsSeeTheSameBusAndTheCapabilitiesPointIntoBars(String path)
            throws IOException {
        Path entropy = dir.resolve("entropy");
        Files.write(entropy, new byte[4096]);
        try (QemuGuest q = start(path, "", List.of(
                "-object", "rng-random,filename=" + entropy + ",id=rng0",
                "-device", "virtio-rng-pci,rng=rng0",
                "-device", "virtio-serial-pci"))) {
            KitReport r = runToPowerOff(q);
            VirtioKitChecks.assertBothMechanismsAgree(r, Q35_ECAM_BASE);
            assertTrue(r.errors().isEmpty(), r.toString());
            KitReport.Line host = VirtioKitChecks.function(r, "00:00.0");
            assertEquals(0x8086, host.number("vendor"));
            assertEquals(0x29C0, host.number("device"), "q35's MCH");
            assertEquals(0x060000, host.number("class"));
            long virtio = r.lines("PCI").stream()
                    .filter(l -> l.number("vendor") == 0x1AF4).count();
            assertEquals(2, virtio, r.toString());
            VirtioKitChecks.assertStructuresInsideBars(r);
            // SeaBIOS placed every BAR below 4 GiB: the kit had nothing to move.
            assertTrue(r.lines("PCI-BAR-MOVE").isEmpty(), r.toString());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"pvh", "bzimage"})
    void rngDeliversTheSourceFilesBytes(String path) throws IOException {
        byte[] source = new byte[64 << 10];
        new Random(41).nextBytes(source);
        Path entropy = dir.resolve("entropy");
        Files.write(entropy, source);
        try (QemuGuest q = start(path, "kit.virtio=rng kit.rng.bytes=" + RNG_BYTES, List.of(
                "-object", "rng-random,filename=" + entropy + ",id=rng0",
                "-device", "virtio-rng-pci,rng=rng0"))) {
            KitReport r = runToPowerOff(q);
            VirtioKitChecks.assertDevicesDriven(r, List.of("rng"));
            VirtioKitChecks.assertRngReadTheSource(r, source, RNG_BYTES);
            VirtioKitChecks.assertRngLooksRandom(r, RNG_BYTES);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"pvh", "bzimage"})
    void consoleLinesLandInTheChardevFile(String path) throws IOException {
        Path console = dir.resolve("console.txt");
        String token = "qemu-" + path;
        try (QemuGuest q = start(path, "kit.virtio=console kit.console.text=" + token, List.of(
                "-device", "virtio-serial-pci",
                "-chardev", "file,id=con0,path=" + console,
                "-device", "virtconsole,chardev=con0"))) {
            KitReport r = runToPowerOff(q);
            VirtioKitChecks.assertDevicesDriven(r, List.of("console"));
            // virtio-serial-pci has two MSI-X vectors: the kit shares one among its queues.
            assertEquals("shared", VirtioKitChecks.line(r, "VIRTIO-MSIX", "console").get("mode"));
            VirtioKitChecks.assertConsoleFile(r, Files.readString(console,
                    StandardCharsets.ISO_8859_1), path, token);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"pvh", "bzimage"})
    void blockReadsAndWritesAreTheImagesBytes(String path) throws IOException {
        KitDisk disk = KitDisk.create(dir);
        try (QemuGuest q = start(path, "kit.virtio=blk " + disk.cmdline(), List.of(
                "-drive", "file=" + disk.image() + ",if=none,id=disk0,format=raw",
                "-device", "virtio-blk-pci,drive=disk0,serial=" + KitDisk.SERIAL))) {
            KitReport r = runToPowerOff(q);
            VirtioKitChecks.assertDevicesDriven(r, List.of("blk"));
            disk.assertGuestReport(r);
        }
        disk.assertImage();
    }

    @ParameterizedTest
    @ValueSource(strings = {"pvh", "bzimage"})
    void framesCrossTheTapIntactBothWays(String path) throws IOException {
        try (TapNetwork net = TapNetwork.create();
                KitNetExchange exchange = KitNetExchange.open(net);
                QemuGuest q = start(path, "kit.virtio=net " + exchange.cmdline(), List.of(
                        "-netdev", "tap,id=net0,ifname=" + net.tap()
                                + ",script=no,downscript=no",
                        "-device", "virtio-net-pci,netdev=net0,mac="
                                + KitNetExchange.GUEST_MAC))) {
            exchange.run(q::awaitReport, TIMEOUT);
            KitReport r = runToPowerOff(q);
            VirtioKitChecks.assertDevicesDriven(r, List.of("net"));
            assertTrue(r.require("VIRTIO-NET").flag("link_up"), r.toString());
            exchange.assertGuestToHost(r);
            exchange.assertHostToGuest(r);
        }
    }
}
