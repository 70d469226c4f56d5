package dev.nimbus.vmm;

import dev.nimbus.acpi.AcpiConfig;
import dev.nimbus.acpi.AcpiTables;
import dev.nimbus.acpi.Ged;
import dev.nimbus.arch.x86_64.BootException;
import dev.nimbus.arch.x86_64.BootMsrs;
import dev.nimbus.arch.x86_64.BootRequest;
import dev.nimbus.arch.x86_64.CpuTopology;
import dev.nimbus.arch.x86_64.Cpuid;
import dev.nimbus.arch.x86_64.FpuDefaults;
import dev.nimbus.arch.x86_64.KernelLoader;
import dev.nimbus.arch.x86_64.Layout;
import dev.nimbus.arch.x86_64.Lapic;
import dev.nimbus.arch.x86_64.LoadedKernel;
import dev.nimbus.arch.x86_64.RamLayout;
import dev.nimbus.arch.x86_64.VcpuBootState;
import dev.nimbus.devices.Bus;
import dev.nimbus.devices.ConsoleOutput;
import dev.nimbus.devices.InterruptLine;
import dev.nimbus.devices.VmControl;
import dev.nimbus.devices.legacy.AcpiGenericEventDevice;
import dev.nimbus.devices.legacy.AcpiPmTimer;
import dev.nimbus.devices.legacy.AcpiPowerControl;
import dev.nimbus.devices.legacy.Cmos;
import dev.nimbus.devices.legacy.DebugPort;
import dev.nimbus.devices.legacy.I8042;
import dev.nimbus.devices.legacy.PortConsole;
import dev.nimbus.devices.legacy.Serial16550;
import dev.nimbus.devices.pci.GsiAllocator;
import dev.nimbus.devices.pci.PciException;
import dev.nimbus.devices.pci.PciSegment;
import dev.nimbus.devices.virtio.VirtioPciDevice;
import dev.nimbus.devices.virtio.block.VirtioBlock;
import dev.nimbus.devices.virtio.net.VirtioNet;
import dev.nimbus.vhost.VhostUserDevices;
import dev.nimbus.devices.virtio.console.VirtioConsole;
import dev.nimbus.devices.virtio.rng.VirtioRng;
import dev.nimbus.hypervisor.CpuidEntry;
import dev.nimbus.hypervisor.Hypervisor;
import dev.nimbus.hypervisor.HypervisorException;
import dev.nimbus.hypervisor.SpecialRegisters;
import dev.nimbus.hypervisor.StandardRegisters;
import dev.nimbus.hypervisor.Vcpu;
import dev.nimbus.hypervisor.Vm;
import dev.nimbus.log.StartupTrace;
import dev.nimbus.memory.GuestMemory;
import dev.nimbus.sys.SyscallException;
import dev.nimbus.vmm.config.ConsoleConfig;
import dev.nimbus.vmm.config.ConsoleMode;
import dev.nimbus.vmm.config.DebugConsoleConfig;
import dev.nimbus.vmm.config.DiskConfig;
import dev.nimbus.vmm.config.MacAddress;
import dev.nimbus.vmm.config.NetConfig;
import dev.nimbus.vmm.config.PlatformConfig;
import dev.nimbus.vmm.config.VmConfig;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.function.Consumer;

/**
 * One boot of a guest: its memory, KVM VM, devices and vCPUs, built from a {@link VmConfig}.
 * A guest reset ends this object; the VMM builds a fresh one from the same config, as a real
 * machine's reset line clears everything but the disks.
 */
public final class VirtualMachine implements AutoCloseable {
    private static final Logger LOG = System.getLogger(VirtualMachine.class.getName());

    static final int SERIAL_PORT = 0x3F8;
    static final int SERIAL_IRQ = 4;
    /** The GED's interrupt: the first legacy GSI after the serial port's. */
    static final int GED_IRQ = 5;
    /** CPUID leaf whose EAX[7:0] gives the host's physical address bits. */
    private static final int CPUID_ADDRESS_SIZES = 0x80000008;
    /** Device id of the 16550 in the device tree. */
    static final String SERIAL_DEVICE_ID = "__serial";

