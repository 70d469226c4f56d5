package dev.nimbus.devices.pci;

import dev.nimbus.hypervisor.HypervisorException;
import dev.nimbus.hypervisor.Vcpu;
import dev.nimbus.hypervisor.Vm;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A {@link Vm} that records what devices ask of it: MSI routes, irqfds and ioeventfds. Nothing
 * reaches a kernel; a test signals or reads the recorded eventfds itself.
 */
public final class FakeVm implements Vm {
    /** A registered ioeventfd. */
    public record Ioeventfd(int eventfd, long addr, int len, boolean pio, Long datamatch) {}

    /** An MSI route: where the message goes and what it carries. */
    public record MsiRoute(long address, int data) {}

    private final Map<Integer, MsiRoute> routes = new TreeMap<>();
    private final Map<Integer, Integer> irqfds = new TreeMap<>();
    private final List<Ioeventfd> ioeventfds = new ArrayList<>();
    private int routeUpdates;
    private boolean failIoeventfds;

    /** Makes later ioeventfd registrations fail, as on a kernel without the capability. */
    public synchronized void failIoeventfds(boolean fail) {
        failIoeventfds = fail;
    }

    public synchronized Map<Integer, MsiRoute> routes() {
        return new TreeMap<>(routes);
    }

    /** GSI by irqfd. */
    public synchronized Map<Integer, Integer> irqfds() {
        return new TreeMap<>(irqfds);
    }

    public synchronized List<Ioeventfd> ioeventfds() {
        return new ArrayList<>(ioeventfds);
    }

    /** How many times a route was set. */
    public synchronized int routeUpdates() {
        return routeUpdates;
    }

    /** The irqfd registered for {@code gsi}, or -1. */
    public synchronized int irqfdOf(int gsi) {
        for (Map.Entry<Integer, Integer> e : irqfds.entrySet()) {
            if (e.getValue() == gsi) {
                return e.getKey();
            }
        }
        return -1;
    }

    @Override
    public void setUserMemoryRegion(int slot, long gpa, long size, long hva) {}

    @Override
    public Vcpu createVcpu(int id) throws HypervisorException {
        throw new HypervisorException("FakeVm has no vCPUs");
    }

    @Override
    public void setIrqLine(int gsi, boolean level) {}

    @Override
    public synchronized void registerIoeventfd(int eventfd, long addr, int len, boolean pio,
            Long datamatch) throws HypervisorException {
        if (failIoeventfds) {
            throw new HypervisorException("ioeventfds disabled in this test");
        }
        ioeventfds.add(new Ioeventfd(eventfd, addr, len, pio, datamatch));
    }

    @Override
    public synchronized void unregisterIoeventfd(int eventfd, long addr, int len, boolean pio,
            Long datamatch) throws HypervisorException {
        if (!ioeventfds.remove(new Ioeventfd(eventfd, addr, len, pio, datamatch))) {
            throw new HypervisorException("No such ioeventfd at 0x" + Long.toHexString(addr));
        }
    }

    @Override
    public synchronized void registerIrqfd(int eventfd, int gsi) throws HypervisorException {
        if (irqfds.containsKey(eventfd)) {
            throw new HypervisorException("irqfd registered twice: " + eventfd);
        }
        irqfds.put(eventfd, gsi);
    }

    @Override
    public synchronized void unregisterIrqfd(int eventfd, int gsi) {
        irqfds.remove(eventfd);
    }

    @Override
    public synchronized void setMsiRoute(int gsi, long address, int data) {
        if (gsi < GsiAllocator.FIRST_MSI_GSI) {
            throw new IllegalArgumentException("GSI " + gsi + " belongs to the I/O APIC");
        }
        routes.put(gsi, new MsiRoute(address, data));
        routeUpdates++;
    }

    @Override
    public synchronized void removeMsiRoute(int gsi) {
        routes.remove(gsi);
    }

    @Override
    public void signalMsi(long address, int data) {}

    @Override
    public long getClock() {
        return 0;
    }

    @Override
    public void setClock(long ns) {}

    @Override
    public void close() {}
}
