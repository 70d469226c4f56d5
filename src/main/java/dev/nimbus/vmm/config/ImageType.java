package dev.nimbus.vmm.config;

/** A disk image format; {@link #UNKNOWN} asks for detection from the image's header. */
public enum ImageType implements WireEnum.Named {
    FLAT_VMDK("FlatVmdk", "vmdk"),
    FIXED_VHD("FixedVhd", "vhd"),
    QCOW2("Qcow2", "qcow2"),
    RAW("Raw", "raw"),
    VHDX("Vhdx", "vhdx"),
    UNKNOWN("Unknown", null);

    private final String jsonName;
    private final String cliName;

    ImageType(String jsonName, String cliName) {
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
