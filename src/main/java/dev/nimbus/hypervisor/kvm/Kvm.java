package dev.nimbus.hypervisor.kvm;

import static dev.nimbus.hypervisor.kvm.KvmIoctls.*;
import static dev.nimbus.hypervisor.kvm.KvmStructs.STRUCT_KVM_CPUID_ENTRY2;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import dev.nimbus.hypervisor.CpuidEntry;
import dev.nimbus.hypervisor.Hypervisor;
import dev.nimbus.hypervisor.HypervisorException;
import dev.nimbus.hypervisor.Vm;
import dev.nimbus.sys.Errno;
import dev.nimbus.sys.Linux;
import dev.nimbus.sys.SyscallException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The KVM hypervisor: a handle on {@code /dev/kvm}. */
public final class Kvm implements Hypervisor {
    private static final int KVM_API_VERSION = 12;

    private final int fd;
    private final int vcpuMmapSize;
    private List<CpuidEntry> supportedCpuid;

    private Kvm(int fd, int vcpuMmapSize) {
        this.fd = fd;
        this.vcpuMmapSize = vcpuMmapSize;
    }

    /** Opens {@code /dev/kvm} and checks that it has what Nimbus needs. */
    public static Kvm open() throws HypervisorException {
        return open("/dev/kvm");
    }

    static Kvm open(String path) throws HypervisorException {
        int fd;
        try {
            fd = Linux.open(path, Linux.O_RDWR, 0);
        } catch (SyscallException e) {
            String remedy = switch (e.errno()) {
                case Errno.ENOENT -> "is the kvm module loaded?";
                case Errno.EACCES, Errno.EPERM ->
                        "check that this user may read and write " + path + " (group kvm)";
                default -> "is KVM usable on this host?";
            };
            throw new HypervisorException("Cannot open " + path + ": " + Errno.name(e.errno())
                    + " (" + Errno.description(e.errno()) + "); " + remedy, e);
        }
        try {
            long version = Linux.ioctl(fd, KVM_GET_API_VERSION, 0, "ioctl KVM_GET_API_VERSION");
            if (version != KVM_API_VERSION) {
                throw new HypervisorException("Unsupported KVM API version " + version
                        + "; Nimbus needs " + KVM_API_VERSION);
            }
            requireCap(fd, KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP");
            requireCap(fd, KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY");
            requireCap(fd, KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD");
            requireCap(fd, KVM_CAP_IRQFD, "KVM_CAP_IRQFD");
            requireCap(fd, KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT");
            requireCap(fd, KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID");
            int mmapSize = (int) Linux.ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 0,
                    "ioctl KVM_GET_VCPU_MMAP_SIZE");
            return new Kvm(fd, mmapSize);
        } catch (SyscallException e) {
            Linux.close(fd);
            throw new HypervisorException("KVM set-up failed", e);
        } catch (HypervisorException e) {
            Linux.close(fd);
            throw e;
        }
    }

    private static void requireCap(int fd, int cap, String name)
            throws SyscallException, HypervisorException {
        if (Linux.ioctl(fd, KVM_CHECK_EXTENSION, cap, "ioctl KVM_CHECK_EXTENSION") <= 0) {
            throw new HypervisorException("KVM lacks " + name + ", which Nimbus needs");
        }
    }

    /** KVM_CHECK_EXTENSION: 0 when absent, else a capability-specific positive value. */
    public long checkExtension(int cap) throws HypervisorException {
        try {
            return Linux.ioctl(fd, KVM_CHECK_EXTENSION, cap, "ioctl KVM_CHECK_EXTENSION");
        } catch (SyscallException e) {
            throw new HypervisorException("KVM_CHECK_EXTENSION failed", e);
        }
    }

    /** Upper bound on vCPUs per VM (KVM_CAP_MAX_VCPUS). */
    public int maxVcpus() throws HypervisorException {
        long max = checkExtension(KVM_CAP_MAX_VCPUS);
        return (int) (max > 0 ? max : checkExtension(KVM_CAP_NR_VCPUS));
    }

    @Override
    public Vm createVm() throws HypervisorException {
        int vmFd;
        try {
            vmFd = (int) Linux.ioctl(fd, KVM_CREATE_VM, 0, "ioctl KVM_CREATE_VM");
        } catch (SyscallException e) {
            throw new HypervisorException("Cannot create a KVM VM", e);
        }
        return KvmVm.create(vmFd, vcpuMmapSize);
    }

    @Override
    public synchronized List<CpuidEntry> supportedCpuid() throws HypervisorException {
        if (supportedCpuid != null) {
            return supportedCpuid;
        }
        int nent = 128;
        while (true) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment buf = arena.allocate(8 + nent * STRUCT_KVM_CPUID_ENTRY2.byteSize(), 8);
                buf.set(JAVA_INT, 0, nent);
                long ret = Linux.raw(Linux.SYS_IOCTL, fd, KVM_GET_SUPPORTED_CPUID, buf.address(),
                        0, 0, 0);
                if (ret == -7 /* E2BIG */ && nent < 4096) {
                    nent *= 2;
                    continue;
                }
                if (ret < 0) {
                    throw new HypervisorException("Cannot read KVM's supported CPUID",
                            new SyscallException("ioctl KVM_GET_SUPPORTED_CPUID", (int) -ret));
                }
                int n = buf.get(JAVA_INT, 0);
                List<CpuidEntry> list = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    long o = 8 + i * STRUCT_KVM_CPUID_ENTRY2.byteSize();
                    list.add(new CpuidEntry(buf.get(JAVA_INT, o), buf.get(JAVA_INT, o + 4),
                            buf.get(JAVA_INT, o + 8), buf.get(JAVA_INT, o + 12),
                            buf.get(JAVA_INT, o + 16), buf.get(JAVA_INT, o + 20),
                            buf.get(JAVA_INT, o + 24)));
                }
                supportedCpuid = List.copyOf(list);
                return supportedCpuid;
            }
        }
    }

    @Override
    public String emulationWarning() {
        if (Files.exists(Path.of("/sys/module/kvm_intel"))
                || Files.exists(Path.of("/sys/module/kvm_amd"))) {
            return null;
        }
        if (Files.exists(Path.of("/sys/module/kvm_pvm"))) {
            return "KVM on this host is KVM-PVM (no VMX/SVM): guests that are not PVM-aware run by"
                    + " instruction emulation, and Linux stops early in boot; see the README";
        }
        return "KVM on this host has no VMX/SVM module loaded: guests may run by instruction"
                + " emulation; see the README";
    }

    @Override
    public void close() {
        Linux.close(fd);
    }
}
