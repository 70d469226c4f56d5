package dev.nimbus.arch.x86_64;

import dev.nimbus.hypervisor.Segment;

/**
 * The register state the boot vCPU (vCPU 0) starts the kernel with. The caller loads it with
 * KVM_SET_REGS and KVM_SET_SREGS; every general-purpose register not named here is zero, and
 * every special register not named here keeps the value KVM_GET_SREGS reports after vCPU
 * creation (LDT, APIC base, interrupt bitmap).
 *
 * @param mode the CPU mode these values describe
 * @param rip entry point
 * @param rsp stack pointer (0 when the protocol defines no stack)
 * @param rsi zero page address for the Linux boot protocol, else 0
 * @param rbx {@code hvm_start_info} address for PVH, else 0
 * @param rflags 0x2: only the always-one bit, interrupts off
 * @param cr0 PE, plus PG in long mode
 * @param cr3 page table root in long mode, else 0
 * @param cr4 PAE in long mode, else 0
 * @param efer LME and LMA in long mode, else 0
 * @param gdt GDTR
 * @param idt IDTR
 * @param cs code segment
 * @param ds data segment
 * @param es data segment
 * @param fs data segment
 * @param gs data segment
 * @param ss data segment
 * @param tr task register
 */
public record VcpuBootState(EntryMode mode, long rip, long rsp, long rsi, long rbx,
        long rflags, long cr0, long cr3, long cr4, long efer, DescriptorTable gdt,
        DescriptorTable idt, Segment cs, Segment ds, Segment es, Segment fs, Segment gs,
        Segment ss, Segment tr) {

    /** RFLAGS bit 1 is reserved and always reads as one. */
    public static final long RFLAGS_RESERVED_1 = 0x2;

    /** CR0.PE: protected mode. */
    public static final long X86_CR0_PE = 1L;
    /** CR0.PG: paging. */
    public static final long X86_CR0_PG = 1L << 31;
    /** CR4.PAE: physical address extension, required for long mode. */
    public static final long X86_CR4_PAE = 1L << 5;
    /** EFER.LME: long mode enable. */
    public static final long EFER_LME = 1L << 8;
    /** EFER.LMA: long mode active. */
    public static final long EFER_LMA = 1L << 10;

    /** Flat segments from {@code gdt} and the control registers for {@code mode}. */
    static VcpuBootState of(EntryMode mode, Gdt gdt, long rip, long rsp, long rsi, long rbx) {
        boolean longMode = mode == EntryMode.LONG_64;
        Segment data = gdt.data();
        return new VcpuBootState(mode, rip, rsp, rsi, rbx, RFLAGS_RESERVED_1,
                longMode ? X86_CR0_PE | X86_CR0_PG : X86_CR0_PE,
                longMode ? Layout.PML4_START : 0,
                longMode ? X86_CR4_PAE : 0,
                longMode ? EFER_LME | EFER_LMA : 0,
                gdt.gdtr(), Gdt.idtr(), gdt.code(), data, data, data, data, data, gdt.tss());
    }
}
