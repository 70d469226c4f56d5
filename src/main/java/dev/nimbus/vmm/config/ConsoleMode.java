package dev.nimbus.vmm.config;

/** Where a console's bytes go; the JSON names are Cloud Hypervisor's. */
public enum ConsoleMode {
    OFF("Off"),
    PTY("Pty"),
    TTY("Tty"),
    FILE("File"),
    SOCKET("Socket"),
    NULL("Null");

    private final String jsonName;

    ConsoleMode(String jsonName) {
        this.jsonName = jsonName;
    }

    public String jsonName() {
        return jsonName;
    }
}
