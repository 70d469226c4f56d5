package dev.nimbus.arch.x86_64;

/** The CPU mode the boot vCPU starts the kernel in. */
public enum EntryMode {
    /** Flat 32-bit protected mode, paging off (PVH entry). */
    PROTECTED_32,
    /** 64-bit long mode with identity-mapped paging (Linux 64-bit boot protocol). */
    LONG_64
}
