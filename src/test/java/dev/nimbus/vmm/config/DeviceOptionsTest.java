package dev.nimbus.vmm.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** The smaller device options: --rng, --balloon, --fs, --pmem, --vsock. */
class DeviceOptionsTest {

    private static String error(Executable e) {
        return assertThrows(ConfigException.class, e).getMessage();
    }

    @Test
    void rngDefaultsToUrandom() {
        assertEquals(RngConfig.DEFAULT, RngConfig.parse(""));
        assertEquals("/dev/urandom", RngConfig.parse("").src());
        assertEquals(new RngConfig("/dev/hwrng", new PciCommon("rng0", true, 0, null)),
                RngConfig.parse("src=/dev/hwrng,iommu=on,id=rng0"));
        assertEquals("Error parsing --rng: Unknown option: source",
                error(() -> RngConfig.parse("source=/dev/random")));
    }

    @Test
    void balloonReadsSizeAndToggles() {
        assertEquals(new BalloonConfig(PciCommon.DEFAULT, 0, false, false),
                BalloonConfig.parse(""));
        assertEquals(new BalloonConfig(new PciCommon("b", false, 0, null), 1L << 30, true, true),
                BalloonConfig.parse("size=1G,deflate_on_oom=on,free_page_reporting=on,id=b"));
        assertEquals("Error parsing --balloon: Unable to convert lots for size",
                error(() -> BalloonConfig.parse("size=lots")));
    }

    @Test
    void fsNeedsTagAndSocket() {
        assertEquals(new FsConfig(PciCommon.DEFAULT, "myfs", "/tmp/fs.sock", 1, 1024),
                FsConfig.parse("tag=myfs,socket=/tmp/fs.sock"));
        assertEquals(new FsConfig(new PciCommon("fs0", false, 1, null), "t", "/s", 2, 256),
                FsConfig.parse("tag=t,socket=/s,num_queues=2,queue_size=256,id=fs0,pci_segment=1"));
        assertEquals("Error parsing --fs: tag missing", error(() -> FsConfig.parse("socket=/s")));
        assertEquals("Error parsing --fs: socket missing", error(() -> FsConfig.parse("tag=t")));
        assertEquals("Error parsing --fs: max tag length is 36",
                error(() -> FsConfig.parse("tag=" + "x".repeat(37) + ",socket=/s")));
        assertEquals("x".repeat(36),
                FsConfig.parse("tag=" + "x".repeat(36) + ",socket=/s").tag());
    }

    @Test
    void fsCannotAskForTheIommu() {
        assertEquals("Error parsing --fs: Unknown option: iommu",
                error(() -> FsConfig.parse("tag=t,socket=/s,iommu=on")));
    }

    @Test
    void pmemNeedsAFile() {
        assertEquals(new PmemConfig(PciCommon.DEFAULT, "/img", null, false),
                PmemConfig.parse("file=/img"));
        assertEquals(new PmemConfig(new PciCommon("p0", true, 0, null), "/img", 128L << 20, true),
                PmemConfig.parse("file=/img,size=128M,discard_writes=on,iommu=on,id=p0"));
        assertEquals("Error parsing --pmem: file missing",
                error(() -> PmemConfig.parse("size=1M")));
    }

    @Test
    void vsockNeedsSocketThenCid() {
        assertEquals(new VsockConfig(PciCommon.DEFAULT, 3, "/tmp/vsock"),
                VsockConfig.parse("cid=3,socket=/tmp/vsock"));
        assertEquals(4294967295L, VsockConfig.parse("cid=4294967295,socket=/s").cid());
        assertEquals("Error parsing --vsock: socket missing",
                error(() -> VsockConfig.parse("cid=3")));
        assertEquals("Error parsing --vsock: cid missing",
                error(() -> VsockConfig.parse("socket=/s")));
        assertEquals("Error parsing --vsock: Unable to convert 4294967296 for cid",
                error(() -> VsockConfig.parse("cid=4294967296,socket=/s")));
    }
}
