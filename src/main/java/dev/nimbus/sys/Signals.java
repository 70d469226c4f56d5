package dev.nimbus.sys;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The signal that kicks a vCPU thread out of {@code KVM_RUN}.
 *
 * <p>{@code KVM_RUN} returns {@code EINTR} only if a signal with a real handler is delivered to
 * its thread ({@code SIG_IGN} is dropped by the kernel). An FFM upcall cannot be a signal handler
 * (the JVM rejects an upcall arriving in the wrong thread state), so the handler is a one-byte
 * {@code ret} in a page of its own, and the restorer a two-instruction {@code rt_sigreturn}; both
 * installed with the raw {@code rt_sigaction} system call.
 */
public final class Signals {
    /**
     * SIGRTMIN+2 as glibc numbers real-time signals (glibc keeps 32 and 33). The JDK uses none of
     * 34..60 (it uses SIGRTMAX-2 for NIO interrupts).
     */
    public static final int SIG_VCPU_KICK = 36;

    private static final long SA_RESTORER = 0x04000000L;
    private static final long SIG_DFL = 0;

    // x86-64 machine code: the handler returns at once; the restorer is rt_sigreturn.
    private static final byte[] HANDLER = {(byte) 0xC3};
    private static final byte[] RESTORER = {
        0x48, (byte) 0xC7, (byte) 0xC0, 0x0F, 0x00, 0x00, 0x00, // mov rax, 15
        0x0F, 0x05 // syscall
    };

    private static boolean installed;

    private Signals() {}

    /** Installs the no-op handler for {@link #SIG_VCPU_KICK} once per process. */
    public static synchronized void installKickHandler() throws SyscallException {
        if (installed) {
            return;
        }
        long page = Linux.mmap(0, 4096, Linux.PROT_READ | Linux.PROT_WRITE,
                Linux.MAP_PRIVATE | Linux.MAP_ANONYMOUS, -1, 0);
        // SAFETY: a fresh private page of 4096 bytes that is never unmapped (it must outlive
        // every thread that can receive the signal, i.e. the process).
        MemorySegment code = MemorySegment.ofAddress(page).reinterpret(4096);
        MemorySegment.copy(HANDLER, 0, code, JAVA_BYTE, 0, HANDLER.length);
        MemorySegment.copy(RESTORER, 0, code, JAVA_BYTE, 16, RESTORER.length);
        Linux.call("mprotect", Linux.SYS_MPROTECT, page, 4096, Linux.PROT_READ | Linux.PROT_EXEC);

        try (Arena arena = Arena.ofConfined()) {
            // struct kernel_sigaction (x86-64): handler, flags, restorer, mask.
            MemorySegment act = arena.allocate(32, 8);
            MemorySegment old = arena.allocate(32, 8);
            act.set(JAVA_LONG, 0, page);
            act.set(JAVA_LONG, 8, SA_RESTORER);
            act.set(JAVA_LONG, 16, page + 16);
            act.set(JAVA_LONG, 24, 0L);
            Linux.call("rt_sigaction", Linux.SYS_RT_SIGACTION, SIG_VCPU_KICK, act.address(),
                    old.address(), 8, 0, 0);
            if (old.get(JAVA_LONG, 0) != SIG_DFL) {
                throw new IllegalStateException(
                        "Signal " + SIG_VCPU_KICK + " already has a handler; cannot use it for vCPU kicks");
            }
        }
        installed = true;
    }

    /** Sends {@code sig} to thread {@code tid} of this process; returns 0 or -errno. */
    public static long tgkill(int tid, int sig) {
        return Linux.raw(Linux.SYS_TGKILL, Linux.getpid(), tid, sig, 0, 0, 0);
    }
}
