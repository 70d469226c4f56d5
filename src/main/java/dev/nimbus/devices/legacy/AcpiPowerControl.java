package dev.nimbus.devices.legacy;

import dev.nimbus.devices.BusDevice;
import dev.nimbus.devices.VmControl;

/**
 * The ACPI sleep control, sleep status and reset registers of a hardware-reduced platform, all at
 * I/O port 0x600 as the FADT describes them. Writing SLP_EN with SLP_TYP 5 (the \_S5 value)
 * powers off; writing the FADT's reset value 1 resets (ACPI 6.5, sections 4.8.3.7 and 4.8.3.6).
 */
public final class AcpiPowerControl implements BusDevice {
    public static final int BASE = 0x600;
    public static final int LENGTH = 8;

    static final int RESET_VALUE = 1;
    static final int SLP_TYP_S5 = 5;
    static final int SLP_TYP_SHIFT = 2;
    static final int SLP_TYP_MASK = 0x7 << SLP_TYP_SHIFT;
    static final int SLP_EN = 1 << 5;

    private final VmControl control;

    public AcpiPowerControl(VmControl control) {
        this.control = control;
    }

    @Override
    public long read(long offset, int size) {
        return 0; // sleep status: wake not signalled
    }

    @Override
    public void write(long offset, int size, long value) {
        if (offset != 0) {
            return;
        }
        int v = (int) value & 0xFF;
        if (v == RESET_VALUE) {
            control.requestReset();
        } else if ((v & SLP_EN) != 0 && (v & SLP_TYP_MASK) >> SLP_TYP_SHIFT == SLP_TYP_S5) {
            control.requestPowerOff();
        }
    }
}
