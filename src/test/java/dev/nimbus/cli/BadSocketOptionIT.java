package dev.nimbus.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nimbus.testkit.NimbusProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A bad {@code --api-socket} ends {@code bin/nimbus} at start with exit code 1 and one line on
 * stderr, as a bad {@code --event-monitor} does.
 *
 * <p>The bugs: {@code fd=99} (not open) and {@code fd=1} (not a socket) were logged as accept
 * errors and the VMM then ran for ever without an API; {@code path=} bound a socket named
 * {@code path=} in the current directory; {@code ""} printed a message naming no path
 * ("Error creating API server socket : : Invalid argument").
 */
class BadSocketOptionIT {
    @TempDir
    static Path dir;

    static Stream<Arguments> cases() throws Exception {
        Path directory = Files.createDirectories(dir.resolve("a-directory"));
        String empty = "nimbus: API socket path is empty: give --api-socket path=<socket path>"
                + " or fd=<listening socket>";
        return Stream.of(
                Arguments.of("fd=99", "nimbus: API socket fd=99 is not an open file descriptor"),
                // The launcher's standard output is a file.
                Arguments.of("fd=1", "nimbus: API socket fd=1 is not a socket"),
                Arguments.of("fd=",
                        "nimbus: Error parsing --api-socket: fd= is not a file descriptor number"),
                Arguments.of("path=/tmp/a.sock,fd=1", "nimbus: Error parsing --api-socket:"
                        + " path and fd are mutually exclusive: give path=<socket path> or"
                        + " fd=<listening socket>, not both"),
                Arguments.of("path=", empty),
                Arguments.of("", empty),
                Arguments.of(directory.toString(),
                        "nimbus: API socket path " + directory + " is a directory"));
    }

    @ParameterizedTest(name = "--api-socket \"{0}\"")
    @MethodSource("cases")
    void badApiSocketGetsOneClearLineAndExitCodeOne(String value, String message) {
        NimbusProcess.Result r = NimbusProcess.run(Duration.ofSeconds(30), "--api-socket", value);
        assertEquals(1, r.exitCode(), r.stderr());
        assertEquals(message, r.stderr().strip(), "stderr must be exactly the one error line");
        assertEquals("", r.stdout());
        Path cwd = Path.of("").toAbsolutePath();
        assertFalse(Files.exists(cwd.resolve("path=")), "no socket named path=");
        assertTrue(Files.isDirectory(dir.resolve("a-directory")), "the directory is kept");
    }
}
