package dev.nimbus.vmm.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.nimbus.json.JsonParser;
import dev.nimbus.json.JsonWriter;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class VmConfigJsonTest {

    private static String json(VmConfig c) {
        return JsonWriter.write(c.toJson());
    }

    private static ConfigException failure(String body) {
        return assertThrows(ConfigException.class, () -> VmConfig.fromJson(body));
    }

    private static String error(String body) {
        ConfigException e = failure(body);
        assertEquals(ConfigException.Kind.JSON, e.kind());
        assertEquals(400, e.httpStatus());
        assertEquals("Failed to deserialize JSON", e.chain().get(0));
        return e.chain().get(1);
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = VmConfigJsonTest.class.getResourceAsStream(name)) {
            return in.readAllBytes();
        }
    }

    @Test
    void minimalBodyFillsInTheDefaults() {
        VmConfig c = VmConfig.fromJson("{\"payload\": {\"kernel\": \"/k\"}}");

        assertEquals(VmConfig.builder().payload(new PayloadConfig("/k", null, null, null)).build(),
                c);
    }

    @Test
    void writesWhatVmInfoReportsForTheDefaults() {
        VmConfig c = VmConfig.fromJson("{\"payload\": {\"kernel\": \"/k\"}}");

        assertEquals("{\"cpus\":{\"boot_vcpus\":1,\"max_vcpus\":1,\"kvm_hyperv\":false,"
                + "\"max_phys_bits\":46,\"features\":{\"amx\":false},\"nested\":true,"
                + "\"core_scheduling\":\"Vm\",\"profile\":\"Host\"},"
                + "\"memory\":{\"size\":536870912,\"mergeable\":false,\"hotplug_method\":\"Acpi\","
                + "\"shared\":false,\"hugepages\":false,\"prefault\":false,\"reserve\":false,"
                + "\"thp\":true},"
                + "\"payload\":{\"kernel\":\"/k\"},"
                + "\"rng\":{\"pci_segment\":0,\"src\":\"/dev/urandom\"},"
                + "\"serial\":{\"mode\":\"Null\"},"
                + "\"console\":{\"mode\":\"Tty\",\"pci_segment\":0},"
                + "\"debug_console\":{\"mode\":\"Off\",\"iobase\":233},"
                + "\"pvpanic\":false,\"iommu\":false,\"watchdog\":false,\"landlock_enable\":false}",
                json(c));
    }

    @Test
    void writesDevicesWithTheirApiFieldOrder() {
        VmConfig c = VmConfig.builder()
                .payload(new PayloadConfig("/k", "/i", "quiet", null))
                .disks(List.of(DiskConfig.parse("path=/img,id=d0,iommu=on,pci_device_id=4,"
                        + "bw_size=10,bw_refill_time=5")))
                .net(List.of(NetConfig.parse("tap=tap0,mac=2e:00:00:00:00:01,ip=10.0.0.1,"
                        + "mask=255.0.0.0,fd=[5,6]")))
                .vsock(VsockConfig.parse("cid=3,socket=/v"))
                .build();

        assertEquals("{\"kernel\":\"/k\",\"cmdline\":\"quiet\",\"initramfs\":\"/i\"}",
                JsonWriter.write(c.payload().toJson()));
        assertEquals("{\"id\":\"d0\",\"iommu\":true,\"pci_segment\":0,\"pci_device_id\":4,"
                + "\"path\":\"/img\",\"readonly\":false,\"direct\":false,\"num_queues\":1,"
                + "\"queue_size\":128,\"vhost_user\":false,\"rate_limiter_config\":{\"bandwidth\":"
                + "{\"size\":10,\"one_time_burst\":0,\"refill_time\":5},\"ops\":null},"
                + "\"disable_io_uring\":false,\"disable_aio\":false,\"backing_files\":false,"
                + "\"sparse\":true,\"image_type\":\"Unknown\",\"lock_granularity\":\"ByteRange\"}",
                JsonWriter.write(c.disks().get(0).toJson()));
        assertEquals("{\"pci_segment\":0,\"tap\":\"tap0\",\"ip\":\"10.0.0.1\","
                + "\"mask\":\"255.0.0.0\",\"mac\":\"2e:00:00:00:00:01\",\"num_queues\":2,"
                + "\"queue_size\":256,\"vhost_user\":false,\"vhost_mode\":\"Client\","
                + "\"fds\":[5,6],\"offload_tso\":true,\"offload_ufo\":true,\"offload_csum\":true}",
                JsonWriter.write(c.net().get(0).toJson()));
        assertEquals("{\"pci_segment\":0,\"cid\":3,\"socket\":\"/v\"}",
                JsonWriter.write(c.vsock().toJson()));
    }

    @Test
    void everyOptionSurvivesARoundTrip() {
        VmConfig c = VmConfig.builder()
                .cpus(CpusConfig.parse("boot=2,max=4,topology=1:2:1:2,kvm_hyperv=on,"
                        + "max_phys_bits=40,affinity=[0@[0,1],1@[2]],features=[amx],nested=off,"
                        + "core_scheduling=off"))
                .memory(MemoryConfig.parse("size=1G,hotplug_method=virtio-mem,hotplug_size=2G,"
                        + "hotplugged_size=1G,shared=on,hugepages=on,hugepage_size=2M,"
                        + "prefault=on,reserve=on,thp=off"))
                .payload(new PayloadConfig(null, null, null, "/fw"))
                .rateLimitGroups(List.of(new RateLimitGroupConfig("g",
                        new RateLimiterConfig(null, new TokenBucket(5, null, 6)))))
                .disks(List.of(DiskConfig.parse("path=/a,readonly=on,serial=S,"
                                + "queue_affinity=[0@[1]],image_type=raw,lock_granularity=full"),
                        DiskConfig.parse("vhost_user=on,socket=/s,num_queues=2,id=v")))
                .net(List.of(NetConfig.parse("tap=t,ip=fd00::1,mask=ffff::,host_mac="
                        + "02:00:00:00:00:02,mtu=9000,vhost_mode=server,offload_ufo=off")))
                .rng(RngConfig.parse("src=/dev/random,id=r"))
                .balloon(BalloonConfig.parse("size=64M,deflate_on_oom=on"))
                .fs(List.of(FsConfig.parse("tag=t,socket=/f,pci_segment=1")))
                .pmem(List.of(PmemConfig.parse("file=/p,size=1M,discard_writes=on")))
                .serial(ConsoleConfig.parseSerial("socket=/ser"))
                .console(ConsoleConfig.parseConsole("file=/con,iommu=on"))
                .debugConsole(DebugConsoleConfig.parse("pty,iobase=0x402"))
                .vsock(VsockConfig.parse("cid=9,socket=/v,id=vs"))
                .pvpanic(true)
                .iommu(true)
                .watchdog(true)
                .pciSegments(List.of(new PciSegmentConfig(1, 2, 3)))
                .platform(new PlatformConfig(2, List.of(1), 48, "SN", "UUID", List.of("a", "b"),
                        "M", "P", "V", "F", "SKU", "TAG", true, null, false))
                .build();

        String text = json(c);

        assertEquals(c, VmConfig.fromJson(text));
        assertEquals(text, json(VmConfig.fromJson(text)));
    }

    @Test
    void readsAKataCreateBody() throws IOException {
        byte[] body = resource("kata-vm-create.json");
        VmConfig c = VmConfig.fromJson(body);

        assertEquals(new CpusConfig(1, 8, 46), c.cpus());
        assertEquals(new MemoryConfig(2147483648L, false, HotplugMethod.ACPI, 17179869184L, null,
                true, false, null, false, false, List.of(), true), c.memory());
        assertEquals("/opt/kata/share/kata-containers/vmlinux.container", c.payload().kernel());
        assertEquals(ConsoleConfig.of(ConsoleMode.OFF), c.serial());
        assertEquals(ConsoleConfig.of(ConsoleMode.OFF), c.console());
        assertEquals(new PmemConfig(PciCommon.DEFAULT,
                "/opt/kata/share/kata-containers/kata-containers.img", null, true),
                c.pmem().get(0));
        assertEquals(new FsConfig(new PciCommon("fs0", false, 1, null), "kataShared",
                "/run/vc/vm/7f3a9c/virtiofsd.sock", 1, 1024), c.fs().get(0));
        assertEquals(new VsockConfig(PciCommon.DEFAULT, 3, "/run/vc/vm/7f3a9c/clh.sock"),
                c.vsock());
        assertEquals("blk0", c.disks().get(0).id());
        assertEquals(2, c.platform().numPciSegments());
        assertEquals(IpAddress.parse("192.168.249.1"), c.net().get(0).ip());
        c.validate();
    }

    @Test
    void kataBodyWrittenBackHasEveryDefault() throws IOException {
        VmConfig c = VmConfig.fromJson(resource("kata-vm-create.json"));
        String text = json(c);

        assertEquals(c, VmConfig.fromJson(text));
        assertEquals("{\"id\":\"blk0\",\"pci_segment\":0,\"path\":\"/dev/dm-3\",\"readonly\":false,"
                + "\"direct\":false,\"num_queues\":1,\"queue_size\":128,\"vhost_user\":false,"
                + "\"disable_io_uring\":false,\"disable_aio\":false,\"backing_files\":false,"
                + "\"sparse\":true,\"image_type\":\"Unknown\",\"lock_granularity\":\"ByteRange\"}",
                JsonWriter.write(c.disks().get(0).toJson()));
    }

    @Test
    void explicitNullsAndUnknownFieldsAreIgnored() {
        VmConfig c = VmConfig.fromJson("{\"payload\": {\"kernel\": \"/k\", \"igvm\": null},"
                + "\"cpus\": null, \"balloon\": null, \"disks\": null,"
                + "\"sgx_epc\": [{\"size\": 1}],"
                + "\"memory\": {\"size\": 1073741824, \"hotplug_size\": null, \"zones\": null,"
                + " \"future_field\": {\"x\": 1}}, \"tpm\": null, \"devices\": [],"
                + "\"landlock_enable\": false}");

        assertEquals(CpusConfig.DEFAULT, c.cpus());
        assertEquals(new MemoryConfig(1L << 30, false), c.memory());
        assertNull(c.balloon());
        assertEquals(List.of(), c.disks());
    }

    @Test
    void missingRequiredFieldsAreNamed() {
        assertEquals("Missing field cpus.max_vcpus", error("{\"cpus\": {\"boot_vcpus\": 1}}"));
        assertEquals("Missing field memory.size", error("{\"memory\": {\"shared\": true}}"));
        assertEquals("Missing field disks[0].rate_limiter_config.bandwidth.refill_time",
                error("{\"disks\": [{\"path\": \"/a\", \"rate_limiter_config\": "
                        + "{\"bandwidth\": {\"size\": 1}}}]}"));
        assertEquals("Missing field fs[0].socket", error("{\"fs\": [{\"tag\": \"t\"}]}"));
        assertEquals("Missing field pmem[0].file", error("{\"pmem\": [{}]}"));
        assertEquals("Missing field vsock.cid", error("{\"vsock\": {\"socket\": \"/s\"}}"));
        assertEquals("Missing field balloon.size", error("{\"balloon\": {}}"));
        assertEquals("Missing field rng.src", error("{\"rng\": {\"iommu\": false}}"));
        assertEquals("Missing field serial.mode", error("{\"serial\": {\"file\": \"/f\"}}"));
        assertEquals("Missing field cpus.topology.packages", error("{\"cpus\": {\"boot_vcpus\": 1,"
                + "\"max_vcpus\": 1, \"topology\": {\"threads_per_core\": 1, \"cores_per_die\": 1,"
                + "\"dies_per_package\": 1}}}"));
        assertEquals("Missing field cpus.boot_vcpus",
                error("{\"cpus\": {\"boot_vcpus\": null, \"max_vcpus\": 1}}"));
    }

    @Test
    void wrongTypesAreRefused() {
        assertEquals("Invalid type at cpus.boot_vcpus: expected u32, found string \"2\"",
                error("{\"cpus\": {\"boot_vcpus\": \"2\", \"max_vcpus\": 2}}"));
        assertEquals("Invalid type at disks[1].readonly: expected a boolean, found number 1",
                error("{\"disks\": [{}, {\"readonly\": 1}]}"));
        assertEquals("Invalid type at disks: expected an array, found an object",
                error("{\"disks\": {}}"));
        assertEquals("Invalid value at net[0].queue_size: 65536 is out of range for u16",
                error("{\"net\": [{\"queue_size\": 65536}]}"));
        assertEquals("Invalid value at console.mode: unknown variant \"tty\", expected one of "
                + "Off, Pty, Tty, File, Socket, Null", error("{\"console\": {\"mode\": \"tty\"}}"));
        assertEquals("Invalid value at memory.hotplug_method: unknown variant \"acpi\", expected "
                + "one of Acpi, VirtioMem", error("{\"memory\": {\"size\": 1, \"hotplug_method\": "
                        + "\"acpi\"}}"));
        assertEquals("Invalid value at net[0].ip: \"300.1.1.1\" is not an IP address",
                error("{\"net\": [{\"ip\": \"300.1.1.1\"}]}"));
        assertEquals("Invalid value at net[0].mac: \"zz:00:00:00:00:00\" is not a MAC address",
                error("{\"net\": [{\"mac\": \"zz:00:00:00:00:00\"}]}"));
        assertEquals("Invalid value at cpus.profile: unknown variant \"Custom\", expected one of "
                + "Host", error("{\"cpus\": {\"boot_vcpus\": 1, \"max_vcpus\": 1, "
                        + "\"profile\": \"Custom\"}}"));
        assertEquals("Invalid type: expected an object, found an array", error("[]"));
        assertEquals("Invalid JSON at line 1 column 2: expected a string key", error("{,}"));
    }

    @Test
    void rateLimiterAllowsNoUnknownFields() {
        assertEquals("Invalid value at disks[0].rate_limiter_config: unknown field \"iops\", "
                + "expected one of bandwidth, ops",
                error("{\"disks\": [{\"rate_limiter_config\": {\"iops\": null}}]}"));
    }

    @Test
    void fieldsNimbusCannotActOnAreRefusedByName() {
        assertEquals("Field devices is not supported by Nimbus yet",
                error("{\"devices\": [{\"path\": \"/sys/bus/pci/devices/0000:01:00.0\"}]}"));
        assertEquals("Field landlock_enable is not supported by Nimbus yet",
                error("{\"landlock_enable\": true}"));
        assertEquals("Field rtc is not supported by Nimbus yet", error("{\"rtc\": {}}"));
        assertEquals("Field numa is not supported by Nimbus yet",
                error("{\"numa\": [{\"guest_numa_id\": 0}]}"));
    }

    @Test
    void tapFdNumbersInABodyAreDropped() {
        VmConfig c = VmConfig.fromJson("{\"net\": [{\"fds\": [3, 4], \"num_queues\": 4}]}");

        assertEquals(List.of(), c.net().get(0).fds());
        assertEquals("Invalid type at net[0].fds: expected an array, found string \"3\"",
                error("{\"net\": [{\"fds\": \"3\"}]}"));
    }

    @Test
    void platformReadsOldSmbiosNamesAndHidesFdNumbers() {
        VmConfig c = VmConfig.fromJson("{\"platform\": {\"serial_number\": \"SN\", \"uuid\": \"U\","
                + "\"iommufd\": true, \"iommufd_fd\": 12}}");

        assertEquals("SN", c.platform().systemSerialNumber());
        assertEquals("U", c.platform().systemUuid());
        assertEquals(-1, c.platform().iommufdFd());
        assertEquals(1, c.platform().numPciSegments());
        assertEquals(true, c.platform().vfioP2pDma());
    }

    @Test
    void bodyOfAKataAddNetReadsWithConfigJson() {
        byte[] body = ("{\"host_mac\":\"ee:8a:d1:2c:39:5c\",\"id\":\"net1\",\"iommu\":false,"
                + "\"ip\":\"192.168.249.1\",\"mac\":\"ee:8a:d1:2c:39:5b\","
                + "\"mask\":\"255.255.255.0\",\"num_queues\":2,\"queue_size\":256,"
                + "\"vhost_mode\":\"Client\",\"vhost_user\":false,\"fd\":[7,8]}")
                .getBytes(StandardCharsets.UTF_8);

        NetConfig n = ConfigJson.parse(body, NetConfig::fromJson);

        assertEquals("net1", n.id());
        assertEquals("ee:8a:d1:2c:39:5b", n.mac().toString());
        assertEquals(List.of(), n.fds());
        assertEquals("Failed to deserialize JSON: Missing field file",
                assertThrows(ConfigException.class,
                        () -> ConfigJson.parse("{}".getBytes(StandardCharsets.UTF_8),
                                PmemConfig::fromJson)).getMessage());
    }

    @Test
    void prettyOutputParsesBack() {
        VmConfig c = VmConfig.builder().payload(new PayloadConfig("/k", null, null, null))
                .disks(List.of(DiskConfig.parse("path=/a"))).build();

        assertEquals(c, VmConfig.fromJson(JsonParser.parse(JsonWriter.writePretty(c.toJson()))));
    }
}
