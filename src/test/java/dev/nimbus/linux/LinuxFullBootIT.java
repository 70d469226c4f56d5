package dev.nimbus.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.nimbus.testkit.GuestAssets;
import dev.nimbus.testkit.NimbusProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Debian's cloud kernel boots under Nimbus to its init, which reports the CPUs and memory it
 * found and powers off; Nimbus then exits with code 0. This needs KVM with hardware
 * virtualization: on an emulating KVM (KVM-PVM) Linux stops early, so the test is skipped there
 * with the reason, and {@link LinuxEarlyBootIT} checks the part such a host can run.
 */
class LinuxFullBootIT {
    private static final Duration TIMEOUT = Duration.ofMinutes(3);
    private static final Pattern READY = Pattern.compile(
            "NIMBUS-GUEST-READY kernel=(\\S+) cpus=(\\d+) mem_total_kb=(\\d+)");

    @BeforeEach
    void needsHardwareVirtualization() {
        String why = HostKvm.emulationWarning();
        assumeTrue(why == null, "Full Linux boot needs VMX/SVM: " + why);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"bzImage", "vmlinux"})
    void linuxBootsToInitAndPowersOff(String format) {
        Path kernel = format.equals("bzImage") ? GuestAssets.bzImage() : GuestAssets.vmlinux();
        try (NimbusProcess p = NimbusProcess.start("--kernel", kernel.toString(),
                "--initramfs", GuestAssets.initramfs().toString(),
                "--cmdline", "console=ttyS0 reboot=k panic=1",
                "--cpus", "boot=2", "--memory", "size=512M", "--serial", "tty",
                "--console", "off")) {
            var exit = p.awaitExit(TIMEOUT);
            String why = p.diagnostics();
            assertTrue(exit.isPresent(), "no power-off within " + TIMEOUT + "\n" + why);
            assertEquals(0, exit.getAsInt(), why);
            Matcher m = READY.matcher(p.stdout());
            assertTrue(m.find(), why);
            assertEquals(2, Integer.parseInt(m.group(2)), "CPUs the guest counted");
            long memKb = Long.parseLong(m.group(3));
            assertTrue(memKb > 400_000 && memKb <= 512 * 1024, "MemTotal=" + memKb + " kB");
            assertTrue(p.stdout().contains("NIMBUS-GUEST-POWEROFF"), why);
        }
    }
}
