package dev.nimbus.vmm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nimbus.testkit.GuestKit;
import dev.nimbus.testkit.NimbusProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A guest on KVM that hits random I/O ports and random addresses in the device hole (the PCI
 * configuration mechanisms, the virtio BARs, the CMOS, the interrupt controllers, nothing at
 * all) with reads and writes of every width must not bring the VMM down: the guest reports
 * its count and powers off, the VMM exits 0, and the read-only disk it could reach through
 * the disk's BAR is unchanged.
 */
class GuestChaosIT {
    private static final Pattern CHAOS = Pattern.compile("KIT-CHAOS pio=(\\d+) mmio=(\\d+)");

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0} seed {1}")
    @CsvSource({"pvh, 1", "pvh, 2", "bzimage, 3"})
    void randomDeviceAccessesLeaveTheVmmRunning(String path, String seed) throws Exception {
        Path kernel = path.equals("pvh") ? GuestKit.pvhGuest() : GuestKit.bzImageGuest();
        Path serial = dir.resolve("serial.txt");
        Path disk = dir.resolve("disk.img");
        byte[] image = new byte[1 << 20];
        new Random(Long.parseLong(seed)).nextBytes(image);
        Files.write(disk, image);
        NimbusProcess.Result r = NimbusProcess.run(Duration.ofSeconds(120), "--kernel",
                kernel.toString(), "--cmdline",
                "kit.action=chaos kit.chaos.n=20000 kit.chaos.seed=" + seed,
                "--disk", "path=" + disk + ",image_type=raw,readonly=on",
                "--serial", "file=" + serial, "--console", "off", "--memory", "size=256M");
        String out = Files.readString(serial);
        assertEquals(0, r.exitCode(), r.stderr() + out);
        Matcher m = CHAOS.matcher(out);
        assertTrue(m.find(), out);
        int pio = Integer.parseInt(m.group(1));
        int mmio = Integer.parseInt(m.group(2));
        assertTrue(pio > 5000 && mmio > 5000, "both kinds of access ran: " + m.group());
        assertArrayEquals(image, Files.readAllBytes(disk), "the read-only disk changed");
    }
}