    private final VmConfig config;
    private final Vm vm;
    private final GuestMemory memory;
    private final Bus pio = new Bus("port I/O");
    private final Bus mmio = new Bus("MMIO");
    private final List<AutoCloseable> resources = new ArrayList<>();
    private final GsiAllocator gsis = new GsiAllocator();
    private final DeviceTree deviceTree = new DeviceTree();
    private CpuManager cpus;
    private LoadedKernel kernel;
    private PciSegment pci;
    private final List<VirtioBlock> blocks = new ArrayList<>();
    private final List<VirtioNet> nets = new ArrayList<>();
    private AcpiGenericEventDevice ged;
    private MemorySlots slots;

    private VirtualMachine(VmConfig config, Vm vm, GuestMemory memory) {
        this.config = config;
        this.vm = vm;
        this.memory = memory;
    }

    /**
     * Builds the VM and loads the payload, ready for {@link #start}. {@code onExit} hears how the
     * guest ended (power-off, reset, fatal error), once, from a vCPU or device thread.
     */
    public static VirtualMachine create(Hypervisor hypervisor, VmConfig config,
            Consumer<VmExitEvent> onExit) throws VmmException {
        RamLayout layout = RamLayout.of(config.memory().size());
        GuestMemory memory;
        try {
            var m = config.memory();
            memory = GuestMemory.create(layout.ramRangePairs(), "nimbus-ram", m.prefault(),
                    m.reserve(), m.thp());
            StartupTrace.mark("guest-memory");
        } catch (SyscallException e) {
            throw new VmmException("Cannot allocate " + (config.memory().size() >> 20)
                    + " MiB of guest memory", e);
        }
        Vm vm;
        try {
            vm = hypervisor.createVm();
        } catch (HypervisorException e) {
            memory.close();
            throw new VmmException("Cannot create the VM", e);
        }
        VirtualMachine machine = new VirtualMachine(config, vm, memory);
        try {
            machine.build(hypervisor, layout, onExit);
            return machine;
        } catch (VmmException | RuntimeException e) {
            machine.close();
            throw e;
        }
    }

    private void build(Hypervisor hypervisor, RamLayout layout, Consumer<VmExitEvent> onExit)
            throws VmmException {
        refuseUnbuiltDevices();
        // KVM takes the memory slots on another thread while devices and payload are built.
        slots = MemorySlots.register(vm, memory);

        VmControl control = new VmControl() {
            @Override
            public void requestPowerOff() {
                onExit.accept(new VmExitEvent.PowerOff());
            }

            @Override
            public void requestReset() {
                onExit.accept(new VmExitEvent.Reset());
            }
        };
        addLegacyDevices(layout, control);
        int physBits = guestPhysBits(hypervisor);
        addPciDevices(layout, physBits);
        addDebugConsole();
        long gedAddress = addGenericEventDevice(physBits);
        StartupTrace.mark("devices");

        int bootVcpus = config.cpus().bootVcpus();
        int maxVcpus = config.cpus().maxVcpus();
        CpuTopology topology = topology(maxVcpus);
        List<Integer> apicIds = new ArrayList<>();
        for (int i = 0; i < maxVcpus; i++) {
            apicIds.add(topology.apicId(i));
        }
        AcpiConfig acpi = AcpiConfig.builder(bootVcpus, maxVcpus)
                .apicIds(apicIds)
                .serialPort(config.serial().mode() != ConsoleMode.OFF)
                .pciSegment(dev.nimbus.acpi.PciSegment.of(pci.id(),
                        pci.mmio32Window().start(),
                        pci.mmio32Window().end() - pci.mmio32Window().start(),
                        pci.mmio64Window().start(),
                        pci.mmio64Window().end() - pci.mmio64Window().start()))
                .ged(Ged.of(gedAddress, GED_IRQ))
                .build();
        long rsdp = AcpiTables.write(memory, acpi);

        var payload = config.payload();
        try {
            kernel = KernelLoader.load(memory, layout, new BootRequest(
                    Path.of(payload.kernel()),
                    payload.initramfs() != null ? Path.of(payload.initramfs()) : null,
                    payload.cmdline() != null ? payload.cmdline() : "",
                    rsdp));
        } catch (BootException e) {
            throw new VmmException(e.getMessage(), e);
        }
        StartupTrace.mark("acpi-kernel");
        LOG.log(Level.INFO, () -> String.format("Loaded %s kernel at 0x%x-0x%x, entry 0x%x",
                kernel.format(), kernel.kernelStart(), kernel.kernelEnd(), kernel.vcpu().rip()));

        slots.await();
        List<Vcpu> vcpus = createVcpus(hypervisor, bootVcpus, maxVcpus);
        cpus = new CpuManager(vm, vcpus, new IoDispatcher(pio, mmio), onExit);
        StartupTrace.mark("vcpus");
    }

