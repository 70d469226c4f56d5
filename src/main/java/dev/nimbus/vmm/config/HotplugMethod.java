package dev.nimbus.vmm.config;

/** How memory is hot-plugged: ACPI DIMM slots or virtio-mem. */
public enum HotplugMethod implements WireEnum.Named {
    ACPI("Acpi", "acpi"),
    VIRTIO_MEM("VirtioMem", "virtio-mem");

    private final String jsonName;
    private final String cliName;

    HotplugMethod(String jsonName, String cliName) {
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
