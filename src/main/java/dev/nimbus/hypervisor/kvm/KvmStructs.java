package dev.nimbus.hypervisor.kvm;

import static java.lang.foreign.MemoryLayout.paddingLayout;
import static java.lang.foreign.MemoryLayout.sequenceLayout;
import static java.lang.foreign.MemoryLayout.structLayout;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.StructLayout;

/**
 * Layouts of the {@code struct kvm_*} types Nimbus passes to KVM, field for field as in
 * {@code include/uapi/linux/kvm.h} and {@code arch/x86/include/uapi/asm/kvm.h}. Padding that C
 * leaves implicit is written out. Each layout's size is checked against the size its ioctl
 * number encodes (see {@code KvmStructsTest}).
 */
final class KvmStructs {
    private KvmStructs() {}

    /** struct kvm_userspace_memory_region. */
    static final StructLayout STRUCT_KVM_USERSPACE_MEMORY_REGION = structLayout(
            JAVA_INT.withName("slot"),
            JAVA_INT.withName("flags"),
            JAVA_LONG.withName("guest_phys_addr"),
            JAVA_LONG.withName("memory_size"),
            JAVA_LONG.withName("userspace_addr"));

    /** struct kvm_regs: the general purpose registers in this order. */
    static final StructLayout STRUCT_KVM_REGS = structLayout(
            JAVA_LONG.withName("rax"), JAVA_LONG.withName("rbx"), JAVA_LONG.withName("rcx"),
            JAVA_LONG.withName("rdx"), JAVA_LONG.withName("rsi"), JAVA_LONG.withName("rdi"),
            JAVA_LONG.withName("rsp"), JAVA_LONG.withName("rbp"), JAVA_LONG.withName("r8"),
            JAVA_LONG.withName("r9"), JAVA_LONG.withName("r10"), JAVA_LONG.withName("r11"),
            JAVA_LONG.withName("r12"), JAVA_LONG.withName("r13"), JAVA_LONG.withName("r14"),
            JAVA_LONG.withName("r15"), JAVA_LONG.withName("rip"), JAVA_LONG.withName("rflags"));

    /** struct kvm_segment. */
    static final StructLayout STRUCT_KVM_SEGMENT = structLayout(
            JAVA_LONG.withName("base"),
            JAVA_INT.withName("limit"),
            JAVA_SHORT.withName("selector"),
            JAVA_BYTE.withName("type"),
            JAVA_BYTE.withName("present"),
            JAVA_BYTE.withName("dpl"),
            JAVA_BYTE.withName("db"),
            JAVA_BYTE.withName("s"),
            JAVA_BYTE.withName("l"),
            JAVA_BYTE.withName("g"),
            JAVA_BYTE.withName("avl"),
            JAVA_BYTE.withName("unusable"),
            JAVA_BYTE.withName("padding"));

    /** struct kvm_dtable. */
    static final StructLayout STRUCT_KVM_DTABLE = structLayout(
            JAVA_LONG.withName("base"),
            JAVA_SHORT.withName("limit"),
            sequenceLayout(3, JAVA_SHORT).withName("padding"));

    /** struct kvm_sregs. */
    static final StructLayout STRUCT_KVM_SREGS = structLayout(
            STRUCT_KVM_SEGMENT.withName("cs"), STRUCT_KVM_SEGMENT.withName("ds"), STRUCT_KVM_SEGMENT.withName("es"),
            STRUCT_KVM_SEGMENT.withName("fs"), STRUCT_KVM_SEGMENT.withName("gs"), STRUCT_KVM_SEGMENT.withName("ss"),
            STRUCT_KVM_SEGMENT.withName("tr"), STRUCT_KVM_SEGMENT.withName("ldt"),
            STRUCT_KVM_DTABLE.withName("gdt"), STRUCT_KVM_DTABLE.withName("idt"),
            JAVA_LONG.withName("cr0"), JAVA_LONG.withName("cr2"), JAVA_LONG.withName("cr3"),
            JAVA_LONG.withName("cr4"), JAVA_LONG.withName("cr8"), JAVA_LONG.withName("efer"),
            JAVA_LONG.withName("apic_base"),
            sequenceLayout(4, JAVA_LONG).withName("interrupt_bitmap"));

    /** struct kvm_fpu. */
    static final StructLayout STRUCT_KVM_FPU = structLayout(
            sequenceLayout(128, JAVA_BYTE).withName("fpr"),
            JAVA_SHORT.withName("fcw"),
            JAVA_SHORT.withName("fsw"),
            JAVA_BYTE.withName("ftwx"),
            JAVA_BYTE.withName("pad1"),
            JAVA_SHORT.withName("last_opcode"),
            JAVA_LONG.withName("last_ip"),
            JAVA_LONG.withName("last_dp"),
            sequenceLayout(256, JAVA_BYTE).withName("xmm"),
            JAVA_INT.withName("mxcsr"),
            JAVA_INT.withName("pad2"));

