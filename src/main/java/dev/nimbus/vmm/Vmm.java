package dev.nimbus.vmm;

import dev.nimbus.hypervisor.Hypervisor;
import dev.nimbus.sys.Linux;
import dev.nimbus.vmm.VmRequestException.Kind;
import dev.nimbus.vmm.config.ConfigException;
import dev.nimbus.vmm.config.DiskConfig;
import dev.nimbus.vmm.config.FsConfig;
import dev.nimbus.vmm.config.NetConfig;
import dev.nimbus.vmm.config.PmemConfig;
import dev.nimbus.vmm.config.DeviceIdAllocator;
import dev.nimbus.vmm.config.MacAddress;
import dev.nimbus.vmm.config.NetConfig;
import dev.nimbus.vmm.config.VmConfig;
import dev.nimbus.vmm.config.VsockConfig;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The VMM's control loop: one thread (the one calling {@link #run}) owns the VM's state machine
 * and carries out, one at a time, the requests the command line and the API post to it, and
 * what the guest asks for (power-off, reset).
 *
 * <p>States, as {@code vm.info} reports them: no VM; {@link VmState#CREATED} (a configuration,
 * no running VM); {@link VmState#RUNNING}; {@link VmState#PAUSED}. {@code vm.shutdown} tears the
 * VM down and goes back to Created, from where {@code vm.boot} boots it again; {@code vm.delete}
 * drops the configuration; {@code vmm.shutdown} does both and ends the loop.
 *
 * <p>A guest power-off ends the VMM with exit code 0, or with {@code --no-shutdown} tears the VM
 * down and keeps serving. A guest reset tears the VM down and builds it again, in this process,
 * from the current configuration. A guest the VMM cannot run on (triple fault, KVM internal
 * error) ends the VMM with exit code 1.
 *
 * <p>Request methods ({@link #createVm}, {@link #bootVm}, ...) may be called from any thread;
 * each waits for the loop's answer. Once the loop has ended they fail at once.
 */
public final class Vmm {
    private static final Logger LOG = System.getLogger(Vmm.class.getName());

    /** Source names of the events this class emits. */
    static final String VMM_SOURCE = "vmm";
    static final String VM_SOURCE = "vm";

    private final Hypervisor hypervisor;
    private final EventMonitor events;
    private final boolean noShutdown;
    private final String version;
    private final LinkedBlockingQueue<Object> inbox = new LinkedBlockingQueue<>();
    private final CountDownLatch finished = new CountDownLatch(1);
    private volatile boolean terminated;

    // Owned by the loop's thread.
    private VmConfig config;
    private VirtualMachine vm;
    private VmState state = VmState.CREATED;
    private int generation;
    private boolean warned;
    private boolean exit;
    private int exitCode;
    private String fatalError;

    /** What {@code vmm.ping} reports. */
    public record Ping(String buildVersion, String version, long pid, List<String> features) {}

    /** The PCI address a hot-plugged device got, as {@code vm.add-*} answers when booted. */
    public record PciDeviceInfo(String id, String bdf) {}

    /** How the loop ended. */
    public record Outcome(int exitCode, String error) {}

    /**
     * A VMM on {@code hypervisor}, reporting to {@code events}.
     *
     * @param noShutdown keep serving after the guest powers off ({@code --no-shutdown})
     * @param version the release, e.g. {@code 0.1.0}, for {@code vmm.ping}
     */
    public Vmm(Hypervisor hypervisor, EventMonitor events, boolean noShutdown, String version) {
        this.hypervisor = hypervisor;
        this.events = events;
        this.noShutdown = noShutdown;
        this.version = version;
    }

    /**
     * Runs the loop on the calling thread until the VMM shuts down. With {@code initial}, the VM
     * is first created and booted from it, exactly as {@code vm.create} and {@code vm.boot}
     * would; if that fails, the VMM shuts down with exit code 1.
     */
    public Outcome run(Optional<VmConfig> initial) {
        try {
            if (initial.isPresent()) {
                try {
                    create(initial.get());
                    boot();
                } catch (VmRequestException e) {
                    LOG.log(Level.DEBUG, "Boot from the command line failed", e);
                    fail(e.getMessage());
                    vmmShutdown();
                }
            }
            while (!exit) {
                Object item;
                try {
                    item = inbox.take();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    fail("Interrupted");
                    vmmShutdown();
                    break;
                }
                if (item instanceof Request r) {
                    handle(r);
                } else if (item instanceof GuestExit g) {
                    handle(g);
                }
            }
        } finally {
            Consoles.closeAll();
            terminated = true;
            // Answer whatever was posted after the last request this loop took.
            Object item;
            while ((item = inbox.poll()) != null) {
                if (item instanceof Request r) {
                    r.complete(null, new VmRequestException(Kind.FAILED, "VMM is shutting down"));
                }
            }
            finished.countDown();
        }
        return new Outcome(exitCode, fatalError);
    }

    private void fail(String message) {
        if (fatalError == null) {
            fatalError = message;
        }
        exitCode = 1;
    }

    /** Asks the loop to shut the VMM down, as a signal does; returns at once. */
    public void requestExit() {
        post(new Request(Action.VMM_EXIT, null));
    }

    /** Puts a terminal a tty console made raw back as it was; for exits that skip hooks. */
    public static void restoreTerminal() {
        Consoles.restoreTerminal();
    }

    /** Whether the loop has ended. */
    public boolean isTerminated() {
        return terminated;
    }

    /** Waits up to {@code millis} for the loop to end; returns whether it has. */
    public boolean awaitTermination(long millis) throws InterruptedException {
        return finished.await(millis, TimeUnit.MILLISECONDS);
    }

    // ---- Requests: any thread ----

    /** {@code vmm.ping}: the VMM's version, process id and features. */
    public Ping ping() throws VmRequestException {
        return (Ping) call(Action.PING, null);
    }

    /** {@code vmm.shutdown}: deletes the VM (shutting it down first) and ends the loop. */
    public void shutdownVmm() throws VmRequestException {
        call(Action.VMM_SHUTDOWN, null);
    }

    /** {@code vm.create}: stores {@code vmConfig}; nothing runs until {@link #bootVm}. */
    public void createVm(VmConfig vmConfig) throws VmRequestException {
        call(Action.CREATE, vmConfig);
    }

    /** {@code vm.boot}: validates the configuration and boots a VM from it. */
    public void bootVm() throws VmRequestException {
        call(Action.BOOT, null);
    }

    /** {@code vm.shutdown}: tears the VM down; the configuration stays (state Created). */
    public void shutdownVm() throws VmRequestException {
        call(Action.SHUTDOWN, null);
    }

    /** {@code vm.reboot}: tears the VM down and boots it again from its configuration. */
    public void rebootVm() throws VmRequestException {
        call(Action.REBOOT, null);
    }

    /** {@code vm.pause}: stops every vCPU; the guest sees no time pass. */
    public void pauseVm() throws VmRequestException {
        call(Action.PAUSE, null);
    }

    /** {@code vm.resume}: lets a paused VM run again. */
    public void resumeVm() throws VmRequestException {
        call(Action.RESUME, null);
    }

    /** {@code vm.power-button}: presses the ACPI power button. */
    public void powerButton() throws VmRequestException {
        call(Action.POWER_BUTTON, null);
    }

    /** {@code vm.nmi}: injects an NMI into every vCPU. */
    public void nmi() throws VmRequestException {
        call(Action.NMI, null);
    }

    /** {@code vm.delete}: shuts the VM down if it runs and drops its configuration. */
    public void deleteVm() throws VmRequestException {
        call(Action.DELETE, null);
    }

    /** {@code vm.info}. */
    public VmInfo vmInfo() throws VmRequestException {
        return (VmInfo) call(Action.INFO, null);
    }

    /** {@code vm.counters}: device id to counter name to value. */
    @SuppressWarnings("unchecked")
    public Map<String, Map<String, Long>> counters() throws VmRequestException {
        return (Map<String, Map<String, Long>>) call(Action.COUNTERS, null);
    }

    /**
     * {@code vm.add-disk}: adds a disk to the configuration; returns null (a cold add, before
     * boot). A running VM cannot take new devices yet.
     */
    public PciDeviceInfo addDisk(DiskConfig disk) throws VmRequestException {
        return (PciDeviceInfo) call(Action.ADD_DISK, disk);
    }

    /**
     * {@code vm.add-net}: as {@link #addDisk}. The tap descriptors in {@code net.fds()} now
     * belong to the VMM, which closes them when the configuration goes, or at once if the
     * device is refused.
     */
    public PciDeviceInfo addNet(NetConfig net) throws VmRequestException {
        return (PciDeviceInfo) call(Action.ADD_NET, net);
    }

    /** {@code vm.add-fs}: as {@link #addDisk}. */
    public PciDeviceInfo addFs(FsConfig fs) throws VmRequestException {
        return (PciDeviceInfo) call(Action.ADD_FS, fs);
    }

    /** {@code vm.add-pmem}: as {@link #addDisk}. */
    public PciDeviceInfo addPmem(PmemConfig pmem) throws VmRequestException {
        return (PciDeviceInfo) call(Action.ADD_PMEM, pmem);
    }

    /** {@code vm.add-vsock}: as {@link #addDisk}; a VM has at most one vsock device. */
    public PciDeviceInfo addVsock(VsockConfig vsock) throws VmRequestException {
        return (PciDeviceInfo) call(Action.ADD_VSOCK, vsock);
    }

    /** {@code vm.remove-device}: removes device {@code id} from a VM that is not running. */
    public void removeDevice(String id) throws VmRequestException {
        call(Action.REMOVE_DEVICE, id);
    }

    /**
     * {@code vm.resize} of a VM that is not running: records the new vCPU count, RAM size and
     * balloon size (each may be null) in its configuration.
     */
    public void resize(Integer desiredVcpus, Long desiredRam, Long desiredBalloon)
            throws VmRequestException {
        call(Action.RESIZE, new Resize(desiredVcpus, desiredRam, desiredBalloon));
    }

    /**
     * Fails like any request for {@code what} the VMM cannot do yet, after the checks every
     * such request makes first: with no VM created it is {@link Kind#NOT_FOUND} when
     * {@code needsConfig}, and {@code VM is not running} when {@code needsVm} and none runs.
     */
    public void unsupported(String what, boolean needsConfig, boolean needsVm)
            throws VmRequestException {
        call(Action.UNSUPPORTED, new Unsupported(what, needsConfig, needsVm, Kind.FAILED));
    }

    /**
     * As {@link #unsupported(String, boolean, boolean)}, for a lifecycle request whose status
     * codes the API document gives (snapshot, coredump): 404 without a VM, 405 when it is not
     * booted.
     */
    public void unsupportedLifecycle(String what) throws VmRequestException {
        call(Action.UNSUPPORTED, new Unsupported(what, true, true, Kind.NOT_ALLOWED));
    }

    private record Resize(Integer vcpus, Long ram, Long balloon) {}

    private record Unsupported(String what, boolean needsConfig, boolean needsVm, Kind notRunning) {}

    private Object call(Action action, Object argument) throws VmRequestException {
        Request r = new Request(action, argument);
        if (!post(r)) {
            throw new VmRequestException(Kind.FAILED, "VMM is shutting down");
        }
        return r.await();
    }

    private boolean post(Object item) {
        if (terminated) {
            return false;
        }
        inbox.add(item);
        // The loop may have ended between the check and the add; it answers leftovers itself,
        // but only those it saw, so check again.
        if (terminated && item instanceof Request r) {
            r.complete(null, new VmRequestException(Kind.FAILED, "VMM is shutting down"));
        }
        return true;
    }

    private enum Action {
        PING, VMM_SHUTDOWN, VMM_EXIT, CREATE, BOOT, SHUTDOWN, REBOOT, PAUSE, RESUME, POWER_BUTTON,
        NMI, DELETE, INFO, COUNTERS, ADD_DISK, ADD_NET, ADD_FS, ADD_PMEM, ADD_VSOCK, REMOVE_DEVICE,
        RESIZE, UNSUPPORTED
    }

    /** A request and, once the loop has carried it out, its answer. */
    private static final class Request {
        final Action action;
        final Object argument;
        private Object result;
        private VmRequestException error;
        private boolean done;

        Request(Action action, Object argument) {
            this.action = action;
            this.argument = argument;
        }

        synchronized void complete(Object value, VmRequestException failure) {
            if (done) {
                return;
            }
            result = value;
            error = failure;
            done = true;
            notifyAll();
        }

        synchronized Object await() throws VmRequestException {
            boolean interrupted = false;
            while (!done) {
                try {
                    wait();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            if (error != null) {
                throw error;
            }
            return result;
        }
    }

    /** How a boot of the VM ended, tagged with the boot it came from. */
    private record GuestExit(int generation, VmExitEvent event) {}

    /** Hears guest exits of one boot and posts them to the loop. */
    private final class ExitListener implements java.util.function.Consumer<VmExitEvent> {
        private final int boot;

        ExitListener(int boot) {
            this.boot = boot;
        }

        @Override
        public void accept(VmExitEvent event) {
            post(new GuestExit(boot, event));
        }
    }

    // ---- The loop's side ----

    private void handle(Request r) {
        Object result = null;
        VmRequestException error = null;
        try {
            result = switch (r.action) {
                case PING -> new Ping("v" + version, version, Linux.getpid(), List.of("kvm"));
                case VMM_SHUTDOWN, VMM_EXIT -> {
                    vmmShutdown();
                    yield null;
                }
                case CREATE -> {
                    create((VmConfig) r.argument);
                    yield null;
                }
                case BOOT -> {
                    boot();
                    yield null;
                }
                case SHUTDOWN -> {
                    shutdown();
                    yield null;
                }
                case REBOOT -> {
                    reboot();
                    yield null;
                }
                case PAUSE -> {
                    pause();
                    yield null;
                }
                case RESUME -> {
                    resume();
                    yield null;
                }
                case POWER_BUTTON -> {
                    runningVm().powerButton();
                    yield null;
                }
                case NMI -> {
                    runningVm().nmi();
                    yield null;
                }
                case DELETE -> {
                    delete();
                    yield null;
                }
                case INFO -> info();
                case COUNTERS -> runningVm().counters();
                case ADD_DISK, ADD_NET, ADD_FS, ADD_PMEM, ADD_VSOCK -> addDevice(r.action,
                        r.argument);
                case REMOVE_DEVICE -> {
                    removeFromConfig((String) r.argument);
                    yield null;
                }
                case RESIZE -> {
                    resize((Resize) r.argument);
                    yield null;
                }
                case UNSUPPORTED -> {
                    unsupported((Unsupported) r.argument);
                    yield null;
                }
            };
        } catch (VmRequestException e) {
            error = e;
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, "Request " + r.action + " failed", e);
            error = new VmRequestException(Kind.FAILED, String.valueOf(e.getMessage()));
        }
        r.complete(result, error);
    }

    private void create(VmConfig vmConfig) throws VmRequestException {
        if (config != null) {
            closeFds(vmConfig);
            throw new VmRequestException(Kind.FAILED, VmRequestException.VM_ALREADY_CREATED);
        }
        config = vmConfig;
        state = VmState.CREATED;
    }

    private void boot() throws VmRequestException {
        if (vm != null) {
            throw new VmRequestException(Kind.FAILED, VmRequestException.VM_ALREADY_CREATED);
        }
        events.event(VM_SOURCE, "booting");
        if (config == null) {
            throw new VmRequestException(Kind.NOT_FOUND, VmRequestException.VM_MISSING_CONFIG);
        }
        VmConfig validated = withBootIdentities(validate(config));
        // vm.info reports the ids and MAC addresses the devices were given, as CH's does.
        config = validated;
        startVm(validated);
        events.event(VM_SOURCE, "booted");
        LOG.log(Level.INFO, "VM booted");
    }

    /**
     * {@code c} with every unnamed device named ({@code _disk0}, {@code _net1}, ...) and a
     * random locally administered MAC for every network device that has none.
     */
    private static VmConfig withBootIdentities(VmConfig c) {
        VmConfig named = new DeviceIdAllocator(c).assignBootIds(c);
        List<NetConfig> nets = new java.util.ArrayList<>();
        java.util.random.RandomGenerator random = new java.security.SecureRandom();
        for (NetConfig n : named.net()) {
            nets.add(n.mac() != null ? n : n.withMac(MacAddress.localRandom(random)));
        }
        return named.toBuilder().net(nets).build();
    }

    /** The configuration as the VM will use it, or the broken rule. */
    private static VmConfig validate(VmConfig c) throws VmRequestException {
        try {
            return c.validate();
        } catch (ConfigException e) {
            throw validationError(e);
        }
    }

    private static VmRequestException validationError(ConfigException e) {
        List<String> chain = new java.util.ArrayList<>();
        chain.add(VmRequestException.CONFIG_VALIDATION);
        chain.addAll(e.chain());
        return new VmRequestException(
                e.httpStatus() == ConfigException.CONFLICT ? Kind.CONFLICT : Kind.INVALID_CONFIG,
                chain);
    }

    /** Builds and starts a VM from {@code validated}; a new boot generation. */
    private void startVm(VmConfig validated) throws VmRequestException {
        int boot = ++generation;
        VirtualMachine machine;
        try {
            machine = VirtualMachine.create(hypervisor, validated, new ExitListener(boot));
        } catch (VmmException e) {
            LOG.log(Level.DEBUG, "VM set-up failed", e);
            throw new VmRequestException(Kind.FAILED, chain(e));
        } catch (RuntimeException e) {
            // A bug, or input no check caught: one line for the user, the trace for -vv.
            LOG.log(Level.DEBUG, "VM set-up failed unexpectedly", e);
            throw new VmRequestException(Kind.FAILED,
                    "Internal error while building the VM: " + e);
        }
        if (!warned) {
            // Said once the VM is built, so that bad input gets its error alone.
            warned = true;
            String warning = hypervisor.emulationWarning();
            if (warning != null) {
                LOG.log(Level.WARNING, warning);
            }
        }
        machine.start();
        vm = machine;
        state = VmState.RUNNING;
    }

    /** A failure's messages, outermost first, without repeating a cause already quoted. */
    static List<String> chain(Throwable e) {
        List<String> out = new java.util.ArrayList<>();
        String previous = null;
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = t.getMessage();
            if (m != null && (previous == null || !previous.contains(m))) {
                out.add(m);
                previous = m;
            }
        }
        return out;
    }

    /**
     * The booted VM. Without one, the status codes are those the API document gives for the
     * lifecycle calls: 404 when no VM was created, 405 when it was created but is not booted.
     */
    private VirtualMachine runningVm() throws VmRequestException {
        if (config == null) {
            throw new VmRequestException(Kind.NOT_FOUND, VmRequestException.VM_NOT_CREATED);
        }
        if (vm == null) {
            throw new VmRequestException(Kind.NOT_ALLOWED, VmRequestException.VM_NOT_RUNNING);
        }
        return vm;
    }

    private void shutdown() throws VmRequestException {
        VirtualMachine machine = runningVm();
        vm = null;
        machine.close();
        state = VmState.CREATED;
        events.event(VM_SOURCE, "shutdown");
    }

    private void reboot() throws VmRequestException {
        events.event(VM_SOURCE, "rebooting");
        VirtualMachine old = runningVm();
        vm = null;
        old.close();
        state = VmState.CREATED;
        startVm(validate(config));
        events.event(VM_SOURCE, "rebooted");
    }

    private void pause() throws VmRequestException {
        VirtualMachine machine = runningVm();
        events.event(VM_SOURCE, "pausing");
        if (state != VmState.RUNNING) {
            throw invalidTransition("Cannot pause VM", "Failed to pause migratable component",
                    VmState.PAUSED);
        }
        try {
            machine.pause();
        } catch (VmmException e) {
            throw new VmRequestException(Kind.FAILED, chain(e));
        }
        state = VmState.PAUSED;
        events.event(VM_SOURCE, "paused");
    }

    private void resume() throws VmRequestException {
        VirtualMachine machine = runningVm();
        events.event(VM_SOURCE, "resuming");
        if (state != VmState.PAUSED) {
            throw invalidTransition("Cannot resume VM", "Failed to resume migratable component",
                    VmState.RUNNING);
        }
        try {
            machine.resume();
        } catch (VmmException e) {
            throw new VmRequestException(Kind.FAILED, chain(e));
        }
        state = VmState.RUNNING;
        events.event(VM_SOURCE, "resumed");
    }

    private VmRequestException invalidTransition(String what, String component, VmState to) {
        return new VmRequestException(Kind.NOT_ALLOWED, what, component,
                "Invalid transition: InvalidStateTransition(" + state.apiName() + ", "
                        + to.apiName() + ")");
    }

    private void delete() throws VmRequestException {
        if (config == null) {
            return;
        }
        if (vm != null) {
            shutdown();
        }
        closeFds(config);
        config = null;
        state = VmState.CREATED;
        events.event(VM_SOURCE, "deleted");
    }

    private void vmmShutdown() {
        try {
            delete();
        } catch (VmRequestException e) {
            LOG.log(Level.WARNING, "Cannot delete the VM while shutting down: " + e.getMessage());
        }
        events.event(VMM_SOURCE, "shutdown");
        exit = true;
    }

    private VmInfo info() throws VmRequestException {
        if (config == null) {
            throw new VmRequestException(Kind.NOT_FOUND, VmRequestException.VM_NOT_CREATED);
        }
        long actual = config.memory().totalSize() - config.memory().hotpluggedSizeTotal();
        return new VmInfo(config, state, actual, vm == null ? null : vm.deviceTree());
    }

    private VmConfig requireConfig() throws VmRequestException {
        if (config == null) {
            throw new VmRequestException(Kind.NOT_FOUND, VmRequestException.VM_NOT_CREATED);
        }
        return config;
    }

    private PciDeviceInfo addDevice(Action action, Object device) throws VmRequestException {
        VmConfig current;
        try {
            current = requireConfig();
        } catch (VmRequestException e) {
            closeFds(device);
            throw e;
        }
        VmConfig updated = switch (action) {
            case ADD_DISK -> current.withDisk((DiskConfig) device);
            case ADD_NET -> current.withNet((NetConfig) device);
            case ADD_FS -> current.withFs((FsConfig) device);
            case ADD_PMEM -> current.withPmem((PmemConfig) device);
            default -> {
                if (current.vsock() != null) {
                    throw new VmRequestException(Kind.FAILED, "Too many virtio-vsock devices");
                }
                yield current.toBuilder().vsock((VsockConfig) device).build();
            }
        };
        try {
            // The same checks as at boot, on a copy with the device added.
            validate(updated);
            if (vm != null) {
                // TODO: hot-plug needs the PCI device manager and ACPI PCI hot-plug; until
                // then a running VM refuses new devices, as a failed hot-plug would.
                throw new VmRequestException(Kind.FAILED, "Error from device manager",
                        "Device hot-plug is not supported by Nimbus yet");
            }
        } catch (VmRequestException e) {
            closeFds(device);
            throw e;
        }
        config = updated;
        return null;
    }

    private void removeFromConfig(String id) throws VmRequestException {
        VmConfig current = requireConfig();
        if (vm != null) {
            // TODO: hot-unplug needs the PCI device manager; a running VM keeps its devices.
            throw new VmRequestException(Kind.FAILED, "Error from device manager",
                    "Device hot-unplug is not supported by Nimbus yet");
        }
        NetConfig removedNet = null;
        for (NetConfig n : current.net()) {
            if (id.equals(n.id())) {
                removedNet = n;
            }
        }
        Optional<VmConfig> updated = current.removeDevice(id);
        if (updated.isEmpty()) {
            throw new VmRequestException(Kind.NOT_FOUND,
                    "No device with id \"" + id + "\" to remove");
        }
        config = updated.get();
        closeFds(removedNet);
    }

    private void resize(Resize r) throws VmRequestException {
        VmConfig current = requireConfig();
        if (vm != null) {
            // TODO: CPU and memory hot-plug and the balloon do not exist yet.
            throw new VmRequestException(Kind.FAILED, "Error from CPU manager",
                    "Resizing a running VM is not supported by Nimbus yet");
        }
        VmConfig.Builder b = current.toBuilder();
        if (r.vcpus() != null) {
            b.cpus(current.cpus().withBootVcpus(r.vcpus()));
        }
        if (r.ram() != null) {
            b.memory(current.memory().withSize(r.ram()));
        }
        if (r.balloon() != null && current.balloon() != null) {
            b.balloon(current.balloon().withSize(r.balloon()));
        }
        config = b.build();
    }

    private void unsupported(Unsupported u) throws VmRequestException {
        if (u.needsConfig()) {
            requireConfig();
        }
        if (u.needsVm() && vm == null) {
            throw new VmRequestException(u.notRunning(), VmRequestException.VM_NOT_RUNNING);
        }
        throw new VmRequestException(Kind.FAILED, u.what() + " is not supported by Nimbus yet");
    }

    /** Closes the tap descriptors a device or configuration holds. */
    private static void closeFds(Object holder) {
        if (holder instanceof NetConfig n) {
            for (int fd : n.fds()) {
                Linux.close(fd);
            }
        } else if (holder instanceof VmConfig c) {
            for (NetConfig n : c.net()) {
                closeFds(n);
            }
        }
    }

    private void handle(GuestExit g) {
        if (g.generation() != generation || vm == null) {
            return; // from a boot already torn down, e.g. a second reset request
        }
        switch (g.event()) {
            case VmExitEvent.PowerOff p -> {
                LOG.log(Level.INFO, "Guest powered off");
                if (noShutdown) {
                    try {
                        shutdown();
                    } catch (VmRequestException e) {
                        LOG.log(Level.WARNING, "Cannot shut the VM down: " + e.getMessage());
                    }
                } else {
                    vmmShutdown();
                }
            }
            case VmExitEvent.Reset r -> {
                LOG.log(Level.INFO, "Guest reset: rebooting the VM");
                try {
                    reboot();
                } catch (VmRequestException e) {
                    fail(e.getMessage());
                    vmmShutdown();
                }
            }
            case VmExitEvent.Fatal f -> {
                fail(f.message());
                vmmShutdown();
            }
        }
    }
}
