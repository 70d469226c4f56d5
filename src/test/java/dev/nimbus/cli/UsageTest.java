package dev.nimbus.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class UsageTest {

    @Test
    void versionIsNameThenVersionAndFeaturesWhenVerbose() {
        assertEquals("nimbus v0.1.0\n", Usage.versionText(0));
        assertEquals("nimbus v0.1.0\nEnabled features: [\"kvm\"]\n", Usage.versionText(1));
    }

    @Test
    void versionMatchesTheMavenProject() throws IOException {
        String pom = Files.readString(Path.of("pom.xml"));
        Matcher m = Pattern.compile("<artifactId>nimbus</artifactId>\\s*<version>([^<]+)</version>")
                .matcher(pom);

        assertTrue(m.find());
        assertEquals(m.group(1), Usage.VERSION);
    }

    @Test
    void helpMentionsEveryAcceptedOptionWithinOneHundredColumns() {
        String help = Usage.helpText();

        for (String option : new String[] {"--kernel", "--firmware", "--initramfs", "--cmdline",
            "--cpus", "--memory", "--disk", "--net", "--rng", "--balloon", "--fs", "--pmem",
            "--vsock", "--serial", "--console", "--debug-console", "--api-socket",
            "--event-monitor", "--log-file", "-v", "--seccomp", "--no-shutdown", "--version",
            "--help"}) {
            assertTrue(help.contains(option + " ") || help.contains(option + "\n")
                    || help.contains(option + ","), option);
        }
        help.lines().forEach(line -> assertTrue(line.length() <= 100, line));
    }
}
