package dev.nimbus.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The hello guest, the boot benchmark's payload, does the same under Nimbus and under QEMU: one
 * line on the UART, then power-off; with {@code kit.action=halt} it stays up and silent.
 */
class HelloGuestIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final String HELLO = "KIT-HELLO boot=pvh\r\n";

    @Test
    void printsOneLineAndPowersOffUnderNimbus() {
        NimbusProcess.Result r = NimbusProcess.run(TIMEOUT, "--kernel",
                GuestKit.helloGuest().toString(), "--serial", "tty", "--console", "off");
        assertEquals(0, r.exitCode(), r.stderr());
        assertEquals(HELLO, r.stdout(), r.stderr());
    }

    @Test
    void haltKeepsItRunningAndSilentUnderNimbus() throws InterruptedException {
        try (NimbusProcess p = NimbusProcess.start("--kernel", GuestKit.helloGuest().toString(),
                "--cmdline", "kit.action=halt", "--serial", "tty", "--console", "off")) {
            p.awaitStdout(s -> s.contains("\n"), TIMEOUT);
            Thread.sleep(500);
            assertTrue(p.isAlive(), p.diagnostics());
            assertEquals(HELLO, p.stdout(), p.diagnostics());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"microvm", "q35"})
    void printsOneLineAndPowersOffUnderQemu(String machine) {
        assertTrue(QemuGuest.available(), QemuGuest.QEMU + " is not installed");
        try (QemuGuest q = QemuGuest.start(machine, 1, 512, GuestKit.helloGuest(), "", null,
                List.of())) {
            OptionalInt exit = q.awaitExit(TIMEOUT);
            assertEquals(OptionalInt.of(0), exit, q.diagnostics());
            // Firmware (q35: SeaBIOS) may print first; the guest prints its one line last.
            String out = q.diagnostics();
            assertTrue(out.endsWith(HELLO), out);
            assertEquals(out.indexOf("KIT-"), out.lastIndexOf("KIT-"), out);
        }
    }
}
