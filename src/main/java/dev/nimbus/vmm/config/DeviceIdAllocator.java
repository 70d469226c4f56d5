package dev.nimbus.vmm.config;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Names devices that the configuration leaves unnamed, the way Cloud Hypervisor does, because
 * tools read these names back from {@code vm.info} and the device tree.
 *
 * <p>One counter serves every prefix: with two unnamed disks and one unnamed network device the
 * names are {@code _disk0}, {@code _disk1} and {@code _net2}. A name already taken (by the user or
 * an earlier device) is skipped and the counter moves on. Devices are named at boot in the order
 * they are created: disks, network devices, virtio-fs, pmem, vsock. Hot-plugged devices take the
 * next name from the same allocator, so keep one per VM and {@link #release} names of removed
 * devices.
 */
public final class DeviceIdAllocator {
    public static final String DISK_PREFIX = "_disk";
    public static final String NET_PREFIX = "_net";
    public static final String FS_PREFIX = "_fs";
    public static final String PMEM_PREFIX = "_pmem";
    public static final String VSOCK_PREFIX = "_vsock";

    private final Set<String> taken = new HashSet<>();
    private long counter;

    /** An allocator that knows every identifier {@code config} gives. */
    public DeviceIdAllocator(VmConfig config) {
        taken.addAll(userIds(config));
    }

    /** The next free name with {@code prefix}, e.g. {@code _disk3}; it is then taken. */
    public String next(String prefix) {
        String name;
        do {
            name = prefix + counter++;
        } while (taken.contains(name));
        taken.add(name);
        return name;
    }

    /** Marks {@code id} as in use, e.g. for a hot-plugged device that came with a name. */
    public void reserve(String id) {
        taken.add(id);
    }

    /** Frees {@code id} after its device was removed. */
    public void release(String id) {
        taken.remove(id);
    }

    /** {@code config} with every unnamed disk, network, fs, pmem and vsock device named. */
    public VmConfig assignBootIds(VmConfig config) {
        List<DiskConfig> disks = new ArrayList<>();
        for (DiskConfig d : config.disks()) {
            disks.add(d.id() != null ? d : d.withId(next(DISK_PREFIX)));
        }
        List<NetConfig> nets = new ArrayList<>();
        for (NetConfig n : config.net()) {
            nets.add(n.id() != null ? n : n.withId(next(NET_PREFIX)));
        }
        List<FsConfig> fs = new ArrayList<>();
        for (FsConfig f : config.fs()) {
            fs.add(f.id() != null ? f : f.withId(next(FS_PREFIX)));
        }
        List<PmemConfig> pmem = new ArrayList<>();
        for (PmemConfig p : config.pmem()) {
            pmem.add(p.id() != null ? p : p.withId(next(PMEM_PREFIX)));
        }
        VsockConfig vsock = config.vsock();
        if (vsock != null && vsock.id() == null) {
            vsock = vsock.withId(next(VSOCK_PREFIX));
        }
        return config.toBuilder().disks(disks).net(nets).fs(fs).pmem(pmem).vsock(vsock).build();
    }

    /** Every identifier the configuration itself gives. */
    static Set<String> userIds(VmConfig c) {
        Set<String> ids = new HashSet<>();
        for (RateLimitGroupConfig g : c.rateLimitGroups()) {
            ids.add(g.id());
        }
        for (DiskConfig d : c.disks()) {
            add(ids, d.id());
        }
        for (NetConfig n : c.net()) {
            add(ids, n.id());
        }
        for (FsConfig f : c.fs()) {
            add(ids, f.id());
        }
        for (PmemConfig p : c.pmem()) {
            add(ids, p.id());
        }
        add(ids, c.rng().pci().id());
        add(ids, c.console().pci().id());
        if (c.balloon() != null) {
            add(ids, c.balloon().pci().id());
        }
        if (c.vsock() != null) {
            add(ids, c.vsock().id());
        }
        for (MemoryZoneConfig z : c.memory().zones()) {
            add(ids, z.id());
        }
        return ids;
    }

    private static void add(Set<String> ids, String id) {
        if (id != null) {
            ids.add(id);
        }
    }
}
