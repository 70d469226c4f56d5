package dev.nimbus.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** How {@code --api-socket} reads an empty value. */
class ApiSocketOptionTest {
    private static CommandLine.Target target(String value) throws CommandLineException {
        return CommandLine.parse("--api-socket", value).apiSocket().orElseThrow();
    }

    /**
     * The bug: {@code path=} with nothing after it was taken for a bare path, so the VMM bound a
     * socket literally named {@code path=} in the current directory; {@code fd=} likewise. The
     * empty value is now kept, for the API server to refuse, and an empty fd is a parse error.
     */
    @Test
    void emptyPathOrFdIsNotTakenForABarePath() throws Exception {
        assertEquals(new CommandLine.Target.Path(""), target("path="));
        assertEquals(new CommandLine.Target.Path(""), target(""));
        CommandLineException e = assertThrows(CommandLineException.class, () -> target("fd="));
        assertEquals("Error parsing --api-socket: fd= is not a file descriptor number",
                e.getMessage());
    }

    /** The bug: {@code path=...,fd=3} used fd 3 and reported "fd=3 is not a socket". */
    @Test
    void pathAndFdTogetherAreRefused() {
        for (String value : new String[] {"path=/tmp/a.sock,fd=3", "fd=3,path=/tmp/a.sock",
                "path=,fd="}) {
            CommandLineException e = assertThrows(CommandLineException.class,
                    () -> target(value));
            assertEquals("Error parsing --api-socket: path and fd are mutually exclusive: give"
                    + " path=<socket path> or fd=<listening socket>, not both", e.getMessage(),
                    value);
        }
    }
}
