package dev.nimbus.vmm.config;

/** vCPUs: {@code CpusConfig} in the API. */
public record CpusConfig(int bootVcpus, int maxVcpus, int maxPhysBits) {
    public static final int DEFAULT_MAX_PHYS_BITS = 46;
}
