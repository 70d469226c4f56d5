package dev.nimbus.vmm;

import dev.nimbus.devices.Bus;
import dev.nimbus.hypervisor.VcpuExitHandler;
import dev.nimbus.log.RateLimitedLog;
import java.lang.System.Logger.Level;

/**
 * Routes vCPU port I/O and MMIO exits to the devices on the two buses. An access nobody claims
 * reads as all ones and is otherwise ignored, as on real hardware. A device that throws (a guest
 * gave it something malformed) costs the guest that one access, never the vCPU thread.
 */
final class IoDispatcher implements VcpuExitHandler {
    private static final RateLimitedLog UNCLAIMED =
            new RateLimitedLog(System.getLogger(IoDispatcher.class.getName()));
    private static final RateLimitedLog FAILED =
            new RateLimitedLog(System.getLogger(IoDispatcher.class.getName()));

    private final Bus pio;
    private final Bus mmio;

    IoDispatcher(Bus pio, Bus mmio) {
        this.pio = pio;
        this.mmio = mmio;
    }

    private static long allOnes(int size) {
        return size >= 8 ? -1L : (1L << (8 * size)) - 1;
    }

    @Override
    public long pioRead(int port, int size) {
        Bus.Range r = pio.find(port);
        if (r == null) {
            UNCLAIMED.log(Level.DEBUG, () -> String.format("Unclaimed port read 0x%x size=%d", port, size));
            return allOnes(size);
        }
        try {
            return r.device().read(port - r.base(), size) & allOnes(size);
        } catch (RuntimeException e) {
            FAILED.log(Level.WARNING, () -> String.format("%s: port read 0x%x failed: %s", r.name(), port, e));
            return allOnes(size);
        }
    }

    @Override
    public void pioWrite(int port, int size, long value) {
        Bus.Range r = pio.find(port);
        if (r == null) {
            UNCLAIMED.log(Level.DEBUG, () -> String.format(
                    "Unclaimed port write 0x%x size=%d value=0x%x", port, size, value));
            return;
        }
        try {
            r.device().write(port - r.base(), size, value);
        } catch (RuntimeException e) {
            FAILED.log(Level.WARNING, () -> String.format("%s: port write 0x%x failed: %s", r.name(), port, e));
        }
    }

    @Override
    public long mmioRead(long gpa, int size) {
        Bus.Range r = mmio.find(gpa);
        if (r == null) {
            UNCLAIMED.log(Level.DEBUG, () -> String.format("Unclaimed MMIO read 0x%x size=%d", gpa, size));
            return allOnes(size);
        }
        try {
            return r.device().read(gpa - r.base(), size);
        } catch (RuntimeException e) {
            FAILED.log(Level.WARNING, () -> String.format("%s: MMIO read 0x%x failed: %s", r.name(), gpa, e));
            return allOnes(size);
        }
    }

    @Override
    public void mmioWrite(long gpa, int size, long value) {
        Bus.Range r = mmio.find(gpa);
        if (r == null) {
            UNCLAIMED.log(Level.DEBUG, () -> String.format(
                    "Unclaimed MMIO write 0x%x size=%d value=0x%x", gpa, size, value));
            return;
        }
        try {
            r.device().write(gpa - r.base(), size, value);
        } catch (RuntimeException e) {
            FAILED.log(Level.WARNING, () -> String.format("%s: MMIO write 0x%x failed: %s", r.name(), gpa, e));
        }
    }
}
