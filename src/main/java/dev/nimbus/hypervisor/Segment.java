package dev.nimbus.hypervisor;

/** An x86 segment register's hidden state, as struct kvm_segment holds it. */
public record Segment(
        long base,
        int limit,
        int selector,
        int type,
        boolean present,
        int dpl,
        boolean db,
        boolean s,
        boolean l,
        boolean g,
        boolean avl,
        boolean unusable) {}
