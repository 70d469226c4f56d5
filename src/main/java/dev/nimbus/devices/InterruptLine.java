package dev.nimbus.devices;

/** A legacy (I/O APIC) interrupt input a device drives. */
public interface InterruptLine {
    /** Raises an edge-triggered interrupt. */
    void trigger();

    /** Drives a level-triggered line. */
    void setLevel(boolean asserted);
}
