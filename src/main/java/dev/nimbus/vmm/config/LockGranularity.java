package dev.nimbus.vmm.config;

/** How much of a disk image the advisory fcntl lock covers: [0, size), or the whole file. */
public enum LockGranularity implements WireEnum.Named {
    BYTE_RANGE("ByteRange", "byte-range"),
    FULL("Full", "full");

    private final String jsonName;
    private final String cliName;

    LockGranularity(String jsonName, String cliName) {
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
