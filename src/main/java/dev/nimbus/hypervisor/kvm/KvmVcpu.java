package dev.nimbus.hypervisor.kvm;

import static dev.nimbus.hypervisor.kvm.KvmIoctls.*;
import static dev.nimbus.hypervisor.kvm.KvmStructs.*;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import dev.nimbus.hypervisor.CpuidEntry;
import dev.nimbus.hypervisor.HypervisorException;
import dev.nimbus.hypervisor.MsrEntry;
import dev.nimbus.hypervisor.Segment;
import dev.nimbus.hypervisor.SpecialRegisters;
import dev.nimbus.hypervisor.StandardRegisters;
import dev.nimbus.hypervisor.Vcpu;
import dev.nimbus.hypervisor.VcpuExit;
import dev.nimbus.hypervisor.VcpuExitHandler;
import dev.nimbus.sys.Errno;
import dev.nimbus.sys.Linux;
import dev.nimbus.sys.Signals;
import dev.nimbus.sys.SyscallException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.List;

/** A KVM vCPU and its shared {@code struct kvm_run} page. */
final class KvmVcpu implements Vcpu {
    // struct kvm_run offsets (include/uapi/linux/kvm.h); the exit union starts at 32.
    private static final long RUN_IMMEDIATE_EXIT = 1;
    private static final long RUN_EXIT_REASON = 8;
    private static final long RUN_IO_DIRECTION = 32;
    private static final long RUN_IO_SIZE = 33;
    private static final long RUN_IO_PORT = 34;
    private static final long RUN_IO_COUNT = 36;
    private static final long RUN_IO_DATA_OFFSET = 40;
    private static final long RUN_MMIO_PHYS_ADDR = 32;
    private static final long RUN_MMIO_DATA = 40;
    private static final long RUN_MMIO_LEN = 48;
    private static final long RUN_MMIO_IS_WRITE = 52;
    private static final long RUN_FAIL_ENTRY_REASON = 32;
    private static final long RUN_INTERNAL_SUBERROR = 32;
    private static final long RUN_INTERNAL_NDATA = 36;
    private static final long RUN_INTERNAL_DATA = 40;
    private static final long RUN_SYSTEM_EVENT_TYPE = 32;

    private static final VarHandle BYTE = JAVA_BYTE.varHandle();

    private final int fd;
    private final int id;
    private final MemorySegment run;
    private volatile int tid;

    private KvmVcpu(int fd, int id, MemorySegment run) {
        this.fd = fd;
        this.id = id;
        this.run = run;
    }

    static KvmVcpu create(int fd, int id, int mmapSize, Arena arena) throws HypervisorException {
        try {
            Signals.installKickHandler();
            long addr = Linux.mmap(0, mmapSize, Linux.PROT_READ | Linux.PROT_WRITE,
                    Linux.MAP_SHARED, fd, 0);
            // SAFETY: KVM maps exactly KVM_GET_VCPU_MMAP_SIZE bytes (kvm_run plus the PIO data
            // page); the mapping lives as long as the VM's arena, which closes after the vCPUs.
            MemorySegment run = MemorySegment.ofAddress(addr)
                    .reinterpret(mmapSize, arena, s -> Linux.munmap(s.address(), mmapSize));
            return new KvmVcpu(fd, id, run);
        } catch (SyscallException e) {
            Linux.close(fd);
            throw new HypervisorException("Cannot map kvm_run of vCPU " + id, e);
        }
    }

    @Override
    public int id() {
        return id;
    }

    @Override
    public void bindToCurrentThread() {
        tid = Linux.gettid();
        // Link the kick path now: its first use costs milliseconds of FFM set-up otherwise.
        Signals.tgkill(tid, 0);
    }

