package dev.nimbus.vmm.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class ValidatorTest {

    private static final PayloadConfig KERNEL = new PayloadConfig("/vmlinux", null, null, null);

    private static VmConfig.Builder vm() {
        return VmConfig.builder().payload(KERNEL);
    }

    private static VmConfig.Builder shared() {
        return vm().memory(new MemoryConfig(512L << 20, true));
    }

    private static ConfigException failure(VmConfig.Builder b) {
        return assertThrows(ConfigException.class, () -> b.build().validate());
    }

    private static String error(VmConfig.Builder b) {
        ConfigException e = failure(b);
        assertEquals(ConfigException.Kind.VALIDATION, e.kind());
        assertEquals(400, e.httpStatus());
        return e.getMessage();
    }

    private static PlatformConfig segments(int n, List<Integer> iommuSegments) {
        return new PlatformConfig(n, iommuSegments, 64, null, null, List.of(), null, null, null,
                null, null, null, false, null, true);
    }

    @Test
    void defaultsWithAKernelAreValid() {
        VmConfig c = vm().build();

        assertEquals(c, c.validate());
    }

    @Test
    void payloadNeedsKernelOrFirmwareButNotBoth() {
        assertEquals("Payload configuration is not bootable: No bootitem provided: neither "
                + "firmware nor kernel", error(vm().payload(null)));
        assertEquals("Payload configuration is not bootable: No bootitem provided: neither "
                + "firmware nor kernel",
                error(vm().payload(new PayloadConfig(null, "/i", "c", null))));
        ConfigException both = failure(vm().payload(new PayloadConfig("/k", null, null, "/fw")));
        assertEquals(List.of("Payload configuration is not bootable",
                "Specifying a kernel is not supported when a firmware is provided"), both.chain());
    }

    @Test
    void firmwarePayloadDropsCmdlineAndInitramfs() {
        VmConfig c = vm().payload(new PayloadConfig(null, "/initrd", "console=ttyS0", "/fw"))
                .build().validate();

        assertEquals(new PayloadConfig(null, null, null, "/fw"), c.payload());
    }

    @Test
    void consoleFileAndSocketModesNeedAPath() {
        assertEquals("Path missing when using file console mode",
                error(vm().serial(ConsoleConfig.of(ConsoleMode.FILE))));
        assertEquals("Path missing when using file console mode",
                error(vm().console(ConsoleConfig.of(ConsoleMode.FILE))));
        assertEquals("Path missing when using socket console mode",
                error(vm().serial(ConsoleConfig.of(ConsoleMode.SOCKET))));
        assertEquals("Path missing when using file mode for debug console",
                error(vm().debugConsole(new DebugConsoleConfig(ConsoleMode.FILE, null, null))));
    }

    @Test
    void cpuCounts() {
        assertEquals("Max CPUs (1) lower than boot CPUs (2)",
                error(vm().cpus(new CpusConfig(2, 1, 46))));
        assertEquals("Too many CPUs: specified 8193 but 8192 is the limit",
                error(vm().cpus(new CpusConfig(1, 8193, 46))));
        assertEquals("Boot CPUs (0) must be at least 1",
                error(vm().cpus(new CpusConfig(0, 0, 46))));
        vm().cpus(new CpusConfig(1, 8192, 46)).build().validate();
    }

    @Test
    void topologyRules() {
        assertEquals("No part of the CPU topology can be zero",
                error(vm().cpus(CpusConfig.parse("boot=2,topology=2:0:1:1"))));
        assertEquals("CPU topology supports at most 2 threads per core",
                error(vm().cpus(CpusConfig.parse("boot=4,topology=4:1:1:1"))));
        assertEquals("Product of CPU topology parts does not match maximum vCPU",
                error(vm().cpus(CpusConfig.parse("boot=2,max=8,topology=2:2:1:1"))));
        vm().cpus(CpusConfig.parse("boot=2,max=8,topology=2:2:1:2")).build().validate();
    }

    @Test
    void diskRules() {
        assertEquals("Disk path and vhost socket both provided",
                error(vm().disks(List.of(DiskConfig.parse("path=/i,socket=/s")))));
        assertEquals("Using vhost-user requires using shared memory or huge pages",
                error(vm().disks(List.of(DiskConfig.parse("vhost_user=on,socket=/s")))));
        assertEquals("No socket provided when using vhost-user",
                error(shared().disks(List.of(DiskConfig.parse("vhost_user=on")))));
        assertEquals("Rate limiting is not supported with vhost-user",
                error(shared().disks(List.of(DiskConfig.parse(
                        "vhost_user=on,socket=/s,bw_size=1,bw_refill_time=1")))));
        assertEquals("Invalid rate-limiter group",
                error(vm().disks(List.of(DiskConfig.parse("path=/i,rate_limit_group=g")))));
        assertEquals("Queue count (2) must not exceed boot vCPUs (1)",
                error(vm().disks(List.of(DiskConfig.parse("path=/i,num_queues=2")))));
        assertEquals("Queue size must be a power of 2 no greater than 32768: 100",
                error(vm().disks(List.of(DiskConfig.parse("path=/i,queue_size=100")))));
        assertEquals("Queue size must be a power of 2 no greater than 32768: 0",
                error(vm().disks(List.of(DiskConfig.parse("path=/i,queue_size=0")))));
        assertEquals("Block queue size must be greater than 2: 2",
                error(vm().disks(List.of(DiskConfig.parse("path=/i,queue_size=2")))));
        assertEquals("Device does not support being placed behind IOMMU",
                error(shared().disks(List.of(
                        DiskConfig.parse("vhost_user=on,socket=/s,iommu=on")))));
        assertEquals("Block device serial length (21) exceeds maximum allowed length (20)",
                error(vm().disks(List.of(DiskConfig.parse("path=/i,serial=" + "s".repeat(21))))));
        shared().disks(List.of(DiskConfig.parse("vhost_user=on,socket=/s"),
                DiskConfig.parse("path=/i,serial=" + "s".repeat(20)))).build().validate();
    }

    @Test
    void diskNeedsAQueue() {
        // Regression: num_queues=0 reached the device and ended in a stack trace.
        assertEquals("Number of queues (0) to virtio_blk must be at least 1",
                error(vm().disks(List.of(DiskConfig.parse("path=/i,num_queues=0")))));
    }

    @Test
    void diskRateLimitGroupMustExistAndExcludesOwnLimits() {
        RateLimitGroupConfig group = new RateLimitGroupConfig("g0",
                new RateLimiterConfig(new TokenBucket(1000, 0L, 100), null));
        vm().rateLimitGroups(List.of(group))
                .disks(List.of(DiskConfig.parse("path=/i,rate_limit_group=g0"))).build().validate();
        assertEquals("Invalid rate-limiter group", error(vm().rateLimitGroups(List.of(group))
                .disks(List.of(DiskConfig.parse(
                        "path=/i,rate_limit_group=g0,bw_size=1,bw_refill_time=1")))));
        assertEquals("Invalid rate-limiter group", error(vm().rateLimitGroups(List.of(
                new RateLimitGroupConfig("g1", new RateLimiterConfig(null, null))))));
        assertEquals("Invalid rate-limiter group", error(vm().rateLimitGroups(List.of(
                new RateLimitGroupConfig("", group.rateLimiterConfig())))));
    }

    @Test
    void netRules() {
        assertEquals("Number of queues (1) to virtio_net should be higher than 2",
                error(vm().net(List.of(NetConfig.parse("num_queues=1")))));
        assertEquals("Number of queues (2) to virtio_net does not match the number of FDs (2):"
                + " each tap FD takes a receive and a transmit queue, so num_queues=4",
                error(vm().net(List.of(NetConfig.parse("fd=[3,4]")))));
        assertEquals("Reserved fd number (<= 2): 2",
                error(vm().net(List.of(NetConfig.parse("fd=2")))));
        assertEquals("Queue count (4) must not exceed boot vCPUs (1)",
                error(vm().net(List.of(NetConfig.parse("num_queues=4")))));
        assertEquals("Queue size must be a power of 2 no greater than 32768: 300",
                error(vm().net(List.of(NetConfig.parse("queue_size=300")))));
        assertEquals("Provided MTU 1279 is lower than 1280 (expected by VIRTIO specification)",
                error(vm().net(List.of(NetConfig.parse("mtu=1279")))));
        assertEquals("\"offload_tso\" and \"offload_ufo\" depend on \"offload_csum\"",
                error(vm().net(List.of(NetConfig.parse("offload_csum=off")))));
        assertEquals("Mask provided without an IP",
                error(vm().net(List.of(NetConfig.parse("mask=255.255.255.0")))));
        assertEquals("IP provided without a mask",
                error(vm().net(List.of(NetConfig.parse("ip=10.0.0.1")))));
        assertEquals("Using vhost-user requires using shared memory or huge pages",
                error(vm().net(List.of(NetConfig.parse("vhost_user=on,socket=/s")))));
        assertEquals("No socket provided when using vhost-user",
                error(shared().net(List.of(NetConfig.parse("vhost_user=on")))));
        assertEquals("Rate limiting is not supported with vhost-user",
                error(shared().net(List.of(NetConfig.parse(
                        "vhost_user=on,socket=/s,ops_size=1,ops_refill_time=1")))));
        vm().cpus(new CpusConfig(2, 2, 46))
                .net(List.of(NetConfig.parse("num_queues=4,fd=[3,4],mtu=1280,ip=10.0.0.1,"
                        + "mask=255.0.0.0,offload_csum=off,offload_tso=off,offload_ufo=off")))
                .build().validate();
    }

    @Test
    void netQueuesComeInPairs() {
        // Regression: an odd count reached the tap code and ended in a stack trace.
        assertEquals("Number of queues (3) to virtio_net must be even: a receive and a transmit"
                + " queue per pair",
                error(vm().cpus(new CpusConfig(2, 2, 46))
                        .net(List.of(NetConfig.parse("tap=t0,num_queues=3")))));
    }

    @Test
    void tapNamesMustFitIfnamsiz() {
        assertEquals("Interface name too long (max length is 15): abcdefghijklmnop",
                error(vm().net(List.of(NetConfig.parse("tap=abcdefghijklmnop")))));
        // 15 bytes of UTF-8 in 8 characters still fit; 16 bytes do not.
        vm().net(List.of(NetConfig.parse("tap=abcdefghijklmno"))).build().validate();
        vm().net(List.of(NetConfig.parse("tap=t\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9")))
                .build().validate();
        assertTrue(error(vm().net(List.of(NetConfig.parse(
                "tap=tt\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"))))
                .startsWith("Interface name too long (max length is 15): "));
        NetConfig nul = NetConfig.parse("tap=t0").withId(null);
        nul = new NetConfig(nul.pci(), "t\0x", null, null, null, null, null, 2, 256, false,
                null, null, List.of(), null, true, true, true);
        assertEquals("Interface name contains interior NUL byte: t\\0x",
                error(vm().net(List.of(nul))));
        // An empty name, as a request body may give, lets the kernel pick one.
        vm().net(List.of(new NetConfig(null, "", null, null, null, null, null, 2, 256, false,
                null, null, List.of(), null, true, true, true))).build().validate();
    }

    @Test
    void fsRules() {
        FsConfig fs = FsConfig.parse("tag=t,socket=/s");

        assertEquals("Using vhost-user requires using shared memory or huge pages",
                error(vm().fs(List.of(fs))));
        assertEquals("Queue count (2) must not exceed boot vCPUs (1)",
                error(shared().fs(List.of(FsConfig.parse("tag=t,socket=/s,num_queues=2")))));
        assertEquals("Queue size must be a power of 2 no greater than 32768: 1000",
                error(shared().fs(List.of(FsConfig.parse("tag=t,socket=/s,queue_size=1000")))));
        assertEquals("Device does not support being placed behind IOMMU",
                error(shared().fs(List.of(new FsConfig(new PciCommon(null, true, 0, null), "t",
                        "/s", 1, 1024)))));
        shared().fs(List.of(fs)).build().validate();
        vm().memory(MemoryConfig.parse("hugepages=on")).fs(List.of(fs)).build().validate();
    }

    @Test
    void pciPlacementRules() {
        assertEquals("Invalid PCI segment id: 1",
                error(vm().disks(List.of(DiskConfig.parse("path=/i,pci_segment=1")))));
        vm().platform(segments(2, List.of()))
                .disks(List.of(DiskConfig.parse("path=/i,pci_segment=1"))).build().validate();
        assertEquals("Device is on an IOMMU PCI segment (1) but not placed behind IOMMU",
                error(vm().platform(segments(2, List.of(1)))
                        .pmem(List.of(PmemConfig.parse("file=/f,pci_segment=1")))));
        assertEquals("Given PCI device ID (32) is out of the supported range of 0..32",
                error(vm().pmem(List.of(new PmemConfig(new PciCommon(null, false, 0, 32), "/f",
                        null, false)))));
        assertEquals("Given PCI device ID (0) is reserved",
                error(vm().vsock(VsockConfig.parse("cid=3,socket=/s,pci_device_id=0"))));
        vm().platform(segments(2, List.of()))
                .vsock(VsockConfig.parse("cid=3,socket=/s,pci_device_id=0,pci_segment=1"))
                .build().validate();
    }

    @Test
    void memoryRules() {
        assertEquals("Huge page size specified but huge pages not enabled",
                error(vm().memory(MemoryConfig.parse("hugepage_size=2M"))));
        assertEquals("Huge page size is not power of 2: 3145728",
                error(vm().memory(MemoryConfig.parse("hugepages=on,hugepage_size=3M"))));
        assertEquals("Invalid to set both 'mergeable' and 'shared' for memory",
                error(vm().memory(MemoryConfig.parse("shared=on,mergeable=on"))));
    }

    @Test
    void memoryMustHoldTheLowMemoryBootStructures() {
        // Regression: these reached the VM layer and ended in a stack trace.
        for (String size : new String[] {"0", "1", "4K", "1020K"}) {
            assertEquals("Memory size must be at least 1 MiB: size="
                    + MemoryConfig.parse("size=" + size).size(),
                    error(vm().memory(MemoryConfig.parse("size=" + size))));
        }
        // From the API a u64 above 2^63 arrives as a negative long; it is shown unsigned.
        assertEquals("Memory size does not fit in the guest physical address space:"
                + " size=18446744073709547520, RAM must end below 0x3fffffef0000"
                + " (max_phys_bits=46)", error(vm().memory(new MemoryConfig(-4096L, false))));
        vm().memory(MemoryConfig.parse("size=1M")).build().validate();
    }

    @Test
    void memoryComesInWholePages() {
        assertEquals("Memory size is misaligned with default page size or its hugepage size:"
                + " size=1052673 page_size=4096",
                error(vm().memory(new MemoryConfig((1L << 20) + 4097, false))));
        assertEquals("Memory size is misaligned with default page size or its hugepage size:"
                + " size=1049600 page_size=4096",
                error(vm().memory(MemoryConfig.parse("size=1025K"))));
        assertEquals("Memory size is misaligned with default page size or its hugepage size:"
                + " size=3145728 page_size=2097152",
                error(vm().memory(MemoryConfig.parse("size=3M,hugepages=on,hugepage_size=2M"))));
        vm().memory(MemoryConfig.parse("size=4M,hugepages=on,hugepage_size=2M")).build()
                .validate();
    }

    @Test
    void memoryMustFitBelowTheTopOfTheGuestPhysicalAddressSpace() {
        // 46 bits: the platform device area starts at 2^46 - 64 KiB - 1 MiB. RAM past 3 GiB
        // continues at 4 GiB, so RAM ends 1 GiB above its size.
        long limit = (1L << 46) - (64L << 10) - (1L << 20);
        assertEquals("Memory size does not fit in the guest physical address space:"
                + " size=75161927680000, RAM must end below 0x" + Long.toHexString(limit)
                + " (max_phys_bits=46)", error(vm().memory(MemoryConfig.parse("size=70000G"))));
        long largest = limit - (1L << 30) - (2L << 20);
        vm().memory(new MemoryConfig(largest, false)).build().validate();
        assertTrue(error(vm().memory(new MemoryConfig(largest + (2L << 20), false)))
                .startsWith("Memory size does not fit"));
        // A smaller max_phys_bits shrinks the space: 39 bits leave 512 GiB less the top MiB.
        assertEquals("Memory size does not fit in the guest physical address space:"
                + " size=549755813888, RAM must end below 0x7fffef0000 (max_phys_bits=39)",
                error(vm().cpus(new CpusConfig(1, 1, 39))
                        .memory(MemoryConfig.parse("size=512G"))));
        // Above 52 bits no x86-64 CPU goes further: the check uses 52, without overflow.
        vm().cpus(new CpusConfig(1, 1, 255)).memory(MemoryConfig.parse("size=65536G")).build()
                .validate();
    }

    @Test
    void maxPhysBitsMustReachPast4Gib() {
        for (int bits : new int[] {0, 1, 32}) {
            assertEquals("Physical address bits too few for the memory map: max_phys_bits="
                    + bits + ", at least 33 are needed",
                    error(vm().cpus(new CpusConfig(1, 1, bits))));
        }
        vm().cpus(new CpusConfig(1, 1, 33)).build().validate();
    }

    @Test
    void memoryZonesMayTakeAllRam() {
        MemoryConfig zones = new MemoryConfig(0, false, HotplugMethod.ACPI, null, null, false,
                false, null, false, false,
                List.of(new MemoryZoneConfig("z0", 1L << 30, null, false, false, null, null,
                        null, null, false, false, false)), true);
        vm().memory(zones).build().validate();
    }

    @Test
    void vsockSpecialCids() {
        for (long cid : new long[] {0, 1, 2, 4294967295L}) {
            assertEquals(cid + " is a special VSOCK CID",
                    error(vm().vsock(new VsockConfig(PciCommon.DEFAULT, cid, "/s"))));
        }
        vm().vsock(new VsockConfig(PciCommon.DEFAULT, 3, "/s")).build().validate();
    }

    @Test
    void balloonMustBeSmallerThanRam() {
        assertEquals("Balloon size (536870912) greater than RAM (536870912)",
                error(vm().balloon(BalloonConfig.parse("size=512M"))));
        vm().balloon(BalloonConfig.parse("size=511M")).build().validate();
    }

    @Test
    void platformRules() {
        // Devices are checked before the platform, so with no segment at all the always-present
        // rng on segment 0 is what gets reported, as in the reference implementation.
        assertEquals("Invalid PCI segment id: 0", error(vm().platform(segments(0, List.of()))));
        assertEquals("Number of PCI segments (97) not in range of 1 to 96",
                error(vm().platform(segments(97, List.of()))));
        assertEquals("Invalid PCI segment id: 2", error(vm().platform(segments(2, List.of(2)))));
        assertEquals("IOMMU address width in bits (65) should be less than or equal to 64",
                error(vm().platform(new PlatformConfig(1, List.of(), 65, null, null, List.of(),
                        null, null, null, null, null, null, false, null, true))));
        assertEquals("Platform `iommufd_fd=<fd>` requires `iommufd=on`",
                error(vm().platform(new PlatformConfig(1, List.of(), 64, null, null, List.of(),
                        null, null, null, null, null, null, false, -1, true))));
        assertEquals("Invalid PCI segment id: 1",
                error(vm().pciSegments(List.of(new PciSegmentConfig(1, 1, 1)))));
        assertEquals("Invalid PCI segment aperture weight: 0",
                error(vm().pciSegments(List.of(new PciSegmentConfig(0, 0, 1)))));
    }

    @Test
    void identifiersMustBeUniqueAcrossDevices() {
        ConfigException e = failure(vm()
                .disks(List.of(DiskConfig.parse("path=/a,id=dev0")))
                .net(List.of(NetConfig.parse("id=dev0"))));

        assertEquals("Identifier dev0 is not unique", e.getMessage());
        assertEquals(409, e.httpStatus());
        assertEquals(409, failure(vm().disks(List.of(DiskConfig.parse("path=/a,id=x"),
                DiskConfig.parse("path=/b,id=x")))).httpStatus());
        assertEquals(409, failure(vm().pmem(List.of(PmemConfig.parse("file=/f,id=x")))
                .vsock(VsockConfig.parse("cid=3,socket=/s,id=x"))).httpStatus());
    }

    @Test
    void identifiersMayNotUseTheBuiltInPrefix() {
        assertEquals("Identifier __rng is not valid",
                error(vm().disks(List.of(DiskConfig.parse("path=/a,id=__rng")))));
        assertEquals("Identifier __c is not valid",
                error(vm().console(ConsoleConfig.parseConsole("tty,id=__c"))));
    }

    @Test
    void iommuIsTurnedOnByAnyDeviceBehindIt() {
        assertFalse(vm().build().validate().iommu());
        assertTrue(vm().rng(RngConfig.parse("iommu=on")).build().validate().iommu());
        assertTrue(vm().disks(List.of(DiskConfig.parse("path=/i,iommu=on"))).build().validate()
                .iommu());
        assertTrue(vm().platform(segments(2, List.of(1))).build().validate().iommu());
    }

    @Test
    void validationLeavesDeviceIdsUnassigned() {
        VmConfig c = vm().disks(List.of(DiskConfig.parse("path=/i"))).build().validate();

        assertNull(c.disks().get(0).id());
    }
}
