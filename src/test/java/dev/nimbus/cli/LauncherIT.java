package dev.nimbus.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nimbus.testkit.NimbusProcess;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** {@code bin/nimbus --version} and {@code --help}, as a user runs them. */
class LauncherIT {
    /** Regression: the version line was followed by an empty line. */
    @Test
    void versionIsOneLine() {
        NimbusProcess.Result r = NimbusProcess.run(Duration.ofSeconds(30), "--version");
        assertEquals(0, r.exitCode(), r.stderr());
        assertEquals("nimbus v" + Usage.VERSION + "\n", r.stdout());
    }

    @Test
    void helpListsTheOptions() {
        NimbusProcess.Result r = NimbusProcess.run(Duration.ofSeconds(30), "--help");
        assertEquals(0, r.exitCode(), r.stderr());
        for (String option : new String[] {"--kernel", "--cpus", "--memory", "--disk", "--net",
            "--serial", "--console", "--api-socket", "--event-monitor"}) {
            assertTrue(r.stdout().contains(option), option);
        }
    }
}
