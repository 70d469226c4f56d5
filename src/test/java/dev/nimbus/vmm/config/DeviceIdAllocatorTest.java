package dev.nimbus.vmm.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class DeviceIdAllocatorTest {

    private static VmConfig config(List<DiskConfig> disks, List<NetConfig> net) {
        return VmConfig.builder()
                .payload(new PayloadConfig("/k", null, null, null))
                .memory(new MemoryConfig(512L << 20, true))
                .disks(disks)
                .net(net)
                .fs(List.of(FsConfig.parse("tag=t,socket=/s")))
                .pmem(List.of(PmemConfig.parse("file=/p")))
                .vsock(VsockConfig.parse("cid=3,socket=/v"))
                .build();
    }

    @Test
    void oneCounterNamesEveryKindInCreationOrder() {
        VmConfig c = config(List.of(DiskConfig.parse("path=/a"), DiskConfig.parse("path=/b")),
                List.of(NetConfig.parse("")));

        VmConfig named = new DeviceIdAllocator(c).assignBootIds(c);

        assertEquals("_disk0", named.disks().get(0).id());
        assertEquals("_disk1", named.disks().get(1).id());
        assertEquals("_net2", named.net().get(0).id());
        assertEquals("_fs3", named.fs().get(0).id());
        assertEquals("_pmem4", named.pmem().get(0).id());
        assertEquals("_vsock5", named.vsock().id());
    }

    @Test
    void userNamesAreKeptAndSkipped() {
        VmConfig c = config(List.of(DiskConfig.parse("path=/a"),
                DiskConfig.parse("path=/b,id=_disk1"), DiskConfig.parse("path=/c")), List.of());

        VmConfig named = new DeviceIdAllocator(c).assignBootIds(c);

        assertEquals(List.of("_disk0", "_disk1", "_disk2"),
                named.disks().stream().map(DiskConfig::id).toList());
    }

    @Test
    void hotPlugContinuesTheCounterPastTakenNames() {
        VmConfig c = config(List.of(DiskConfig.parse("path=/a")), List.of());
        DeviceIdAllocator ids = new DeviceIdAllocator(c);
        ids.assignBootIds(c);

        assertEquals("_disk4", ids.next(DeviceIdAllocator.DISK_PREFIX));
        ids.reserve("_net5");
        assertEquals("_net6", ids.next(DeviceIdAllocator.NET_PREFIX));
    }

    @Test
    void namedConfigStillValidates() {
        VmConfig c = config(List.of(DiskConfig.parse("path=/a")), List.of(NetConfig.parse("")));

        new DeviceIdAllocator(c).assignBootIds(c).validate();
    }
}
