package dev.nimbus.hypervisor.kvm;

import static dev.nimbus.hypervisor.kvm.KvmIoctls.*;
import static dev.nimbus.hypervisor.kvm.KvmStructs.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.nimbus.sys.Ioctl;
import org.junit.jupiter.api.Test;

/**
 * Each struct layout must be as large as the kernel says: the size is encoded in the ioctl
 * number, so a wrong layout would also be a wrong request number.
 */
class KvmStructsTest {
    @Test
    void layoutSizesMatchTheSizesTheKernelHeadersGive() {
        assertEquals(32, STRUCT_KVM_USERSPACE_MEMORY_REGION.byteSize());
        assertEquals(144, STRUCT_KVM_REGS.byteSize());
        assertEquals(24, STRUCT_KVM_SEGMENT.byteSize());
        assertEquals(312, STRUCT_KVM_SREGS.byteSize());
        assertEquals(416, STRUCT_KVM_FPU.byteSize());
        assertEquals(40, STRUCT_KVM_CPUID_ENTRY2.byteSize());
        assertEquals(16, STRUCT_KVM_MSR_ENTRY.byteSize());
        assertEquals(1024, STRUCT_KVM_LAPIC_STATE.byteSize());
        assertEquals(32, STRUCT_KVM_IRQFD.byteSize());
        assertEquals(64, STRUCT_KVM_IOEVENTFD.byteSize());
        assertEquals(48, STRUCT_KVM_IRQ_ROUTING_ENTRY.byteSize());
        assertEquals(32, STRUCT_KVM_MSI.byteSize());
        assertEquals(64, STRUCT_KVM_PIT_CONFIG.byteSize());
        assertEquals(104, STRUCT_KVM_ENABLE_CAP.byteSize());
        assertEquals(48, STRUCT_KVM_CLOCK_DATA.byteSize());
    }

    @Test
    void ioctlNumbersMatchTheKernelHeaders() {
        // Values as printed by a C program including <linux/kvm.h> (x86-64).
        assertEquals(0xAE01L, KVM_CREATE_VM);
        assertEquals(0xAE41L, KVM_CREATE_VCPU);
        assertEquals(0x4020AE46L, KVM_SET_USER_MEMORY_REGION);
        assertEquals(0xAE80L, KVM_RUN);
        assertEquals(0x8090AE81L, KVM_GET_REGS);
        assertEquals(0x4090AE82L, KVM_SET_REGS);
        assertEquals(0x8138AE83L, KVM_GET_SREGS);
        assertEquals(0x4138AE84L, KVM_SET_SREGS);
        assertEquals(0x4008AE90L, KVM_SET_CPUID2);
        assertEquals(0xC008AE05L, KVM_GET_SUPPORTED_CPUID);
        assertEquals(0x4008AE89L, KVM_SET_MSRS);
        assertEquals(0x41A0AE8DL, KVM_SET_FPU);
        assertEquals(0x8400AE8EL, KVM_GET_LAPIC);
        assertEquals(0x4020AE76L, KVM_IRQFD);
        assertEquals(0x4040AE79L, KVM_IOEVENTFD);
        assertEquals(0x4008AE6AL, KVM_SET_GSI_ROUTING);
        assertEquals(0x4020AEA5L, KVM_SIGNAL_MSI);
        assertEquals(0x4068AEA3L, KVM_ENABLE_CAP);
        assertEquals(0x8030AE7CL, KVM_GET_CLOCK);
    }

    @Test
    void structSizeIsWhatTheRequestNumberEncodes() {
        assertEquals(STRUCT_KVM_SREGS.byteSize(), Ioctl.size(KVM_SET_SREGS));
        assertEquals(STRUCT_KVM_IOEVENTFD.byteSize(), Ioctl.size(KVM_IOEVENTFD));
    }

    @Test
    void nestedFieldOffsetsAreThoseOfTheCStruct() {
        assertEquals(192, offset(STRUCT_KVM_SREGS, "gdt", "base"));
        assertEquals(208, offset(STRUCT_KVM_SREGS, "idt", "base"));
        assertEquals(224, offset(STRUCT_KVM_SREGS, "cr0"));
        assertEquals(128, offset(STRUCT_KVM_FPU, "fcw"));
        assertEquals(408, offset(STRUCT_KVM_FPU, "mxcsr"));
    }
}
