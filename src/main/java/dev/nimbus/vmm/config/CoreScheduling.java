package dev.nimbus.vmm.config;

/** Linux core-scheduling cookies for vCPU threads: one per VM, one per vCPU, or none. */
public enum CoreScheduling implements WireEnum.Named {
    VM("Vm", "vm"),
    VCPU("Vcpu", "vcpu"),
    OFF("Off", "off");

    private final String jsonName;
    private final String cliName;

    CoreScheduling(String jsonName, String cliName) {
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
