package dev.nimbus.hypervisor;

/** A model-specific register and its value. */
public record MsrEntry(int index, long value) {}
