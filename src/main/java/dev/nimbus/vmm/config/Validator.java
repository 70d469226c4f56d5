package dev.nimbus.vmm.config;

import dev.nimbus.arch.x86_64.Layout;
import dev.nimbus.arch.x86_64.RamLayout;
import dev.nimbus.json.JsonArray;
import dev.nimbus.json.JsonObject;
import dev.nimbus.json.JsonString;
import dev.nimbus.json.JsonValue;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The rules a {@link VmConfig} must meet before a VM is built from it, shared by the command line
 * and the API (which checks at {@code vm.boot} and, on a copy with the new device added, at every
 * {@code vm.add-*}).
 *
 * <p>Rules are checked in a fixed order and the first one broken is reported, with the wording
 * Cloud Hypervisor users know (e.g. {@code Max CPUs (1) lower than boot CPUs (2)}). An identifier
 * used twice answers HTTP 409; every other broken rule answers 400.
 */
public final class Validator {

    static final String CONSOLE_FILE_MISSING = "Path missing when using file console mode";
    static final String CONSOLE_SOCKET_MISSING = "Path missing when using socket console mode";
    static final String PAYLOAD_NOT_BOOTABLE = "Payload configuration is not bootable";
    static final String VHOST_USER_NEEDS_SHARED_MEMORY =
            "Using vhost-user requires using shared memory or huge pages";
    static final String RATE_LIMITER_WITH_VHOST_USER =
            "Rate limiting is not supported with vhost-user";
    static final String INVALID_RATE_LIMITER_GROUP = "Invalid rate-limiter group";
    static final String IOMMU_NOT_SUPPORTED = "Device does not support being placed behind IOMMU";

    /** The largest virtqueue a 16-bit queue size register can describe (virtio spec 2.7). */
    static final int VIRTIO_MAX_QUEUE_SIZE = 32768;
    /** virtio-blk spends two descriptors of each request on header and status (spec 5.2.6). */
    static final int MINIMUM_BLOCK_QUEUE_SIZE = 2;
    /** The length of the virtio-blk device ID string (virtio spec 5.2.6, VIRTIO_BLK_T_GET_ID). */
    static final int VIRTIO_BLK_ID_BYTES = 20;
    /** The smallest MTU a virtio-net device may offer (virtio spec 5.1.4.1, RFC 8200). */
    static final int MIN_MTU = 1280;
    /** Device slots per PCI bus (PCI Local Bus spec 3.0, section 3.2.2.3.1). */
    static final int NUM_DEVICE_IDS = 32;
    /** Slot 0 of segment 0 is the host bridge. */
    static final int PCI_ROOT_DEVICE_ID = 0;
    static final int MAX_IOMMU_ADDRESS_WIDTH_BITS = 64;
    /** A tap name fills {@code ifr_name[IFNAMSIZ]} with its NUL (include/uapi/linux/if.h). */
    static final int IFNAMSIZ = 16;
    /** Guest RAM is mapped in whole pages of the host's base page size. */
    static final long PAGE_SIZE = 4096;
    /**
     * The boot structures (GDT, page tables, zero page, command line, MP table) and the EBDA
     * with the ACPI tables and SMBIOS all live in RAM below 1 MiB.
     */
    static final long MIN_MEMORY_SIZE = 1L << 20;
    /**
     * The memory map needs an address space past 4 GiB: the 64-bit PCI window starts there at
     * the lowest, and the platform device area sits just below the top.
     */
    static final int MIN_PHYS_BITS = 33;
    /** MAXPHYADDR is at most 52 on x86-64 (Intel SDM vol. 3A, 4.1.4). */
    static final int MAX_PHYS_BITS = 52;

    private final VmConfig config;
    private final Set<String> ids = new HashSet<>();
    private boolean iommu;
    private final boolean warnings;

    private Validator(VmConfig config, boolean warnings) {
        this.config = config;
        this.warnings = warnings;
        this.iommu = config.iommu();
    }

