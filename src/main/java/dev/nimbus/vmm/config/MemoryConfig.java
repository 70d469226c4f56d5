package dev.nimbus.vmm.config;

/** Guest RAM: {@code MemoryConfig} in the API. */
public record MemoryConfig(long size, boolean shared) {
    public static final long DEFAULT_SIZE = 512L << 20;
}
