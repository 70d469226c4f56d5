package dev.nimbus.arch.x86_64;

import dev.nimbus.hypervisor.MsrEntry;
import java.util.List;

/**
 * The MSRs every vCPU starts with: the syscall and sysenter MSRs cleared, the TSC at 0, fast
 * string operations enabled, and MTRRs enabled with write-back as the default memory type, so
 * all RAM is cacheable before the guest programs variable MTRRs (Intel SDM vol. 3, 11.11).
 */
public final class BootMsrs {
    private BootMsrs() {}

    public static final int MSR_IA32_TSC = 0x10;
    public static final int MSR_IA32_SYSENTER_CS = 0x174;
    public static final int MSR_IA32_SYSENTER_ESP = 0x175;
    public static final int MSR_IA32_SYSENTER_EIP = 0x176;
    public static final int MSR_IA32_MISC_ENABLE = 0x1A0;
    public static final int MSR_MTRRdefType = 0x2FF;
    public static final int MSR_STAR = 0xC000_0081;
    public static final int MSR_LSTAR = 0xC000_0082;
    public static final int MSR_CSTAR = 0xC000_0083;
    public static final int MSR_SYSCALL_MASK = 0xC000_0084;
    public static final int MSR_KERNEL_GS_BASE = 0xC000_0102;

    /** IA32_MISC_ENABLE bit 0: fast-string operations. */
    public static final long MSR_IA32_MISC_ENABLE_FAST_STRING = 1L;
    /** IA32_MTRR_DEF_TYPE bit 11: MTRRs enabled. */
    public static final long MTRR_ENABLE = 1L << 11;
    /** Memory type write-back, in IA32_MTRR_DEF_TYPE bits 7:0. */
    public static final long MTRR_MEM_TYPE_WB = 6;

    /** The boot MSR list, in the order they should be written. */
    public static List<MsrEntry> entries() {
        return List.of(
                new MsrEntry(MSR_IA32_SYSENTER_CS, 0),
                new MsrEntry(MSR_IA32_SYSENTER_ESP, 0),
                new MsrEntry(MSR_IA32_SYSENTER_EIP, 0),
                new MsrEntry(MSR_STAR, 0),
                new MsrEntry(MSR_CSTAR, 0),
                new MsrEntry(MSR_LSTAR, 0),
                new MsrEntry(MSR_KERNEL_GS_BASE, 0),
                new MsrEntry(MSR_SYSCALL_MASK, 0),
                new MsrEntry(MSR_IA32_TSC, 0),
                new MsrEntry(MSR_IA32_MISC_ENABLE, MSR_IA32_MISC_ENABLE_FAST_STRING),
                new MsrEntry(MSR_MTRRdefType, MTRR_ENABLE | MTRR_MEM_TYPE_WB));
    }
}
