package dev.nimbus.vmm.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class MemoryConfigTest {

    private static String error(String option) {
        return assertThrows(ConfigException.class, () -> MemoryConfig.parse(option)).getMessage();
    }

    @Test
    void defaultsTo512MibPrivateWithThp() {
        MemoryConfig m = MemoryConfig.parse("");

        assertEquals(MemoryConfig.DEFAULT, m);
        assertEquals(536870912L, m.size());
        assertEquals(HotplugMethod.ACPI, m.hotplugMethod());
        assertEquals(true, m.thp());
        assertEquals(false, m.shared());
        assertEquals(null, m.hotplugSize());
    }

    @Test
    void readsEveryKey() {
        MemoryConfig m = MemoryConfig.parse("size=1G,mergeable=on,hotplug_method=virtio-mem,"
                + "hotplug_size=2G,hotplugged_size=512M,shared=off,hugepages=on,"
                + "hugepage_size=2M,prefault=on,reserve=on,thp=off");

        assertEquals(new MemoryConfig(1L << 30, true, HotplugMethod.VIRTIO_MEM, 2L << 30,
                512L << 20, false, true, 2L << 20, true, true, List.of(), false), m);
    }

    @Test
    void hotplugMethodIgnoresCase() {
        assertEquals(HotplugMethod.ACPI, MemoryConfig.parse("hotplug_method=ACPI").hotplugMethod());
    }

    @Test
    void fileIsAcceptedAndIgnored() {
        assertEquals(MemoryConfig.DEFAULT, MemoryConfig.parse("file=/dev/shm"));
    }

    @Test
    void badValuesNameTheKey() {
        assertEquals("Error parsing --memory: Unable to convert 1T for size", error("size=1T"));
        assertEquals("Error parsing --memory: Unable to convert dimm for hotplug_method",
                error("hotplug_method=dimm"));
        assertEquals("Error parsing --memory: Unable to convert maybe for shared",
                error("shared=maybe"));
        assertEquals("Error parsing --memory: Unknown option: zones", error("zones=1"));
    }

    @Test
    void totalSizeCountsZonesAndPluggedMemory() {
        MemoryZoneConfig zone = new MemoryZoneConfig("z", 1L << 30, null, false, false, null,
                null, null, 256L << 20, false, false, false);
        MemoryConfig m = new MemoryConfig(512L << 20, false, HotplugMethod.VIRTIO_MEM, null,
                128L << 20, false, false, null, false, false, List.of(zone), true);

        assertEquals((512L << 20) + (128L << 20) + (1L << 30) + (256L << 20), m.totalSize());
    }
}
