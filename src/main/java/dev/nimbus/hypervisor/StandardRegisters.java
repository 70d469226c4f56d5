package dev.nimbus.hypervisor;

/** The general purpose registers, RIP and RFLAGS of a vCPU (struct kvm_regs). */
public final class StandardRegisters {
    public long rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp;
    public long r8, r9, r10, r11, r12, r13, r14, r15;
    public long rip, rflags;
}
