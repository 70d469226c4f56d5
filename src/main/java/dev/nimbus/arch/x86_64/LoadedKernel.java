package dev.nimbus.arch.x86_64;

/**
 * A kernel placed in guest memory and the state vCPU 0 starts it with.
 *
 * @param format how the kernel was booted
 * @param kernelStart lowest guest address the kernel occupies
 * @param kernelEnd first address past the memory the kernel needs while booting
 * @param initramfsAddr guest address of the initramfs, 0 if none
 * @param initramfsSize size of the initramfs, 0 if none
 * @param cmdlineAddr guest address of the NUL-terminated command line
 * @param vcpu the boot vCPU's registers
 */
public record LoadedKernel(Format format, long kernelStart, long kernelEnd, long initramfsAddr,
        long initramfsSize, long cmdlineAddr, VcpuBootState vcpu) {

    /** The kernel formats Nimbus boots on x86-64. */
    public enum Format {
        /** ELF with a PVH note, entered through the PVH ABI in 32-bit protected mode. */
        ELF_PVH,
        /** bzImage, entered through the Linux 64-bit boot protocol. */
        BZIMAGE
    }
}
