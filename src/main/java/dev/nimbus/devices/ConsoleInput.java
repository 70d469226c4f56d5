package dev.nimbus.devices;

/** Accepts bytes typed into a console (from a tty, pty or socket) for the guest to read. */
public interface ConsoleInput {
    /** Queues {@code b} for the guest; returns false when the device's buffer is full. */
    boolean receive(byte b);
}