    /**
     * Refuses a NUL in any string of the configuration, named by where it sits ({@code
     * payload.kernel}, {@code disks[0].path}). Paths, tap names and the command line all go to
     * the kernel as C strings, which end at the first NUL: such a value cannot mean what it says,
     * and opening it would fail with an error that names no field.
     *
     * @throws ConfigException a 400 naming the first such string
     */
    public static void noNul(JsonValue value, String where) {
        // instanceof rather than a pattern switch: the switch's bootstrap costs milliseconds
        // the first time, and this runs on the boot path.
        if (value instanceof JsonString s) {
            if (s.value().indexOf('\0') >= 0) {
                throw ConfigException.invalid(NUL_IN_STRING.formatted(where));
            }
        } else if (value instanceof JsonObject o) {
            for (Map.Entry<String, JsonValue> m : o.members().entrySet()) {
                noNul(m.getValue(), where.isEmpty() ? m.getKey() : where + "." + m.getKey());
            }
        } else if (value instanceof JsonArray a) {
            for (int i = 0; i < a.elements().size(); i++) {
                noNul(a.elements().get(i), where + "[" + i + "]");
            }
        }
    }

    static final String NUL_IN_STRING =
            "Invalid value for %s: it contains a NUL character, which no path or name can hold";

    /**
     * Checks {@code config} and returns it as the VM will use it: {@code iommu} set when any device
     * sits behind the IOMMU, and a firmware payload's cmdline and initramfs dropped (a firmware
     * loads its own).
     *
     * @throws ConfigException the first rule broken
     */
    public static VmConfig validate(VmConfig config) {
        return new Validator(config, true).run();
    }

    /**
     * As {@link #validate} but without the warnings: for a first check (the command line's)
     * of a configuration the VMM validates again, and warns about, when it boots it.
     */
    public static VmConfig check(VmConfig config) {
        return new Validator(config, false).run();
    }

    private VmConfig run() {
        PayloadConfig payload = payload(config.payload());
        consoles();
        cpus();
        rateLimitGroups();
        disks();
        nets();
        filesystems();
        for (PmemConfig pmem : config.pmem()) {
            device(pmem.pci());
        }
        device(config.rng().pci());
        device(config.console().pci());
        topology();
        memory();
        vsockCid();
        balloon();
        if (config.vsock() != null) {
            device(config.vsock().pci());
        }
        for (MemoryZoneConfig zone : config.memory().zones()) {
            identifier(zone.id());
        }
        pciSegments();
        platform();
        // Last, so that a field with a rule of its own (a tap name) keeps that rule's words.
        noNul(config.toJson(), "");
        return config.toBuilder().payload(payload).iommu(iommu).build();
    }

    private PayloadConfig payload(PayloadConfig p) {
        if (p == null || (p.kernel() == null && p.firmware() == null)) {
            throw ConfigException.invalid(PAYLOAD_NOT_BOOTABLE,
                    "No bootitem provided: neither firmware nor kernel");
        }
        if (p.firmware() == null) {
            return p;
        }
        if (p.kernel() != null) {
            throw ConfigException.invalid(PAYLOAD_NOT_BOOTABLE,
                    "Specifying a kernel is not supported when a firmware is provided");
        }
        if (p.cmdline() != null) {
            warn("Ignoring cmdline parameter as firmware is the payload");
        }
        if (p.initramfs() != null) {
            warn("Ignoring initramfs parameter as firmware is the payload");
        }
        return new PayloadConfig(null, null, null, p.firmware());
    }

    private void consoles() {
        List<String> ttys = new ArrayList<>();
        if (config.console().mode() == ConsoleMode.TTY) {
            ttys.add("virtio-console");
        }
        if (config.serial().mode() == ConsoleMode.TTY) {
            ttys.add("serial-console");
        }
        if (config.debugConsole().mode() == ConsoleMode.TTY) {
            ttys.add("debug-console");
        }
        if (ttys.size() > 1) {
            warn("Using TTY output for multiple consoles: " + ttys);
        }
        consoleTarget(config.console());
        consoleTarget(config.serial());
        if (config.debugConsole().mode() == ConsoleMode.FILE
                && config.debugConsole().file() == null) {
            throw ConfigException.invalid("Path missing when using file mode for debug console");
        }
    }

    // A body can name file or socket mode without the path, which the option grammar
    // cannot; both are refused here.
    private static void consoleTarget(ConsoleConfig c) {
        if (c.mode() == ConsoleMode.FILE && c.file() == null) {
            throw ConfigException.invalid(CONSOLE_FILE_MISSING);
        }
        if (c.mode() == ConsoleMode.SOCKET && c.socket() == null) {
            throw ConfigException.invalid(CONSOLE_SOCKET_MISSING);
        }
    }

