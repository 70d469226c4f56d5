package dev.nimbus.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * Argument checks of {@code nimbus-remote} that end before any connection: the socket named
 * here does not exist, so reaching it would print "Error opening HTTP socket" instead.
 */
class RemoteMainTest {
    private static final String SOCKET = "/tmp/fixremote/none.sock";

    record Run(int code, String out, String err) {}

    private static Run remote(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        String[] all = new String[args.length + 2];
        all[0] = "--api-socket";
        all[1] = SOCKET;
        System.arraycopy(args, 0, all, 2, args.length);
        int code = RemoteMain.run(all, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(code, out.toString(StandardCharsets.UTF_8),
                err.toString(StandardCharsets.UTF_8));
    }

    private static void usageError(String message, String... args) {
        assertEquals(new Run(2, "", "error: " + message + "\n"), remote(args));
    }

    /** The bug: a missing --id, --disk or --size threw a NullPointerException. */
    @Test
    void resizeZoneAndResizeDiskNameTheMissingOption() {
        usageError("the following required arguments were not provided: --id <id>",
                "resize-zone", "--size", "1G");
        usageError("the following required arguments were not provided: --size <size>",
                "resize-zone", "--id", "mem0");
        usageError("the following required arguments were not provided: --id <id>",
                "resize-zone");
        usageError("the following required arguments were not provided: --disk <disk>",
                "resize-disk", "--size", "1G");
        usageError("the following required arguments were not provided: --size <size>",
                "resize-disk", "--disk=disk0");
    }

    @Test
    void everyPositionalThatIsRequiredIsChecked() {
        for (String c : RemoteMain.COMMANDS.keySet()) {
            RemoteMain.Spec spec = RemoteMain.spec(c);
            if (spec.positionalRequired()) {
                usageError("the following required arguments were not provided: <"
                        + spec.positional() + ">", c);
            }
        }
    }

    /** The bug: arguments a subcommand does not take were ignored and the request sent. */
    @Test
    void anArgumentTheSubcommandDoesNotTakeIsRefused() {
        usageError("unexpected argument 'extra' found", "ping", "extra");
        usageError("unexpected argument 'extra' found", "boot", "extra");
        usageError("unexpected argument 'b' found", "remove-device", "a", "b");
        usageError("unexpected argument '--cpu' found", "resize", "--cpu", "2");
        usageError("unexpected argument '--foo' found", "add-disk", "--foo=1", "path=/x");
        usageError("unexpected argument '-x' found", "info", "-x");
        usageError("the argument '--cpus <cpus>' cannot be used multiple times",
                "resize", "--cpus", "1", "--cpus=2");
    }

    /** The bug: {@code resize --cpus} with no value sent a request without desired_vcpus. */
    @Test
    void anOptionWithoutItsValueIsRefused() {
        usageError("a value is required for '--cpus <cpus>' but none was supplied",
                "resize", "--cpus");
        usageError("a value is required for '--cpus <cpus>' but none was supplied; to pass"
                + " '--memory' as a value, use '--cpus=--memory'", "resize", "--cpus",
                "--memory", "1G");
        usageError("a value is required for '--cpus <cpus>' but none was supplied; to pass"
                + " '-1' as a value, use '--cpus=-1'", "resize", "--cpus", "-1");
    }

    /** The bug: Java's NumberFormatException text, which named neither option nor value. */
    @Test
    void aBadCpuCountNamesTheOptionAndTheValue() {
        assertEquals(new Run(1, "", """
                Error: nimbus-remote exited with the following chain of errors:
                  0: Error parsing CPU count
                  1: invalid value 'x' for '--cpus': invalid digit found in string
                """), remote("resize", "--cpus", "x"));
        assertEquals(new Run(1, "", """
                Error: nimbus-remote exited with the following chain of errors:
                  0: Error parsing CPU count
                  1: invalid value '-1' for '--cpus': invalid digit found in string
                """), remote("resize", "--cpus=-1"));
        assertEquals(new Run(1, "", """
                Error: nimbus-remote exited with the following chain of errors:
                  0: Error parsing CPU count
                  1: invalid value '4294967296' for '--cpus': number too large to fit in\
                 target type
                """), remote("resize", "--cpus", "4294967296"));
        assertEquals(new Run(1, "", """
                Error: nimbus-remote exited with the following chain of errors:
                  0: Error parsing CPU count
                  1: invalid value '' for '--cpus': cannot parse integer from empty string
                """), remote("resize", "--cpus="));
    }

    /** The bug: the chain said the context twice and named an internal key, "for size". */
    @Test
    void aBadSizeNamesTheOptionAndTheValue() {
        assertEquals(new Run(1, "", """
                Error: nimbus-remote exited with the following chain of errors:
                  0: Error parsing memory size
                  1: invalid value 'x' for '--size': not a size in bytes with an optional K, M\
                 or G suffix
                """), remote("resize-zone", "--id", "mem0", "--size", "x"));
        assertEquals(new Run(1, "", """
                Error: nimbus-remote exited with the following chain of errors:
                  0: Error parsing balloon size
                  1: invalid value '1Q' for '--balloon': not a size in bytes with an optional K,\
                 M or G suffix
                """), remote("resize", "--balloon", "1Q"));
    }

    @Test
    void subcommandHelpExitsWithZero() {
        Run r = remote("resize-disk", "--help");
        assertEquals(0, r.code());
        assertEquals("", r.err());
        assertEquals("Resize an attached disk\n\nUsage: nimbus-remote resize-disk [OPTIONS]\n",
                r.out().substring(0, r.out().indexOf("\n\nOptions")) + "\n");
    }

    @Test
    void wellFormedArgumentsGetAsFarAsTheSocket() {
        for (String[] args : new String[][] {
                {"ping"}, {"resize", "--cpus", "2", "--memory=1G"},
                {"resize-zone", "--id", "mem0", "--size", "1G"},
                {"resize-disk", "--size=1G", "--disk", "disk0"},
                {"remove-device", "--", "-odd-id"}, {"add-disk", "path=/tmp/fixremote/d"}}) {
            Run r = remote(args);
            assertEquals(1, r.code(), String.join(" ", args));
            assertEquals("Error opening HTTP socket: ", r.err().substring(0, 27), r.err());
        }
    }
}