    private void addLegacyDevices(RamLayout layout, VmControl control) throws VmmException {
        if (config.serial().mode() != ConsoleMode.OFF) {
            ConsoleOutput out = open(config.serial(), "serial");
            InterruptLine irq = edgeLine(SERIAL_IRQ);
            Serial16550 serial = new Serial16550(irq, out);
            pio.register(SERIAL_PORT, 8, serial, "serial");
            Consoles.attachStdin(config.serial(), serial);
            deviceTree.add(DeviceTree.Node.of(SERIAL_DEVICE_ID));
        }
        pio.register(I8042.BASE, I8042.LENGTH, new I8042(control), "i8042");
        pio.register(Cmos.BASE, Cmos.LENGTH,
                new Cmos(layout.lowRamEnd(), layout.highRamSize()), "cmos");
        pio.register(AcpiPowerControl.BASE, AcpiPowerControl.LENGTH,
                new AcpiPowerControl(control), "acpi-power");
        pio.register(AcpiPmTimer.BASE, AcpiPmTimer.LENGTH, new AcpiPmTimer(), "acpi-pm-timer");
        pio.register(DebugPort.BASE, DebugPort.LENGTH, new DebugPort(), "debug-port");
        ConsoleOutput firmwareOut = open(ConsoleConfig.of(ConsoleMode.TTY),
                "firmware-debug");
        pio.register(PortConsole.FIRMWARE_DEBUG_PORT, 1, new PortConsole(firmwareOut),
                "firmware-debug");
    }

    /**
     * The {@code --debug-console} port, placed after every fixed port so that a clash names
     * the device the port already belongs to.
     */
    private void addDebugConsole() throws VmmException {
        DebugConsoleConfig cfg = config.debugConsole();
        if (cfg.mode() == ConsoleMode.OFF) {
            return;
        }
        int port = cfg.iobase() != null ? cfg.iobase() : DebugConsoleConfig.DEFAULT_IOBASE;
        ConsoleOutput out = open(new ConsoleConfig(cfg.mode(), cfg.file(), null),
                "debug-console");
        try {
            pio.register(port, 1, new PortConsole(out), "debug-console");
        } catch (IllegalArgumentException e) {
            throw new VmmException(String.format(
                    "Debug console I/O port 0x%x is taken: %s", port, e.getMessage()));
        }
    }

    /**
     * Guest physical address bits: the host's (CPUID 0x80000008), capped by
     * {@code max_phys_bits}. The 64-bit PCI window and the platform device area sit below
     * that limit.
     */
    private int guestPhysBits(Hypervisor hypervisor) throws VmmException {
        int host = 36;
        try {
            for (CpuidEntry e : hypervisor.supportedCpuid()) {
                if (e.function() == CPUID_ADDRESS_SIZES) {
                    host = e.eax() & 0xFF;
                }
            }
        } catch (HypervisorException e) {
            throw new VmmException("Cannot read the host's CPUID", e);
        }
        return Math.min(host, config.cpus().maxPhysBits());
    }