    @Override
    public VcpuExit run(VcpuExitHandler handler) throws HypervisorException {
        while (true) {
            long ret = Linux.raw(Linux.SYS_IOCTL, fd, KVM_RUN, 0, 0, 0, 0);
            if (ret < 0) {
                int errno = (int) -ret;
                if (errno == Errno.EINTR) {
                    return VcpuExit.INTERRUPTED;
                }
                if (errno == Errno.EAGAIN) {
                    continue;
                }
                throw new HypervisorException("vCPU " + id + " failed to run",
                        new SyscallException("ioctl KVM_RUN", errno));
            }
            int reason = run.get(JAVA_INT, RUN_EXIT_REASON);
            switch (reason) {
                case KVM_EXIT_IO -> handleIo(handler);
                case KVM_EXIT_MMIO -> handleMmio(handler);
                case KVM_EXIT_INTR -> {
                    return VcpuExit.INTERRUPTED;
                }
                case KVM_EXIT_HLT -> {
                    return VcpuExit.HALTED;
                }
                case KVM_EXIT_SHUTDOWN -> {
                    return VcpuExit.SHUTDOWN;
                }
                case KVM_EXIT_SYSTEM_EVENT -> {
                    return new VcpuExit.SystemEvent(run.get(JAVA_INT, RUN_SYSTEM_EVENT_TYPE));
                }
                case KVM_EXIT_INTERNAL_ERROR -> {
                    int n = Math.min(16, run.get(JAVA_INT, RUN_INTERNAL_NDATA));
                    long[] data = new long[Math.max(0, n)];
                    for (int i = 0; i < data.length; i++) {
                        data[i] = run.get(JAVA_LONG, RUN_INTERNAL_DATA + 8L * i);
                    }
                    return new VcpuExit.InternalError(run.get(JAVA_INT, RUN_INTERNAL_SUBERROR), data);
                }
                case KVM_EXIT_FAIL_ENTRY -> {
                    return new VcpuExit.FailEntry(run.get(JAVA_LONG, RUN_FAIL_ENTRY_REASON));
                }
                default -> {
                    return new VcpuExit.Unhandled(reason);
                }
            }
        }
    }

    private void handleIo(VcpuExitHandler handler) {
        int port = Short.toUnsignedInt(run.get(JAVA_SHORT, RUN_IO_PORT));
        int size = Byte.toUnsignedInt(run.get(JAVA_BYTE, RUN_IO_SIZE));
        int count = run.get(JAVA_INT, RUN_IO_COUNT);
        long data = run.get(JAVA_LONG, RUN_IO_DATA_OFFSET);
        boolean out = run.get(JAVA_BYTE, RUN_IO_DIRECTION) == KVM_EXIT_IO_OUT;
        // count > 1 for string I/O (rep ins/outs): the items are back to back in the data page.
        for (int i = 0; i < count; i++) {
            long at = data + (long) i * size;
            if (at + size > run.byteSize()) {
                return;
            }
            if (out) {
                handler.pioWrite(port, size, load(at, size));
            } else {
                store(at, size, handler.pioRead(port, size));
            }
        }
    }

    private void handleMmio(VcpuExitHandler handler) {
        long gpa = run.get(JAVA_LONG, RUN_MMIO_PHYS_ADDR);
        int len = run.get(JAVA_INT, RUN_MMIO_LEN);
        if (len <= 0 || len > 8) {
            return;
        }
        if (run.get(JAVA_BYTE, RUN_MMIO_IS_WRITE) != 0) {
            handler.mmioWrite(gpa, len, load(RUN_MMIO_DATA, len));
        } else {
            store(RUN_MMIO_DATA, len, handler.mmioRead(gpa, len));
        }
    }

    private long load(long at, int size) {
        long v = 0;
        for (int i = 0; i < size; i++) {
            v |= (run.get(JAVA_BYTE, at + i) & 0xFFL) << (8 * i);
        }
        return v;
    }

    private void store(long at, int size, long v) {
        for (int i = 0; i < size; i++) {
            run.set(JAVA_BYTE, at + i, (byte) (v >>> (8 * i)));
        }
    }

