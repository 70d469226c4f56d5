package dev.nimbus.hypervisor.kvm;

import static dev.nimbus.hypervisor.kvm.KvmStructs.*;

import dev.nimbus.sys.Ioctl;

/** KVM ioctl request numbers, in the order of include/uapi/linux/kvm.h. */
final class KvmIoctls {
    private static final int KVMIO = 0xAE;

    private KvmIoctls() {}

    // System ioctls.
    static final long KVM_GET_API_VERSION = Ioctl.io(KVMIO, 0x00);
    static final long KVM_CREATE_VM = Ioctl.io(KVMIO, 0x01);
    static final long KVM_CHECK_EXTENSION = Ioctl.io(KVMIO, 0x03);
    static final long KVM_GET_VCPU_MMAP_SIZE = Ioctl.io(KVMIO, 0x04);
    static final long KVM_GET_SUPPORTED_CPUID = Ioctl.iowr(KVMIO, 0x05, STRUCT_KVM_CPUID2.byteSize());

    // VM ioctls.
    static final long KVM_CREATE_VCPU = Ioctl.io(KVMIO, 0x41);
    static final long KVM_SET_USER_MEMORY_REGION =
            Ioctl.iow(KVMIO, 0x46, STRUCT_KVM_USERSPACE_MEMORY_REGION.byteSize());
    static final long KVM_SET_TSS_ADDR = Ioctl.io(KVMIO, 0x47);
    static final long KVM_SET_IDENTITY_MAP_ADDR = Ioctl.iow(KVMIO, 0x48, 8);
    static final long KVM_CREATE_IRQCHIP = Ioctl.io(KVMIO, 0x60);
    static final long KVM_IRQ_LINE = Ioctl.iow(KVMIO, 0x61, STRUCT_KVM_IRQ_LEVEL.byteSize());
    static final long KVM_SET_GSI_ROUTING = Ioctl.iow(KVMIO, 0x6a, STRUCT_KVM_IRQ_ROUTING.byteSize());
    static final long KVM_IRQFD = Ioctl.iow(KVMIO, 0x76, STRUCT_KVM_IRQFD.byteSize());
    static final long KVM_CREATE_PIT2 = Ioctl.iow(KVMIO, 0x77, STRUCT_KVM_PIT_CONFIG.byteSize());
    static final long KVM_IOEVENTFD = Ioctl.iow(KVMIO, 0x79, STRUCT_KVM_IOEVENTFD.byteSize());
    static final long KVM_SET_CLOCK = Ioctl.iow(KVMIO, 0x7b, STRUCT_KVM_CLOCK_DATA.byteSize());
    static final long KVM_GET_CLOCK = Ioctl.ior(KVMIO, 0x7c, STRUCT_KVM_CLOCK_DATA.byteSize());
    static final long KVM_ENABLE_CAP = Ioctl.iow(KVMIO, 0xa3, STRUCT_KVM_ENABLE_CAP.byteSize());
    static final long KVM_SIGNAL_MSI = Ioctl.iow(KVMIO, 0xa5, STRUCT_KVM_MSI.byteSize());

