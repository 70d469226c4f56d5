package dev.nimbus.vmm.config;

/** What to boot: {@code PayloadConfig} in the API. Unset fields are null. */
public record PayloadConfig(String kernel, String initramfs, String cmdline, String firmware) {}
