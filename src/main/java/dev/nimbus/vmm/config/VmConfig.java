package dev.nimbus.vmm.config;

/** A whole VM's configuration: {@code VmConfig} in the API. */
public record VmConfig(
        CpusConfig cpus,
        MemoryConfig memory,
        PayloadConfig payload,
        ConsoleConfig serial,
        ConsoleConfig console) {}
