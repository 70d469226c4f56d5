package dev.nimbus.hypervisor;

/**
 * Serves a vCPU's port I/O and MMIO exits. Called on the vCPU's own thread, in the middle of
 * {@link Vcpu#run}; must not block for long.
 */
public interface VcpuExitHandler {
    long pioRead(int port, int size);

    void pioWrite(int port, int size, long value);

    long mmioRead(long gpa, int size);

    void mmioWrite(long gpa, int size, long value);
}
