package dev.nimbus.vhost;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nimbus.devices.virtio.VirtioDevice;
import dev.nimbus.vmm.config.DiskConfig;
import dev.nimbus.vmm.config.ImageType;
import dev.nimbus.vmm.config.NetConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** The back-ends' command lines, with Cloud Hypervisor's option names and defaults. */
class BackendOptionsTest {
    @Test
    void blockBackendDefaultsAreCloudHypervisors() {
        BlockBackendOptions o = BlockBackendOptions.parse("path=/img,socket=/s.sock");
        assertEquals(new BlockBackendOptions("/img", "/s.sock", 1, 1024, false, false, true), o);
        DiskConfig d = o.toDiskConfig();
        assertEquals("/img", d.path());
        assertEquals(1024, d.queueSize());
        assertEquals(ImageType.RAW, d.imageType());
        assertEquals(BlockBackendOptions.ENGINE_ID, d.id());
    }

    @Test
    void blockBackendTakesEveryOptionAndPathsWithCommas() {
        BlockBackendOptions o = BlockBackendOptions.parse("path=\"/a,b.img\",socket=/s,"
                + "num_queues=4,queue_size=256,readonly=true,direct=on,poll_queue=false");
        assertEquals(new BlockBackendOptions("/a,b.img", "/s", 4, 256, true, true, false), o);
        DiskConfig d = o.toDiskConfig();
        assertEquals("/a,b.img", d.path());
        assertTrue(d.readonly());
        assertTrue(d.direct());
        assertEquals(4, d.numQueues());
    }

    @Test
    void blockBackendNeedsPathAndSocketAndKnownKeys() {
        assertThrows(IllegalArgumentException.class,
                () -> BlockBackendOptions.parse("socket=/s"));
        assertThrows(IllegalArgumentException.class,
                () -> BlockBackendOptions.parse("path=/img"));
        assertThrows(RuntimeException.class,
                () -> BlockBackendOptions.parse("path=/img,socket=/s,colour=blue"));
    }

    @Test
    void netBackendDefaultsAreCloudHypervisors() {
        NetBackendOptions o = NetBackendOptions.parse("socket=/n.sock");
        assertEquals("192.168.100.1", o.ip().toString());
        assertEquals("255.255.255.0", o.mask().toString());
        assertEquals(2, o.numQueues());
        assertEquals(256, o.queueSize());
        assertFalse(o.client());
        assertNull(o.tap());
        NetConfig n = o.toNetConfig();
        assertEquals(NetBackendOptions.ENGINE_ID, n.id());
        assertEquals(2, n.numQueues());
    }

    @Test
    void netBackendTakesEveryOption() {
        NetBackendOptions o = NetBackendOptions.parse("ip=10.9.8.1,mask=255.255.0.0,"
                + "mac=52:54:00:aa:bb:cc,host_mac=52:54:00:dd:ee:ff,mtu=1400,socket=/n,"
                + "client=on,num_queues=4,queue_size=512,tap=vu0");
        assertTrue(o.client());
        assertEquals(1400, o.mtu());
        assertEquals("vu0", o.tap());
        NetConfig n = o.toNetConfig();
        assertEquals("vu0", n.tap());
        assertEquals("52:54:00:aa:bb:cc", n.mac().toString());
        assertEquals("52:54:00:dd:ee:ff", n.hostMac().toString());
        assertEquals(4, n.numQueues());
        assertEquals(512, n.queueSize());
        assertEquals("10.9.8.1", n.ip().toString());
    }

    @Test
    void netBackendNeedsASocketAndWholeQueuePairs() {
        assertThrows(IllegalArgumentException.class, () -> NetBackendOptions.parse("tap=x"));
        assertThrows(IllegalArgumentException.class,
                () -> NetBackendOptions.parse("socket=/n,num_queues=3"));
    }

    @Test
    void daemonAnswersHelpAndRefusesUsageErrors() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Function<String, BackendDaemon.Options> never = option -> {
            BlockBackendOptions parsed = BlockBackendOptions.parse(option);
            return new BackendDaemon.Options() {
                @Override
                public VirtioDevice open() {
                    throw new AssertionError("must not open");
                }

                @Override
                public String socket() {
                    return parsed.socket();
                }
            };
        };
        PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8);
        assertEquals(0, BackendDaemon.run("p", "--block-backend", BlockBackendOptions.SYNTAX,
                never, new String[] {"--help"}, o, e));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("--block-backend"));
        assertEquals(2, BackendDaemon.run("p", "--block-backend", "", never, new String[0], o,
                e));
        assertEquals(2, BackendDaemon.run("p", "--block-backend", "", never,
                new String[] {"--bogus"}, o, e));
        assertEquals(1, BackendDaemon.run("p", "--block-backend", "", never,
                new String[] {"--block-backend", "socket=/s"}, o, e));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("No path provided"));
    }
}