    /**
     * PCI segment 0 and the virtio devices on it. The 64-bit MMIO window runs from the end of
     * RAM (never below 4 GiB) to the platform device area near the top of the guest physical
     * address space, as Cloud Hypervisor lays it out.
     */
    private void addPciDevices(RamLayout layout, int physBits) throws VmmException {
        long mmio64Start = Math.max(layout.ramEnd(), 1L << 32);
        long mmio64End = Layout.platformDeviceAreaStart(physBits);
        pci = PciSegment.createDefault(mmio, mmio64Start, mmio64End);
        resources.add(pci::close);
        pio.register(PciSegment.PCI_CONFIG_IO_PORT, PciSegment.PCI_CONFIG_IO_PORT_SIZE,
                pci.configIo(), "pci-config-io");
        mmio.register(pci.ecamBase(), pci.ecamSize(), pci.configMmio(), "pci-ecam");
        try {
            // In Cloud Hypervisor's order, which fixes the slots: console, disks, nets, rng.
            if (config.console().mode() != ConsoleMode.OFF) {
                ConsoleOutput out = open(config.console(), "console");
                VirtioConsole console = new VirtioConsole(out);
                addVirtio(console, config.console().pci(), true);
                Consoles.attachStdin(config.console(), console);
            }
            for (DiskConfig d : config.disks()) {
                if (d.vhostUser()) {
                    // The engine runs in the back-end; the VM keeps the transport.
                    addVirtio(open(() -> VhostUserDevices.disk(d), "vhost-user disk " + d.id()),
                            d.pci(), false);
                    continue;
                }
                VirtioBlock disk = open(() -> VirtioBlock.open(d), "disk " + d.id());
                blocks.add(disk);
                // Cold-plugged disks get a 32-bit BAR, as Cloud Hypervisor gives them.
                addVirtio(disk, d.pci(), false);
            }
            for (NetConfig n : config.net()) {
                if (n.vhostUser()) {
                    MacAddress mac = n.mac() != null ? n.mac()
                            : MacAddress.localRandom(new java.security.SecureRandom());
                    addVirtio(open(() -> VhostUserDevices.net(n, mac), "vhost-user network"
                            + " device " + n.id()), n.pci(), true);
                    continue;
                }
                VirtioNet net = open(() -> VirtioNet.open(n), "network device " + n.id());
                nets.add(net);
                addVirtio(net, n.pci(), true);
            }
            String src = config.rng().src();
            addVirtio(open(() -> new VirtioRng(src), "the entropy source " + src),
                    config.rng().pci(), true);
        } catch (SyscallException e) {
            throw new VmmException("Cannot create a virtio device", e);
        }
    }

    /**
     * Devices the config model accepts (so that configs round-trip through the API as Cloud
     * Hypervisor's do) but that the VM cannot build yet: booting with one is an error, rather
     * than a guest that silently lacks it.
     */
    private void refuseUnbuiltDevices() throws VmmException {
        // TODO: virtio-balloon, -fs, -pmem, -vsock and -iommu, firmware boot, hugepages,
        // memory hot-plug, KSM, vCPU pinning, Hyper-V enlightenments, the watchdog, pvpanic,
        // more PCI segments, SMBIOS, rate limiters and queue affinity are not built yet.
        // Until they are, asking for one fails the boot instead of silently doing without.
        var memory = config.memory();
        var cpus = config.cpus();
        var platform = config.platform();
        String missing = config.payload().firmware() != null ? "Booting firmware (--firmware)"
                : config.payload().kernel() == null ? "Booting without --kernel"
                : config.balloon() != null ? "virtio-balloon (--balloon)"
                : !config.fs().isEmpty() ? "virtio-fs (--fs)"
                : !config.pmem().isEmpty() ? "virtio-pmem (--pmem)"
                : config.vsock() != null ? "virtio-vsock (--vsock)"
                : config.iommu() ? "virtio-iommu (iommu=on)"
                : config.watchdog() ? "The watchdog device (--watchdog)"
                : config.pvpanic() ? "The pvpanic device (--pvpanic)"
                : !config.pciSegments().isEmpty() ? "PCI segment settings (--pci-segment)"
                : platform != null && platformAsksForMore(platform)
                        ? "Platform settings beyond one PCI segment (--platform)"
                : memory.hugepages() ? "Guest memory on huge pages (--memory hugepages=on)"
                : memory.hotplugSize() != null ? "Memory hot-plug (--memory hotplug_size=)"
                : memory.mergeable() ? "Mergeable guest memory (--memory mergeable=on)"
                : !memory.zones().isEmpty() ? "Memory zones (--memory-zone)"
                : cpus.kvmHyperv() ? "Hyper-V enlightenments (--cpus kvm_hyperv=on)"
                : !cpus.affinity().isEmpty() ? "vCPU affinity (--cpus affinity=)"
                : asksForRateLimits(config) ? "I/O rate limiting (rate_limit_group, bw_*, ops_*)"
                : asksForQueueAffinity(config) ? "Virtqueue affinity (--disk queue_affinity=)"
                : null;
        if (missing != null) {
            throw new VmmException(missing + " is not supported by Nimbus yet");
        }
    }

    // Loops rather than streams: a lambda's first use costs milliseconds on the boot path.
    private static boolean asksForRateLimits(VmConfig c) {
        if (!c.rateLimitGroups().isEmpty()) {
            return true;
        }
        for (DiskConfig d : c.disks()) {
            if (d.rateLimitGroup() != null || d.rateLimiterConfig() != null) {
                return true;
            }
        }
        for (NetConfig n : c.net()) {
            if (n.rateLimiterConfig() != null) {
                return true;
            }
        }
        return false;
    }