    private void cpus() {
        CpusConfig cpus = config.cpus();
        // The API schema gives boot_vcpus a minimum of 1; a VM without a vCPU cannot run.
        if (cpus.bootVcpus() < 1) {
            throw ConfigException.invalid(
                    "Boot CPUs (" + cpus.bootVcpus() + ") must be at least 1");
        }
        if (cpus.maxVcpus() < cpus.bootVcpus()) {
            throw ConfigException.invalid("Max CPUs (" + cpus.maxVcpus()
                    + ") lower than boot CPUs (" + cpus.bootVcpus() + ")");
        }
        if (cpus.maxVcpus() > CpusConfig.MAX_SUPPORTED_CPUS) {
            throw ConfigException.invalid("Too many CPUs: specified " + cpus.maxVcpus()
                    + " but " + CpusConfig.MAX_SUPPORTED_CPUS + " is the limit");
        }
        if (cpus.maxPhysBits() < MIN_PHYS_BITS) {
            throw ConfigException.invalid("Physical address bits too few for the memory map:"
                    + " max_phys_bits=" + cpus.maxPhysBits() + ", at least " + MIN_PHYS_BITS
                    + " are needed");
        }
    }

    private void rateLimitGroups() {
        for (RateLimitGroupConfig group : config.rateLimitGroups()) {
            RateLimiterConfig limiter = group.rateLimiterConfig();
            if ((limiter.bandwidth() == null && limiter.ops() == null) || group.id().isEmpty()) {
                throw ConfigException.invalid(INVALID_RATE_LIMITER_GROUP);
            }
            identifier(group.id());
        }
    }

    private void disks() {
        for (DiskConfig disk : config.disks()) {
            if (disk.vhostSocket() != null && disk.path() != null) {
                throw ConfigException.invalid("Disk path and vhost socket both provided");
            }
            if (disk.vhostUser()) {
                vhostUser(disk.vhostSocket());
                if (disk.rateLimiterConfig() != null || disk.rateLimitGroup() != null) {
                    throw ConfigException.invalid(RATE_LIMITER_WITH_VHOST_USER);
                }
            }
            if (disk.rateLimitGroup() != null && !hasRateLimitGroup(disk.rateLimitGroup())) {
                throw ConfigException.invalid(INVALID_RATE_LIMITER_GROUP);
            }
            pci(disk.pci());
            if (disk.numQueues() < 1) {
                throw ConfigException.invalid("Number of queues (" + disk.numQueues()
                        + ") to virtio_blk must be at least 1");
            }
            queueCount(disk.numQueues(), disk.numQueues());
            queueSize(disk.queueSize());
            if (disk.queueSize() <= MINIMUM_BLOCK_QUEUE_SIZE) {
                throw ConfigException.invalid("Block queue size must be greater than "
                        + MINIMUM_BLOCK_QUEUE_SIZE + ": " + disk.queueSize());
            }
            if (disk.vhostUser() && disk.pci().iommu()) {
                throw ConfigException.invalid(IOMMU_NOT_SUPPORTED);
            }
            if (disk.rateLimiterConfig() != null && disk.rateLimitGroup() != null) {
                throw ConfigException.invalid(INVALID_RATE_LIMITER_GROUP);
            }
            if (disk.serial() != null) {
                int length = disk.serial().getBytes(StandardCharsets.UTF_8).length;
                if (length > VIRTIO_BLK_ID_BYTES) {
                    throw ConfigException.invalid("Block device serial length (" + length
                            + ") exceeds maximum allowed length (" + VIRTIO_BLK_ID_BYTES + ")");
                }
            }
            iommu |= disk.pci().iommu();
            identifier(disk.id());
        }
    }

    private boolean hasRateLimitGroup(String id) {
        for (RateLimitGroupConfig group : config.rateLimitGroups()) {
            if (group.id().equals(id)) {
                return true;
            }
        }
        return false;
    }

