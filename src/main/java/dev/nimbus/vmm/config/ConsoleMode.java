package dev.nimbus.vmm.config;

/** Where a console's bytes go; the JSON names are those of the API's {@code ConsoleMode}. */
public enum ConsoleMode implements WireEnum.Named {
    OFF("Off", "off"),
    PTY("Pty", "pty"),
    TTY("Tty", "tty"),
    FILE("File", "file"),
    SOCKET("Socket", "socket"),
    NULL("Null", "null");

    private final String jsonName;
    private final String cliName;

    ConsoleMode(String jsonName, String cliName) {
        this.jsonName = jsonName;
        this.cliName = cliName;
    }

    /** The API spelling, e.g. {@code "Tty"}. */
    @Override
    public String jsonName() {
        return jsonName;
    }

    /** The command-line spelling, e.g. {@code tty}. */
    @Override
    public String cliName() {
        return cliName;
    }
}