    private static boolean asksForQueueAffinity(VmConfig c) {
        for (DiskConfig d : c.disks()) {
            if (!d.queueAffinity().isEmpty()) {
                return true;
            }
        }
        return false;
    }

    /** Whether {@code p} asks for anything but the one PCI segment Nimbus builds. */
    private static boolean platformAsksForMore(PlatformConfig p) {
        return p.numPciSegments() != PlatformConfig.DEFAULT_NUM_PCI_SEGMENTS
                || !p.iommuSegments().isEmpty() || p.iommufd()
                || p.systemSerialNumber() != null || p.systemUuid() != null
                || !p.oemStrings().isEmpty() || p.systemManufacturer() != null
                || p.systemProductName() != null || p.systemVersion() != null
                || p.systemFamily() != null || p.systemSkuNumber() != null
                || p.chassisAssetTag() != null;
    }

    /** A device opener that may fail on its host resources (an image, a tap). */
    private interface Opener<T extends AutoCloseable> {
        T open() throws IOException;
    }

    private static <T extends AutoCloseable> T open(Opener<T> opener, String what)
            throws VmmException {
        try {
            return opener.open();
        } catch (IOException e) {
            throw new VmmException("Cannot open " + what, e);
        }
    }

    private void addVirtio(dev.nimbus.devices.virtio.VirtioDevice device,
            dev.nimbus.vmm.config.PciCommon where, boolean use64BitBar) throws VmmException {
        try {
            // From here on the PCI segment owns the device and closes it with itself.
            VirtioPciDevice pciDevice;
            try {
                pciDevice = new VirtioPciDevice(device, memory, vm, gsis, use64BitBar);
            } catch (SyscallException | RuntimeException e) {
                device.close();
                throw e;
            }
            OptionalInt slot = where != null && where.pciDeviceId() != null
                    ? OptionalInt.of(where.pciDeviceId())
                    : OptionalInt.empty();
            int assigned = pci.addDevice(pciDevice, slot);
            // As Cloud Hypervisor's device tree: the virtio device, and under it its PCI
            // function named _virtio-pci-<id>.
            String pciId = "_virtio-pci-" + device.id();
            deviceTree.add(new DeviceTree.Node(device.id(), List.of(), null, List.of(pciId), null));
            deviceTree.add(new DeviceTree.Node(pciId, List.of(), device.id(), List.of(),
                    String.format("%04x:00:%02x.0", pci.id(), assigned)));
        } catch (PciException | SyscallException e) {
            throw new VmmException("Cannot add a PCI device", e);
        }
    }

    /**
     * The ACPI Generic Event Device, through which the VMM presses the power button: its
     * register goes first in the platform device area at the top of the guest's physical
     * address space. Returns the register's address.
     */
    private long addGenericEventDevice(int physBits) {
        long address = Layout.platformDeviceAreaStart(physBits);
        ged = new AcpiGenericEventDevice(edgeLine(GED_IRQ));
        mmio.register(address, AcpiGenericEventDevice.LENGTH, ged, "acpi-ged");
        return address;
    }

    private ConsoleOutput open(ConsoleConfig cfg, String name)
            throws VmmException {
        try {
            ConsoleOutput out = Consoles.output(cfg, name);
            resources.add(out);
            return out;
        } catch (IOException e) {
            throw new VmmException("Cannot open the " + name + " output", e);
        }
    }

    /** An edge-triggered I/O APIC input: raise then lower the line. */
    private InterruptLine edgeLine(int gsi) {
        return new InterruptLine() {
            @Override
            public void trigger() {
                try {
                    vm.setIrqLine(gsi, true);
                    vm.setIrqLine(gsi, false);
                } catch (HypervisorException e) {
                    LOG.log(Level.WARNING, "Cannot raise interrupt " + gsi, e);
                }
            }

            @Override
            public void setLevel(boolean asserted) {
                try {
                    vm.setIrqLine(gsi, asserted);
                } catch (HypervisorException e) {
                    LOG.log(Level.WARNING, "Cannot set interrupt " + gsi, e);
                }
            }
        };
    }