    /** struct kvm_cpuid_entry2. */
    static final StructLayout STRUCT_KVM_CPUID_ENTRY2 = structLayout(
            JAVA_INT.withName("function"),
            JAVA_INT.withName("index"),
            JAVA_INT.withName("flags"),
            JAVA_INT.withName("eax"),
            JAVA_INT.withName("ebx"),
            JAVA_INT.withName("ecx"),
            JAVA_INT.withName("edx"),
            sequenceLayout(3, JAVA_INT).withName("padding"));

    /** struct kvm_cpuid2 header; {@code entries[nent]} follow. */
    static final StructLayout STRUCT_KVM_CPUID2 = structLayout(
            JAVA_INT.withName("nent"), JAVA_INT.withName("padding"));

    /** struct kvm_msr_entry. */
    static final StructLayout STRUCT_KVM_MSR_ENTRY = structLayout(
            JAVA_INT.withName("index"), JAVA_INT.withName("reserved"), JAVA_LONG.withName("data"));

    /** struct kvm_msrs header; {@code entries[nmsrs]} follow. */
    static final StructLayout STRUCT_KVM_MSRS = structLayout(
            JAVA_INT.withName("nmsrs"), JAVA_INT.withName("pad"));

    /** struct kvm_lapic_state: the APIC register page. */
    static final StructLayout STRUCT_KVM_LAPIC_STATE = structLayout(
            sequenceLayout(1024, JAVA_BYTE).withName("regs"));

    /** struct kvm_irq_level. */
    static final StructLayout STRUCT_KVM_IRQ_LEVEL = structLayout(
            JAVA_INT.withName("irq"), JAVA_INT.withName("level"));

    /** struct kvm_irqfd. */
    static final StructLayout STRUCT_KVM_IRQFD = structLayout(
            JAVA_INT.withName("fd"),
            JAVA_INT.withName("gsi"),
            JAVA_INT.withName("flags"),
            JAVA_INT.withName("resamplefd"),
            sequenceLayout(16, JAVA_BYTE).withName("pad"));

    /** struct kvm_ioeventfd. */
    static final StructLayout STRUCT_KVM_IOEVENTFD = structLayout(
            JAVA_LONG.withName("datamatch"),
            JAVA_LONG.withName("addr"),
            JAVA_INT.withName("len"),
            JAVA_INT.withName("fd"),
            JAVA_INT.withName("flags"),
            sequenceLayout(36, JAVA_BYTE).withName("pad"));

    /** struct kvm_irq_routing_entry with the msi member of its union; 48 bytes. */
    static final StructLayout STRUCT_KVM_IRQ_ROUTING_ENTRY = structLayout(
            JAVA_INT.withName("gsi"),
            JAVA_INT.withName("type"),
            JAVA_INT.withName("flags"),
            JAVA_INT.withName("pad"),
            JAVA_INT.withName("u0"),
            JAVA_INT.withName("u1"),
            JAVA_INT.withName("u2"),
            JAVA_INT.withName("u3"),
            paddingLayout(16));

    /** struct kvm_irq_routing header; {@code entries[nr]} follow. */
    static final StructLayout STRUCT_KVM_IRQ_ROUTING = structLayout(
            JAVA_INT.withName("nr"), JAVA_INT.withName("flags"));

    /** struct kvm_msi. */
    static final StructLayout STRUCT_KVM_MSI = structLayout(
            JAVA_INT.withName("address_lo"),
            JAVA_INT.withName("address_hi"),
            JAVA_INT.withName("data"),
            JAVA_INT.withName("flags"),
            JAVA_INT.withName("devid"),
            sequenceLayout(12, JAVA_BYTE).withName("pad"));

    /** struct kvm_pit_config. */
    static final StructLayout STRUCT_KVM_PIT_CONFIG = structLayout(
            JAVA_INT.withName("flags"), sequenceLayout(15, JAVA_INT).withName("pad"));

    /** struct kvm_enable_cap. */
    static final StructLayout STRUCT_KVM_ENABLE_CAP = structLayout(
            JAVA_INT.withName("cap"),
            JAVA_INT.withName("flags"),
            sequenceLayout(4, JAVA_LONG).withName("args"),
            sequenceLayout(64, JAVA_BYTE).withName("pad"));

    /** struct kvm_clock_data. */
    static final StructLayout STRUCT_KVM_CLOCK_DATA = structLayout(
            JAVA_LONG.withName("clock"),
            JAVA_INT.withName("flags"),
            JAVA_INT.withName("pad0"),
            JAVA_LONG.withName("realtime"),
            JAVA_LONG.withName("host_tsc"),
            sequenceLayout(4, JAVA_INT).withName("pad"));

    /** struct kvm_mp_state. */
    static final StructLayout STRUCT_KVM_MP_STATE = structLayout(JAVA_INT.withName("mp_state"));

    /** Byte offset of a (possibly nested) field. */
    static long offset(MemoryLayout layout, String... path) {
        PathElement[] elements = new PathElement[path.length];
        for (int i = 0; i < path.length; i++) {
            elements[i] = PathElement.groupElement(path[i]);
        }
        return layout.byteOffset(elements);
    }
}