    private void nets() {
        for (NetConfig net : config.net()) {
            if (net.vhostUser()) {
                vhostUser(net.vhostSocket());
                if (net.rateLimiterConfig() != null) {
                    throw ConfigException.invalid(RATE_LIMITER_WITH_VHOST_USER);
                }
            }
            pci(net.pci());
            if (net.numQueues() < 2) {
                throw ConfigException.invalid("Number of queues (" + net.numQueues()
                        + ") to virtio_net should be higher than 2");
            }
            // Each queue pair is one receive and one transmit queue on one tap queue.
            if (net.numQueues() % 2 != 0) {
                throw ConfigException.invalid("Number of queues (" + net.numQueues()
                        + ") to virtio_net must be even: a receive and a transmit queue per pair");
            }
            if (net.tap() != null) {
                tapName(net.tap());
            }
            if (!net.fds().isEmpty()) {
                int fdQueues = net.fds().size() * 2;
                if (fdQueues != net.numQueues()) {
                    throw ConfigException.invalid("Number of queues (" + net.numQueues()
                            + ") to virtio_net does not match the number of FDs ("
                            + net.fds().size() + "): each tap FD takes a receive and a transmit"
                            + " queue, so num_queues=" + fdQueues);
                }
                for (int fd : net.fds()) {
                    if (fd <= 2) {
                        throw ConfigException.invalid("Reserved fd number (<= 2): " + fd);
                    }
                }
            }
            // One vCPU serves each receive/transmit queue pair.
            queueCount(net.numQueues() / 2, net.numQueues());
            queueSize(net.queueSize());
            if (net.vhostUser() && net.pci().iommu()) {
                throw ConfigException.invalid(IOMMU_NOT_SUPPORTED);
            }
            if (net.mtu() != null && net.mtu() < MIN_MTU) {
                throw ConfigException.invalid("Provided MTU " + net.mtu()
                        + " is lower than 1280 (expected by VIRTIO specification)");
            }
            if (!net.offloadCsum() && (net.offloadTso() || net.offloadUfo())) {
                throw ConfigException.invalid(
                        "\"offload_tso\" and \"offload_ufo\" depend on \"offload_csum\"");
            }
            if (net.mask() != null && net.ip() == null) {
                throw ConfigException.invalid("Mask provided without an IP");
            }
            if (net.ip() != null && net.mask() == null) {
                throw ConfigException.invalid("IP provided without a mask");
            }
            iommu |= net.pci().iommu();
            identifier(net.id());
        }
    }

    /** The kernel takes names of 1 to 15 bytes; an empty one lets it pick a name. */
    private static void tapName(String name) {
        if (name.indexOf('\0') >= 0) {
            throw ConfigException.invalid(
                    "Interface name contains interior NUL byte: " + name.replace("\0", "\\0"));
        }
        if (name.getBytes(StandardCharsets.UTF_8).length > IFNAMSIZ - 1) {
            throw ConfigException.invalid("Interface name too long (max length is "
                    + (IFNAMSIZ - 1) + "): " + name);
        }
    }

    private void filesystems() {
        if (!config.fs().isEmpty() && !backedBySharedMemory()) {
            throw ConfigException.invalid(VHOST_USER_NEEDS_SHARED_MEMORY);
        }
        for (FsConfig fs : config.fs()) {
            queueCount(fs.numQueues(), fs.numQueues());
            queueSize(fs.queueSize());
            if (fs.pci().iommu()) {
                throw ConfigException.invalid(IOMMU_NOT_SUPPORTED);
            }
            pci(fs.pci());
            identifier(fs.id());
        }
    }

    private void vhostUser(String socket) {
        if (!backedBySharedMemory()) {
            throw ConfigException.invalid(VHOST_USER_NEEDS_SHARED_MEMORY);
        }
        if (socket == null) {
            throw ConfigException.invalid("No socket provided when using vhost-user");
        }
    }

    /** Whether a vhost-user backend can map all guest RAM: shared or hugetlbfs memory. */
    private boolean backedBySharedMemory() {
        MemoryConfig m = config.memory();
        if (m.shared() || m.hugepages()) {
            return true;
        }
        if (m.size() != 0) {
            return false;
        }
        for (MemoryZoneConfig zone : m.zones()) {
            if (!zone.shared() && !zone.hugepages()) {
                return false;
            }
        }
        return true;
    }

    /** Each queue gets a vCPU's worth of interrupts; {@code reported} is the count shown. */
    private void queueCount(int needed, int reported) {
        int boot = config.cpus().bootVcpus();
        if (needed > boot) {
            throw ConfigException.invalid("Queue count (" + reported
                    + ") must not exceed boot vCPUs (" + boot + ")");
        }
    }

