package dev.nimbus.devices.legacy;

import dev.nimbus.devices.BusDevice;
import dev.nimbus.devices.VmControl;

/**
 * The part of the i8042 keyboard controller a guest needs to reset the machine: the command
 * port's "pulse output line" command 0xFE resets the CPU (Linux's {@code reboot=k}). Registered
 * at 0x61 with length 4, so it also answers port B (0x61), whose bit 5 guests poll.
 */
public final class I8042 implements BusDevice {
    public static final int BASE = 0x61;
    public static final int LENGTH = 4;

    private static final int PORT_B = 0; // 0x61
    private static final int COMMAND = 3; // 0x64
    private static final int CMD_RESET_CPU = 0xFE;
    private static final int PORT_B_REFRESH = 0x20;

    private final VmControl control;

    public I8042(VmControl control) {
        this.control = control;
    }

    @Override
    public long read(long offset, int size) {
        // Port B reads with the refresh bit set; the status register reads as "nothing to read,
        // ready for a command".
        return offset == PORT_B ? PORT_B_REFRESH : 0;
    }

    @Override
    public void write(long offset, int size, long value) {
        if (offset == COMMAND && (value & 0xFF) == CMD_RESET_CPU) {
            control.requestReset();
        }
    }
}
