package dev.nimbus.arch.x86_64;

/**
 * The x87/SSE control state a vCPU starts with: the values FNINIT and processor reset leave
 * (Intel SDM vol. 1, 8.1.5 and 10.2.3.1). Every other {@code struct kvm_fpu} field is zero.
 */
public final class FpuDefaults {
    private FpuDefaults() {}

    /** x87 control word: all exceptions masked, 64-bit precision, round to nearest. */
    public static final int FCW = 0x37F;
    /** MXCSR: all SIMD exceptions masked, round to nearest, no flush-to-zero. */
    public static final int MXCSR = 0x1F80;
}
