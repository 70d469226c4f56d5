package dev.nimbus.vmm.config;

/** Which side of a vhost-user socket connects: the VMM as client, or as server. */
public enum VhostMode implements WireEnum.Named {
    CLIENT("Client", "client"),
    SERVER("Server", "server");

    private final String jsonName;
    private final String cliName;

    VhostMode(String jsonName, String cliName) {
        this.jsonName = jsonName;
        this.cliName = cliName;
    }

    @Override
    public String jsonName() {
        return jsonName;
    }

    @Override
    public String cliName() {
        return cliName;
    }
}