    /** A split virtqueue's size is a power of 2 (virtio spec 2.7). */
    private static void queueSize(int size) {
        if (Integer.bitCount(size) != 1) {
            throw ConfigException.invalid("Queue size must be a power of 2 no greater than "
                    + VIRTIO_MAX_QUEUE_SIZE + ": " + size);
        }
    }

    /** The checks every PCI device gets: placement, identifier, IOMMU use. */
    private void device(PciCommon pci) {
        pci(pci);
        identifier(pci.id());
        iommu |= pci.iommu();
    }

    private void pci(PciCommon pci) {
        PlatformConfig platform = config.platform();
        int segments = platform == null
                ? PlatformConfig.DEFAULT_NUM_PCI_SEGMENTS
                : platform.numPciSegments();
        if (pci.pciSegment() >= segments) {
            throw ConfigException.invalid("Invalid PCI segment id: " + pci.pciSegment());
        }
        if (platform != null && platform.iommuSegments().contains(pci.pciSegment())
                && !pci.iommu()) {
            throw ConfigException.invalid("Device is on an IOMMU PCI segment ("
                    + pci.pciSegment() + ") but not placed behind IOMMU");
        }
        Integer slot = pci.pciDeviceId();
        if (slot != null) {
            if (slot >= NUM_DEVICE_IDS) {
                throw ConfigException.invalid("Given PCI device ID (" + slot
                        + ") is out of the supported range of 0.." + NUM_DEVICE_IDS);
            }
            if (slot == PCI_ROOT_DEVICE_ID && pci.pciSegment() == 0) {
                throw ConfigException.invalid("Given PCI device ID (" + slot + ") is reserved");
            }
        }
    }

    private void topology() {
        CpuTopology t = config.cpus().topology();
        if (t == null) {
            return;
        }
        if (t.threadsPerCore() == 0 || t.coresPerDie() == 0 || t.diesPerPackage() == 0
                || t.packages() == 0) {
            throw ConfigException.invalid("No part of the CPU topology can be zero");
        }
        if (t.threadsPerCore() > 2) {
            throw ConfigException.invalid("CPU topology supports at most 2 threads per core");
        }
        if (t.product() != config.cpus().maxVcpus()) {
            throw ConfigException.invalid(
                    "Product of CPU topology parts does not match maximum vCPU");
        }
    }

    private void memory() {
        MemoryConfig m = config.memory();
        hugepages(m.hugepages(), m.hugepageSize());
        if (m.shared() && m.mergeable()) {
            throw ConfigException.invalid(
                    "Invalid to set both 'mergeable' and 'shared' for memory");
        }
        for (MemoryZoneConfig zone : m.zones()) {
            if (zone.shared() && zone.mergeable()) {
                throw ConfigException.invalid(
                        "Invalid to set both 'mergeable' and 'shared' for memory");
            }
            hugepages(zone.hugepages(), zone.hugepageSize());
            aligned(zone.size(), zone.hugepageSize());
        }
        // A size of 0 hands all RAM to the zones.
        if (m.size() == 0 && !m.zones().isEmpty()) {
            return;
        }
        if (Long.compareUnsigned(m.size(), MIN_MEMORY_SIZE) < 0) {
            throw ConfigException.invalid("Memory size must be at least 1 MiB: size="
                    + Long.toUnsignedString(m.size()));
        }
        aligned(m.size(), m.hugepageSize());
        addressSpace(m.size());
    }

    /** RAM comes in whole pages: base pages, or the huge pages asked for. */
    private static void aligned(long size, Long hugepageSize) {
        long unit = hugepageSize == null ? PAGE_SIZE : Math.max(hugepageSize, PAGE_SIZE);
        if (Long.remainderUnsigned(size, unit) != 0) {
            throw ConfigException.invalid("Memory size is misaligned with default page size or"
                    + " its hugepage size: size=" + Long.toUnsignedString(size)
                    + " page_size=" + unit);
        }
    }

