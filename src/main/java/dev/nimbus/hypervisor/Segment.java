package dev.nimbus.hypervisor;

/**
 * A segment register as the hypervisor loads it (the hidden part included): the fields of
 * KVM's {@code struct kvm_segment}. {@code limit} is the byte-granular limit, already scaled
 * when the descriptor's G bit is set, because that is how the VMCS/VMCB hold it.
 *
 * @param base segment base
 * @param limit last valid offset, in bytes
 * @param selector selector value (GDT index times 8)
 * @param type descriptor type field (4 bits)
 * @param present P bit
 * @param dpl descriptor privilege level
 * @param db D/B bit (32-bit default operand size)
 * @param s S bit (1 = code or data, 0 = system)
 * @param l L bit (64-bit code)
 * @param g G bit (4 KiB limit granularity)
 * @param avl AVL bit
 * @param unusable whether the register holds no usable segment (not present)
 */
public record Segment(long base, int limit, int selector, int type, int present, int dpl,
        int db, int s, int l, int g, int avl, int unusable) {}
