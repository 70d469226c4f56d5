package dev.nimbus.devices.legacy;

import dev.nimbus.devices.BusDevice;
import dev.nimbus.log.Logging;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;

/**
 * The POST code port 0x80. Each byte written is logged with the time since the VMM started, so a
 * guest can mark boot milestones (e.g. kernel entry 0x40, user space 0x41) and the log gives
 * their timestamps. The code ranges name the stage that wrote them.
 */
public final class DebugPort implements BusDevice {
    public static final int BASE = 0x80;
    public static final int LENGTH = 1;

    private static final Logger LOG = System.getLogger(DebugPort.class.getName());

    @Override
    public long read(long offset, int size) {
        return 0xFF;
    }

    @Override
    public void write(long offset, int size, long value) {
        int code = (int) value & 0xFF;
        long ns = Logging.sinceStartNanos();
        LOG.log(Level.WARNING, () -> String.format("[Debug I/O port: %s code 0x%x] %d.%06d seconds",
                stage(code), code, ns / 1_000_000_000L, (ns / 1000) % 1_000_000));
    }

    static String stage(int code) {
        if (code < 0x20) {
            return "Firmware";
        } else if (code < 0x40) {
            return "Bootloader";
        } else if (code < 0x60) {
            return "Kernel";
        } else if (code < 0x80) {
            return "Userspace";
        }
        return "Custom";
    }
}
