package dev.nimbus.devices.legacy;

import dev.nimbus.devices.BusDevice;
import dev.nimbus.devices.ConsoleOutput;

/**
 * A write-only byte console on one I/O port: the firmware debug port 0x402 and the
 * {@code --debug-console} port (0xE9 by default). Reads return 0xE9, the value guests probe for.
 */
public final class PortConsole implements BusDevice {
    public static final int FIRMWARE_DEBUG_PORT = 0x402;
    public static final int DEFAULT_DEBUG_CONSOLE_PORT = 0xE9;

    private final ConsoleOutput output;

    public PortConsole(ConsoleOutput output) {
        this.output = output;
    }

    @Override
    public long read(long offset, int size) {
        return 0xE9;
    }

    @Override
    public void write(long offset, int size, long value) {
        output.write((byte) value);
    }
}
