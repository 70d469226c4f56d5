package dev.nimbus.vmm.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class DiskConfigTest {

    private static String error(String option) {
        return assertThrows(ConfigException.class, () -> DiskConfig.parse(option)).getMessage();
    }

    @Test
    void pathAloneTakesTheDefaults() {
        DiskConfig d = DiskConfig.parse("path=/path/to/disk");

        assertEquals("/path/to/disk", d.path());
        assertEquals(1, d.numQueues());
        assertEquals(128, d.queueSize());
        assertEquals(PciCommon.DEFAULT, d.pci());
        assertNull(d.id());
        assertEquals(false, d.readonly());
        assertEquals(true, d.sparse());
        assertEquals(ImageType.UNKNOWN, d.imageType());
        assertEquals(LockGranularity.BYTE_RANGE, d.lockGranularity());
        assertNull(d.rateLimiterConfig());
    }

    @Test
    void readsEveryKey() {
        DiskConfig d = DiskConfig.parse("path=/img,readonly=on,direct=on,iommu=on,num_queues=4,"
                + "queue_size=256,id=disk7,pci_segment=1,pci_device_id=5,serial=SN1,"
                + "rate_limit_group=g0,queue_affinity=[0@[0,1],1@[2]],backing_files=on,"
                + "sparse=off,image_type=QCOW2,lock_granularity=full,_disable_io_uring=on,"
                + "_disable_aio=on");

        assertEquals(new DiskConfig(new PciCommon("disk7", true, 1, 5), "/img", true, true, 4,
                256, false, null, "g0", null, true, true, "SN1",
                List.of(new VirtQueueAffinity(0, List.of(0, 1)),
                        new VirtQueueAffinity(1, List.of(2))),
                true, false, ImageType.QCOW2, LockGranularity.FULL), d);
    }

    @Test
    void vhostUserDiskNamesItsSocketAndSkipsTheImageType() {
        DiskConfig d = DiskConfig.parse("vhost_user=true,socket=/tmp/sock1,image_type=bogus");

        assertEquals(true, d.vhostUser());
        assertEquals("/tmp/sock1", d.vhostSocket());
        assertNull(d.path());
        assertEquals(ImageType.UNKNOWN, d.imageType());
    }

    @Test
    void bucketsNeedSizeAndRefillTime() {
        DiskConfig d = DiskConfig.parse("path=/img,bw_size=1000,bw_refill_time=100,"
                + "ops_size=10,ops_one_time_burst=5");

        assertEquals(new RateLimiterConfig(new TokenBucket(1000, 0L, 100), null),
                d.rateLimiterConfig());
        assertNull(DiskConfig.parse("path=/img,bw_size=1000").rateLimiterConfig());
    }

    @Test
    void imageTypesMatchTheApiNames() {
        assertEquals(ImageType.RAW, DiskConfig.parse("path=/i,image_type=raw").imageType());
        assertEquals(ImageType.FIXED_VHD, DiskConfig.parse("path=/i,image_type=vhd").imageType());
        assertEquals(ImageType.VHDX, DiskConfig.parse("path=/i,image_type=vhdx").imageType());
        assertEquals(ImageType.FLAT_VMDK, DiskConfig.parse("path=/i,image_type=vmdk").imageType());
    }

    @Test
    void badValuesNameTheKey() {
        assertEquals("Error parsing --disk: Unknown option: size", error("path=/i,size=1G"));
        assertEquals("Error parsing --disk: Unable to convert big for queue_size",
                error("path=/i,queue_size=big"));
        assertEquals("Error parsing --disk: Unable to convert 65536 for queue_size",
                error("path=/i,queue_size=65536"));
        assertEquals("Error parsing --disk: Unable to convert iso for image_type",
                error("path=/i,image_type=iso"));
        assertEquals("Error parsing --disk: Unable to convert Full for lock_granularity",
                error("path=/i,lock_granularity=Full"));
        assertEquals("Error parsing --disk: Unable to convert 1M for bw_size",
                error("path=/i,bw_size=1M"));
        assertEquals("Error parsing --disk: Unable to convert 1 for queue_affinity",
                error("path=/i,queue_affinity=1"));
    }

    @Test
    void badPciKeysAreReportedAsCommonPciConfig() {
        assertEquals("Error parsing common PCI device config: Unable to convert x for pci_segment",
                error("path=/i,pci_segment=x"));
        assertEquals("Error parsing common PCI device config: Unable to convert 256 for "
                + "pci_device_id", error("path=/i,pci_device_id=256"));
        assertEquals("Error parsing common PCI device config: Unable to convert maybe for iommu",
                error("path=/i,iommu=maybe"));
    }
}