    // vCPU ioctls.
    static final long KVM_RUN = Ioctl.io(KVMIO, 0x80);
    static final long KVM_GET_REGS = Ioctl.ior(KVMIO, 0x81, STRUCT_KVM_REGS.byteSize());
    static final long KVM_SET_REGS = Ioctl.iow(KVMIO, 0x82, STRUCT_KVM_REGS.byteSize());
    static final long KVM_GET_SREGS = Ioctl.ior(KVMIO, 0x83, STRUCT_KVM_SREGS.byteSize());
    static final long KVM_SET_SREGS = Ioctl.iow(KVMIO, 0x84, STRUCT_KVM_SREGS.byteSize());
    static final long KVM_GET_MSRS = Ioctl.iowr(KVMIO, 0x88, STRUCT_KVM_MSRS.byteSize());
    static final long KVM_SET_MSRS = Ioctl.iow(KVMIO, 0x89, STRUCT_KVM_MSRS.byteSize());
    static final long KVM_GET_FPU = Ioctl.ior(KVMIO, 0x8c, STRUCT_KVM_FPU.byteSize());
    static final long KVM_SET_FPU = Ioctl.iow(KVMIO, 0x8d, STRUCT_KVM_FPU.byteSize());
    static final long KVM_GET_LAPIC = Ioctl.ior(KVMIO, 0x8e, STRUCT_KVM_LAPIC_STATE.byteSize());
    static final long KVM_SET_LAPIC = Ioctl.iow(KVMIO, 0x8f, STRUCT_KVM_LAPIC_STATE.byteSize());
    static final long KVM_SET_CPUID2 = Ioctl.iow(KVMIO, 0x90, STRUCT_KVM_CPUID2.byteSize());
    static final long KVM_GET_MP_STATE = Ioctl.ior(KVMIO, 0x98, STRUCT_KVM_MP_STATE.byteSize());
    static final long KVM_SET_MP_STATE = Ioctl.iow(KVMIO, 0x99, STRUCT_KVM_MP_STATE.byteSize());
    static final long KVM_NMI = Ioctl.io(KVMIO, 0x9a);
    static final long KVM_KVMCLOCK_CTRL = Ioctl.io(KVMIO, 0xad);

    // Capabilities (KVM_CHECK_EXTENSION / KVM_ENABLE_CAP arguments).
    static final int KVM_CAP_IRQCHIP = 0;
    static final int KVM_CAP_USER_MEMORY = 3;
    static final int KVM_CAP_SET_TSS_ADDR = 4;
    static final int KVM_CAP_EXT_CPUID = 7;
    static final int KVM_CAP_NR_VCPUS = 9;
    static final int KVM_CAP_IRQ_ROUTING = 25;
    static final int KVM_CAP_IRQFD = 32;
    static final int KVM_CAP_IOEVENTFD = 36;
    static final int KVM_CAP_ADJUST_CLOCK = 39;
    static final int KVM_CAP_MAX_VCPUS = 66;
    static final int KVM_CAP_SIGNAL_MSI = 77;
    static final int KVM_CAP_IMMEDIATE_EXIT = 136;
    static final int KVM_CAP_X2APIC_API = 129;
    static final int KVM_CAP_SPLIT_IRQCHIP = 121;
    static final int KVM_CAP_VM_TYPES = 235;

    // kvm_run.exit_reason values.
    static final int KVM_EXIT_UNKNOWN = 0;
    static final int KVM_EXIT_EXCEPTION = 1;
    static final int KVM_EXIT_IO = 2;
    static final int KVM_EXIT_DEBUG = 4;
    static final int KVM_EXIT_HLT = 5;
    static final int KVM_EXIT_MMIO = 6;
    static final int KVM_EXIT_SHUTDOWN = 8;
    static final int KVM_EXIT_FAIL_ENTRY = 9;
    static final int KVM_EXIT_INTR = 10;
    static final int KVM_EXIT_INTERNAL_ERROR = 17;
    static final int KVM_EXIT_SYSTEM_EVENT = 24;
    static final int KVM_EXIT_IOAPIC_EOI = 26;

    static final int KVM_EXIT_IO_IN = 0;
    static final int KVM_EXIT_IO_OUT = 1;

    // kvm_irq_routing_entry.type.
    static final int KVM_IRQ_ROUTING_IRQCHIP = 1;
    static final int KVM_IRQ_ROUTING_MSI = 2;

    // KVM_IOEVENTFD flags.
    static final int KVM_IOEVENTFD_FLAG_DATAMATCH = 1;
    static final int KVM_IOEVENTFD_FLAG_PIO = 2;
    static final int KVM_IOEVENTFD_FLAG_DEASSIGN = 4;

    // KVM_IRQFD flags.
    static final int KVM_IRQFD_FLAG_DEASSIGN = 1;
    static final int KVM_IRQFD_FLAG_RESAMPLE = 2;
}
