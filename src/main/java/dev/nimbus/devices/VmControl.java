package dev.nimbus.devices;

/** What platform devices may ask of the VM as a whole. */
public interface VmControl {
    /** The guest asked to power off (ACPI S5). */
    void requestPowerOff();

    /** The guest asked to reset (ACPI reset register, i8042 pulse). */
    void requestReset();
}
