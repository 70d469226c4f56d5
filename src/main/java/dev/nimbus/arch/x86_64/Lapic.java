package dev.nimbus.arch.x86_64;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The local APIC as firmware leaves it for the OS: LINT0 delivers ExtINT (the legacy PIC's
 * output, "virtual wire" mode of the MP spec) and LINT1 delivers NMI. Works on the 1024-byte
 * register page of {@code struct kvm_lapic_state}, in which each APIC register sits at its
 * MMIO offset (Intel SDM vol. 3, 10.4.1).
 */
public final class Lapic {
    private Lapic() {}

    /** Size of the {@code kvm_lapic_state} register page (KVM_APIC_REG_SIZE). */
    public static final int KVM_APIC_REG_SIZE = 0x400;
    /** LVT LINT0 register offset. */
    public static final int APIC_LVT0 = 0x350;
    /** LVT LINT1 register offset. */
    public static final int APIC_LVT1 = 0x360;
    /** Delivery mode field, bits 10:8 of an LVT entry. */
    public static final int APIC_DELIVERY_MODE_MASK = 0x700;
    public static final int APIC_MODE_NMI = 0x4;
    public static final int APIC_MODE_EXTINT = 0x7;

    private static final ValueLayout.OfInt REG =
            ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * Sets LINT0 to ExtINT and LINT1 to NMI in {@code regs}, a {@code kvm_lapic_state} page
     * read with KVM_GET_LAPIC. Only the delivery mode changes; mask, trigger and polarity
     * bits stay as KVM's reset left them.
     */
    public static void setLint(MemorySegment regs) {
        if (regs.byteSize() < KVM_APIC_REG_SIZE) {
            throw new IllegalArgumentException(
                    "LAPIC register page too small: size=" + regs.byteSize());
        }
        regs.set(REG, APIC_LVT0, deliveryMode(regs.get(REG, APIC_LVT0), APIC_MODE_EXTINT));
        regs.set(REG, APIC_LVT1, deliveryMode(regs.get(REG, APIC_LVT1), APIC_MODE_NMI));
    }

    /** {@link #setLint(MemorySegment)} over a heap copy of the register page. */
    public static void setLint(byte[] regs) {
        setLint(MemorySegment.ofArray(regs));
    }

    /** {@code lvt} with its delivery mode replaced by {@code mode}. */
    public static int deliveryMode(int lvt, int mode) {
        return lvt & ~APIC_DELIVERY_MODE_MASK | mode << 8;
    }
}
