package dev.nimbus.arch.x86_64;

/**
 * A GDTR or IDTR value ({@code struct kvm_dtable}).
 *
 * @param base guest linear address of the table
 * @param limit table size in bytes minus one
 */
public record DescriptorTable(long base, int limit) {}