    private List<Vcpu> createVcpus(Hypervisor hypervisor, int bootVcpus, int maxVcpus)
            throws VmmException {
        List<Vcpu> vcpus = new ArrayList<>();
        try {
            List<CpuidEntry> supported = hypervisor.supportedCpuid();
            CpuTopology topology = topology(maxVcpus);
            for (int i = 0; i < bootVcpus; i++) {
                Vcpu vcpu = vm.createVcpu(topology.apicId(i));
                resources.add(vcpu);
                vcpus.add(vcpu);
                vcpu.setCpuid(Cpuid.forVcpu(supported, topology, config.cpus().maxPhysBits(), i));
                vcpu.setMsrs(BootMsrs.entries());
                vcpu.setFpu(FpuDefaults.FCW, FpuDefaults.MXCSR);
                byte[] lapic = vcpu.getLapic();
                Lapic.setLint(lapic);
                vcpu.setLapic(lapic);
                if (i == 0) {
                    setBootState(vcpu, kernel.vcpu());
                }
            }
        } catch (HypervisorException e) {
            throw new VmmException("Cannot set up the vCPUs", e);
        }
        return vcpus;
    }

    /** The guest's CPU topology: {@code --cpus topology=} if given, else one core per vCPU. */
    private CpuTopology topology(int maxVcpus) {
        var t = config.cpus().topology();
        if (t == null) {
            return CpuTopology.flat(maxVcpus);
        }
        return new CpuTopology(t.threadsPerCore(), t.coresPerDie(), t.diesPerPackage(),
                t.packages());
    }

    /** Puts the boot vCPU where the loader wants it; the others wait for the guest's SIPI. */
    private static void setBootState(Vcpu vcpu, VcpuBootState b) throws HypervisorException {
        SpecialRegisters s = vcpu.getSregs();
        s.cs = b.cs();
        s.ds = b.ds();
        s.es = b.es();
        s.fs = b.fs();
        s.gs = b.gs();
        s.ss = b.ss();
        s.tr = b.tr();
        s.gdtBase = b.gdt().base();
        s.gdtLimit = b.gdt().limit();
        s.idtBase = b.idt().base();
        s.idtLimit = b.idt().limit();
        s.cr0 = b.cr0();
        s.cr3 = b.cr3();
        s.cr4 = b.cr4();
        s.efer = b.efer();
        vcpu.setSregs(s);

        StandardRegisters r = new StandardRegisters();
        r.rip = b.rip();
        r.rsp = b.rsp();
        r.rsi = b.rsi();
        r.rbx = b.rbx();
        r.rflags = b.rflags();
        vcpu.setRegs(r);
    }

    /** Starts the vCPUs. */
    public void start() {
        cpus.start();
    }

    public void pause() throws VmmException {
        try {
            cpus.pause();
        } catch (HypervisorException e) {
            throw new VmmException("Cannot pause the VM", e);
        }
    }

    public void resume() throws VmmException {
        try {
            cpus.resume();
        } catch (HypervisorException e) {
            throw new VmmException("Cannot resume the VM", e);
        }
    }

    /** Presses the power button: the GED interrupts the guest, whose ACPI sees PWRB notified. */
    public void powerButton() {
        ged.notifyEvents(Ged.POWER_BUTTON_CHANGED);
    }

    /** Injects a non-maskable interrupt into every vCPU. */
    public void nmi() {
        cpus.requestNmi();
    }

    /** The VM's devices by id, for {@code vm.info}. */
    public DeviceTree deviceTree() {
        return deviceTree;
    }

    /**
     * Per-device counters for {@code vm.counters}: device id to counter name to value.
     */
    /** Per-device counters by device id, with Cloud Hypervisor's counter names. */
    public Map<String, Map<String, Long>> counters() {
        Map<String, Map<String, Long>> all = new java.util.TreeMap<>();
        for (VirtioBlock b : blocks) {
            all.put(b.id(), b.counterValues());
        }
        for (VirtioNet n : nets) {
            all.put(n.id(), n.counterValues());
        }
        return all;
    }

    public VmConfig config() {
        return config;
    }

    public GuestMemory memory() {
        return memory;
    }

    /** Stops the vCPUs and devices, then frees the VM and its memory, in that order. */
    @Override
    public void close() {
        if (slots != null) {
            slots.join();
        }
        if (cpus != null) {
            cpus.stop();
        }
        for (int i = resources.size() - 1; i >= 0; i--) {
            try {
                resources.get(i).close();
            } catch (Exception e) {
                LOG.log(Level.DEBUG, "Error while closing " + resources.get(i), e);
            }
        }
        vm.close();
        memory.close();
    }
}