    /**
     * RAM, then the 64-bit PCI window (from the end of RAM, never below 4 GiB), must fit below
     * the platform device area at the top of a {@code max_phys_bits} address space. A host
     * with fewer address bits than that shrinks the space further, which only building the VM
     * finds out.
     */
    private void addressSpace(long size) {
        int bits = Math.min(config.cpus().maxPhysBits(), MAX_PHYS_BITS);
        long limit = Layout.platformDeviceAreaStart(bits);
        // Below 2^bits (at most 2^52) the layout's arithmetic cannot overflow.
        boolean fits = Long.compareUnsigned(size, 1L << bits) < 0
                && Math.max(RamLayout.of(size).ramEnd(), Layout.RAM_64BIT_START) < limit;
        if (!fits) {
            throw ConfigException.invalid("Memory size does not fit in the guest physical"
                    + " address space: size=" + Long.toUnsignedString(size)
                    + ", RAM must end below 0x" + Long.toHexString(limit) + " (max_phys_bits="
                    + config.cpus().maxPhysBits() + ")");
        }
    }

    private static void hugepages(boolean enabled, Long size) {
        if (size == null) {
            return;
        }
        if (!enabled) {
            throw ConfigException.invalid("Huge page size specified but huge pages not enabled");
        }
        if (Long.bitCount(size) != 1) {
            throw ConfigException.invalid("Huge page size is not power of 2: " + size);
        }
    }

    /** CIDs 0, 1 and 2 name the hypervisor, local and host; -1 means any (virtio spec 5.10). */
    private void vsockCid() {
        VsockConfig vsock = config.vsock();
        if (vsock != null && (vsock.cid() <= 2 || vsock.cid() == 0xffff_ffffL)) {
            throw ConfigException.invalid(vsock.cid() + " is a special VSOCK CID");
        }
    }

    private void balloon() {
        BalloonConfig balloon = config.balloon();
        if (balloon == null) {
            return;
        }
        device(balloon.pci());
        long ram = config.memory().totalSize();
        if (balloon.size() >= ram) {
            throw ConfigException.invalid(
                    "Balloon size (" + balloon.size() + ") greater than RAM (" + ram + ")");
        }
    }

    private void pciSegments() {
        PlatformConfig platform = config.platform();
        int segments = platform == null
                ? PlatformConfig.DEFAULT_NUM_PCI_SEGMENTS
                : platform.numPciSegments();
        for (PciSegmentConfig segment : config.pciSegments()) {
            if (segment.pciSegment() >= segments) {
                throw ConfigException.invalid("Invalid PCI segment id: " + segment.pciSegment());
            }
            for (long weight : new long[] {segment.mmio32ApertureWeight(),
                segment.mmio64ApertureWeight()}) {
                if (weight == 0) {
                    throw ConfigException.invalid("Invalid PCI segment aperture weight: 0");
                }
            }
        }
    }

    private void platform() {
        PlatformConfig p = config.platform();
        if (p == null) {
            return;
        }
        if (p.numPciSegments() == 0 || p.numPciSegments() > PlatformConfig.MAX_NUM_PCI_SEGMENTS) {
            throw ConfigException.invalid("Number of PCI segments (" + p.numPciSegments()
                    + ") not in range of 1 to " + PlatformConfig.MAX_NUM_PCI_SEGMENTS);
        }
        for (int segment : p.iommuSegments()) {
            if (segment >= p.numPciSegments()) {
                throw ConfigException.invalid("Invalid PCI segment id: " + segment);
            }
        }
        if (p.iommuAddressWidthBits() > MAX_IOMMU_ADDRESS_WIDTH_BITS) {
            throw ConfigException.invalid("IOMMU address width in bits ("
                    + p.iommuAddressWidthBits() + ") should be less than or equal to "
                    + MAX_IOMMU_ADDRESS_WIDTH_BITS);
        }
        if (p.iommufdFd() != null && !p.iommufd()) {
            throw ConfigException.invalid("Platform `iommufd_fd=<fd>` requires `iommufd=on`");
        }
        iommu |= !p.iommuSegments().isEmpty();
    }

    // The logger is looked up only when there is something to say: finding the logging backend
    // is a noticeable part of the first request's cost.
    private void warn(String message) {
        if (!warnings) {
            return;
        }
        System.getLogger(Validator.class.getName()).log(Level.WARNING, message);
    }

    /** Identifiers must be unique; a {@code __} prefix is kept for built-in devices. */
    private void identifier(String id) {
        if (id == null) {
            return;
        }
        if (id.startsWith("__")) {
            throw ConfigException.invalid("Identifier " + id + " is not valid");
        }
        if (!ids.add(id)) {
            throw ConfigException.conflict("Identifier " + id + " is not unique");
        }
    }
}
