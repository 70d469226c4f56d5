package dev.nimbus.vmm.config;

/** A serial port or virtio-console: {@code SerialConfig} / {@code ConsoleConfig} in the API. */
public record ConsoleConfig(ConsoleMode mode, String file, String socket) {
    public static ConsoleConfig of(ConsoleMode mode) {
        return new ConsoleConfig(mode, null, null);
    }
}
