package dev.nimbus.vmm.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class NetConfigTest {

    private static String error(String option) {
        return assertThrows(ConfigException.class, () -> NetConfig.parse(option)).getMessage();
    }

    @Test
    void emptyOptionTakesTheDefaults() {
        NetConfig n = NetConfig.parse("");

        assertEquals(2, n.numQueues());
        assertEquals(256, n.queueSize());
        assertEquals(VhostMode.CLIENT, n.vhostMode());
        assertEquals(true, n.offloadTso());
        assertEquals(true, n.offloadUfo());
        assertEquals(true, n.offloadCsum());
        assertEquals(List.of(), n.fds());
        assertNull(n.tap());
        assertNull(n.mac());
        assertNull(n.ip());
    }

    @Test
    void emptyValuesLeaveFieldsUnset() {
        assertEquals(NetConfig.parse(""), NetConfig.parse("tap=,mac=,ip=,mask="));
    }

    @Test
    void readsEveryKey() {
        NetConfig n = NetConfig.parse("tap=tap0,ip=192.168.249.1,mask=255.255.255.0,"
                + "mac=12:34:56:78:90:AB,host_mac=34:56:78:90:ab:cd,mtu=1500,num_queues=4,"
                + "queue_size=512,iommu=on,id=net9,vhost_mode=Server,fd=[3,4],"
                + "ops_size=100,ops_refill_time=10,offload_tso=off,offload_ufo=off,"
                + "offload_csum=off,pci_segment=1");

        assertEquals(new NetConfig(new PciCommon("net9", true, 1, null), "tap0",
                IpAddress.parse("192.168.249.1"), IpAddress.parse("255.255.255.0"),
                MacAddress.parse("12:34:56:78:90:ab"), MacAddress.parse("34:56:78:90:ab:cd"), 1500,
                4, 512, false, null, VhostMode.SERVER, List.of(3, 4),
                new RateLimiterConfig(null, new TokenBucket(100, 0L, 10)), false, false, false), n);
        assertEquals("12:34:56:78:90:ab", n.mac().toString());
    }

    @Test
    void vhostUserDeviceNamesItsSocket() {
        NetConfig n = NetConfig.parse("vhost_user=on,socket=/tmp/vu.sock,vhost_mode=client");

        assertEquals(true, n.vhostUser());
        assertEquals("/tmp/vu.sock", n.vhostSocket());
        assertEquals(VhostMode.CLIENT, n.vhostMode());
    }

    @Test
    void acceptsIpv6Addresses() {
        NetConfig n = NetConfig.parse("ip=fd00::1,mask=ffff:ffff:ffff:ffff::");

        assertEquals("fd00::1", n.ip().toString());
        assertEquals("ffff:ffff:ffff:ffff::", n.mask().toString());
    }

    @Test
    void badValuesNameTheKey() {
        assertEquals("Error parsing --net: Unable to convert 1.2.3 for ip", error("ip=1.2.3"));
        assertEquals("Error parsing --net: Unable to convert 01.2.3.4 for ip",
                error("ip=01.2.3.4"));
        assertEquals("Error parsing --net: Unable to convert localhost for ip",
                error("ip=localhost"));
        assertEquals("Error parsing --net: Unable to convert 12:34:56:78:90 for mac",
                error("mac=12:34:56:78:90"));
        assertEquals("Error parsing --net: Unable to convert 1:2:3:4:5:6 for host_mac",
                error("host_mac=1:2:3:4:5:6"));
        assertEquals("Error parsing --net: Unable to convert peer for vhost_mode",
                error("vhost_mode=peer"));
        assertEquals("Error parsing --net: Unable to convert [] for fd", error("fd=[]"));
        assertEquals("Error parsing --net: Unable to convert 70000 for mtu", error("mtu=70000"));
        assertEquals("Error parsing --net: Unknown option: fds", error("fds=[3]"));
    }

    @Test
    void withFdsAndWithMacKeepTheRest() {
        NetConfig n = NetConfig.parse("tap=tap0,id=n0");
        MacAddress mac = MacAddress.parse("2e:00:00:00:00:01");

        assertEquals(List.of(7, 8), n.withFds(List.of(7, 8)).fds());
        assertEquals(mac, n.withMac(mac).mac());
        assertEquals("tap0", n.withMac(mac).withFds(List.of(7, 8)).tap());
        assertEquals("n1", n.withId("n1").id());
    }
}