    @Override
    public void kick() {
        // immediate_exit first: it covers a kick landing while the thread is between two runs.
        BYTE.setVolatile(run, RUN_IMMEDIATE_EXIT, (byte) 1);
        int t = tid;
        if (t != 0) {
            Signals.tgkill(t, Signals.SIG_VCPU_KICK);
        }
    }

    @Override
    public void clearKick() {
        BYTE.setVolatile(run, RUN_IMMEDIATE_EXIT, (byte) 0);
    }

    // ---- register state ----

    @Override
    public StandardRegisters getRegs() throws HypervisorException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(STRUCT_KVM_REGS);
            Linux.ioctl(fd, KVM_GET_REGS, s, "ioctl KVM_GET_REGS");
            StandardRegisters r = new StandardRegisters();
            long[] v = s.toArray(JAVA_LONG);
            r.rax = v[0]; r.rbx = v[1]; r.rcx = v[2]; r.rdx = v[3];
            r.rsi = v[4]; r.rdi = v[5]; r.rsp = v[6]; r.rbp = v[7];
            r.r8 = v[8]; r.r9 = v[9]; r.r10 = v[10]; r.r11 = v[11];
            r.r12 = v[12]; r.r13 = v[13]; r.r14 = v[14]; r.r15 = v[15];
            r.rip = v[16]; r.rflags = v[17];
            return r;
        } catch (SyscallException e) {
            throw new HypervisorException("Cannot read registers of vCPU " + id, e);
        }
    }

    @Override
    public void setRegs(StandardRegisters r) throws HypervisorException {
        long[] v = {r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rsp, r.rbp, r.r8, r.r9, r.r10,
            r.r11, r.r12, r.r13, r.r14, r.r15, r.rip, r.rflags};
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(STRUCT_KVM_REGS);
            MemorySegment.copy(v, 0, s, JAVA_LONG, 0, v.length);
            Linux.ioctl(fd, KVM_SET_REGS, s, "ioctl KVM_SET_REGS");
        } catch (SyscallException e) {
            throw new HypervisorException("Cannot set registers of vCPU " + id, e);
        }
    }

    private static final String[] SEGMENTS = {"cs", "ds", "es", "fs", "gs", "ss", "tr", "ldt"};

    @Override
    public SpecialRegisters getSregs() throws HypervisorException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(STRUCT_KVM_SREGS);
            Linux.ioctl(fd, KVM_GET_SREGS, s, "ioctl KVM_GET_SREGS");
            SpecialRegisters r = new SpecialRegisters();
            Segment[] segs = new Segment[8];
            for (int i = 0; i < 8; i++) {
                segs[i] = readSegment(s, i * STRUCT_KVM_SEGMENT.byteSize());
            }
            r.cs = segs[0]; r.ds = segs[1]; r.es = segs[2]; r.fs = segs[3];
            r.gs = segs[4]; r.ss = segs[5]; r.tr = segs[6]; r.ldt = segs[7];
            r.gdtBase = s.get(JAVA_LONG, offset(STRUCT_KVM_SREGS, "gdt", "base"));
            r.gdtLimit = Short.toUnsignedInt(s.get(JAVA_SHORT, offset(STRUCT_KVM_SREGS, "gdt", "limit")));
            r.idtBase = s.get(JAVA_LONG, offset(STRUCT_KVM_SREGS, "idt", "base"));
            r.idtLimit = Short.toUnsignedInt(s.get(JAVA_SHORT, offset(STRUCT_KVM_SREGS, "idt", "limit")));
            long cr = offset(STRUCT_KVM_SREGS, "cr0");
            r.cr0 = s.get(JAVA_LONG, cr);
            r.cr2 = s.get(JAVA_LONG, cr + 8);
            r.cr3 = s.get(JAVA_LONG, cr + 16);
            r.cr4 = s.get(JAVA_LONG, cr + 24);
            r.cr8 = s.get(JAVA_LONG, cr + 32);
            r.efer = s.get(JAVA_LONG, cr + 40);
            r.apicBase = s.get(JAVA_LONG, cr + 48);
            for (int i = 0; i < 4; i++) {
                r.interruptBitmap[i] =
                        s.get(JAVA_LONG, offset(STRUCT_KVM_SREGS, "interrupt_bitmap") + 8L * i);
            }
            return r;
        } catch (SyscallException e) {
            throw new HypervisorException("Cannot read special registers of vCPU " + id, e);
        }
    }

    @Override
    public void setSregs(SpecialRegisters r) throws HypervisorException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(STRUCT_KVM_SREGS);
            Segment[] segs = {r.cs, r.ds, r.es, r.fs, r.gs, r.ss, r.tr, r.ldt};
            for (int i = 0; i < 8; i++) {
                writeSegment(s, i * STRUCT_KVM_SEGMENT.byteSize(), segs[i]);
            }
            s.set(JAVA_LONG, offset(STRUCT_KVM_SREGS, "gdt", "base"), r.gdtBase);
            s.set(JAVA_SHORT, offset(STRUCT_KVM_SREGS, "gdt", "limit"), (short) r.gdtLimit);
            s.set(JAVA_LONG, offset(STRUCT_KVM_SREGS, "idt", "base"), r.idtBase);
            s.set(JAVA_SHORT, offset(STRUCT_KVM_SREGS, "idt", "limit"), (short) r.idtLimit);
            long cr = offset(STRUCT_KVM_SREGS, "cr0");
            s.set(JAVA_LONG, cr, r.cr0);
            s.set(JAVA_LONG, cr + 8, r.cr2);
            s.set(JAVA_LONG, cr + 16, r.cr3);
            s.set(JAVA_LONG, cr + 24, r.cr4);
            s.set(JAVA_LONG, cr + 32, r.cr8);
            s.set(JAVA_LONG, cr + 40, r.efer);
            s.set(JAVA_LONG, cr + 48, r.apicBase);
            for (int i = 0; i < 4; i++) {
                s.set(JAVA_LONG, offset(STRUCT_KVM_SREGS, "interrupt_bitmap") + 8L * i,
                        r.interruptBitmap[i]);
            }
            Linux.ioctl(fd, KVM_SET_SREGS, s, "ioctl KVM_SET_SREGS");
        } catch (SyscallException e) {
            throw new HypervisorException("Cannot set special registers of vCPU " + id, e);
        }
    }

    private static Segment readSegment(MemorySegment s, long o) {
        return new Segment(
                s.get(JAVA_LONG, o),
                s.get(JAVA_INT, o + 8),
                Short.toUnsignedInt(s.get(JAVA_SHORT, o + 12)),
                s.get(JAVA_BYTE, o + 14),
                s.get(JAVA_BYTE, o + 15),
                s.get(JAVA_BYTE, o + 16),
                s.get(JAVA_BYTE, o + 17),
                s.get(JAVA_BYTE, o + 18),
                s.get(JAVA_BYTE, o + 19),
                s.get(JAVA_BYTE, o + 20),
                s.get(JAVA_BYTE, o + 21),
                s.get(JAVA_BYTE, o + 22));
    }

    private static void writeSegment(MemorySegment s, long o, Segment g) {
        s.set(JAVA_LONG, o, g.base());
        s.set(JAVA_INT, o + 8, g.limit());
        s.set(JAVA_SHORT, o + 12, (short) g.selector());
        s.set(JAVA_BYTE, o + 14, (byte) g.type());
        s.set(JAVA_BYTE, o + 15, (byte) g.present());
        s.set(JAVA_BYTE, o + 16, (byte) g.dpl());
        s.set(JAVA_BYTE, o + 17, (byte) g.db());
        s.set(JAVA_BYTE, o + 18, (byte) g.s());
        s.set(JAVA_BYTE, o + 19, (byte) g.l());
        s.set(JAVA_BYTE, o + 20, (byte) g.g());
        s.set(JAVA_BYTE, o + 21, (byte) g.avl());
        s.set(JAVA_BYTE, o + 22, (byte) g.unusable());
    }

    @Override
    public void setFpu(int fcw, int mxcsr) throws HypervisorException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(STRUCT_KVM_FPU);
            s.set(JAVA_SHORT, offset(STRUCT_KVM_FPU, "fcw"), (short) fcw);
            s.set(JAVA_INT, offset(STRUCT_KVM_FPU, "mxcsr"), mxcsr);
            Linux.ioctl(fd, KVM_SET_FPU, s, "ioctl KVM_SET_FPU");
        } catch (SyscallException e) {
            throw new HypervisorException("Cannot set FPU state of vCPU " + id, e);
        }
    }

    @Override
    public void setCpuid(List<CpuidEntry> entries) throws HypervisorException {
        long esz = STRUCT_KVM_CPUID_ENTRY2.byteSize();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(8 + entries.size() * esz, 8);
            s.set(JAVA_INT, 0, entries.size());
            for (int i = 0; i < entries.size(); i++) {
                CpuidEntry e = entries.get(i);
                long o = 8 + i * esz;
                s.set(JAVA_INT, o, e.function());
                s.set(JAVA_INT, o + 4, e.index());
                s.set(JAVA_INT, o + 8, e.flags());
                s.set(JAVA_INT, o + 12, e.eax());
                s.set(JAVA_INT, o + 16, e.ebx());
                s.set(JAVA_INT, o + 20, e.ecx());
                s.set(JAVA_INT, o + 24, e.edx());
            }
            Linux.ioctl(fd, KVM_SET_CPUID2, s, "ioctl KVM_SET_CPUID2");
        } catch (SyscallException e) {
            throw new HypervisorException("Cannot set CPUID of vCPU " + id, e);
        }
    }

    @Override
    public void setMsrs(List<MsrEntry> msrs) throws HypervisorException {
        long esz = STRUCT_KVM_MSR_ENTRY.byteSize();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(8 + msrs.size() * esz, 8);
            s.set(JAVA_INT, 0, msrs.size());
            for (int i = 0; i < msrs.size(); i++) {
                long o = 8 + i * esz;
                s.set(JAVA_INT, o, msrs.get(i).index());
                s.set(JAVA_LONG, o + 8, msrs.get(i).value());
            }
            long n = Linux.ioctl(fd, KVM_SET_MSRS, s, "ioctl KVM_SET_MSRS");
            if (n != msrs.size()) {
                throw new HypervisorException(String.format(
                        "KVM refused MSR 0x%x of vCPU %d", msrs.get((int) n).index(), id));
            }
        } catch (SyscallException e) {
            throw new HypervisorException("Cannot set MSRs of vCPU " + id, e);
        }
    }

    @Override
    public byte[] getLapic() throws HypervisorException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(STRUCT_KVM_LAPIC_STATE);
            Linux.ioctl(fd, KVM_GET_LAPIC, s, "ioctl KVM_GET_LAPIC");
            return s.toArray(JAVA_BYTE);
        } catch (SyscallException e) {
            throw new HypervisorException("Cannot read the local APIC of vCPU " + id, e);
        }
    }

    @Override
    public void setLapic(byte[] regs) throws HypervisorException {
        if (regs.length != STRUCT_KVM_LAPIC_STATE.byteSize()) {
            throw new IllegalArgumentException("LAPIC state must be 1024 bytes: " + regs.length);
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(STRUCT_KVM_LAPIC_STATE);
            MemorySegment.copy(regs, 0, s, JAVA_BYTE, 0, regs.length);
            Linux.ioctl(fd, KVM_SET_LAPIC, s, "ioctl KVM_SET_LAPIC");
        } catch (SyscallException e) {
            throw new HypervisorException("Cannot set the local APIC of vCPU " + id, e);
        }
    }

    @Override
    public void nmi() throws HypervisorException {
        try {
            Linux.ioctl(fd, KVM_NMI, 0, "ioctl KVM_NMI");
        } catch (SyscallException e) {
            throw new HypervisorException("Cannot inject an NMI into vCPU " + id, e);
        }
    }

    @Override
    public void close() {
        Linux.close(fd);
    }
}
