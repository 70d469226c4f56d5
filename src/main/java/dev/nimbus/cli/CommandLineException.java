package dev.nimbus.cli;

/**
 * A command line that cannot be run: an unknown or unsupported option, a missing value, or an
 * option string or configuration that does not parse or validate. The message is one line meant
 * for standard error, e.g. {@code Error parsing --disk: Unknown option: foo}.
 */
public final class CommandLineException extends Exception {
    private static final long serialVersionUID = 1L;

    public CommandLineException(String message) {
        super(message);
    }
}
