package dev.nimbus.vmm.config;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

class IpAddressTest {

    @Test
    void parsesIpv4Octets() {
        IpAddress a = IpAddress.parse("192.168.249.1");

        assertFalse(a.isIpv6());
        assertArrayEquals(new byte[] {(byte) 192, (byte) 168, (byte) 249, 1}, a.octets());
        assertEquals("192.168.249.1", a.toString());
        assertEquals("0.0.0.0", IpAddress.parse("0.0.0.0").toString());
    }

    @Test
    void refusesLooseIpv4Forms() {
        for (String bad : List.of("1.2.3", "1.2.3.4.5", "01.2.3.4", "256.1.1.1", "1..2.3",
                "1.2.3.4.", "a.b.c.d", "", "localhost", "1.2.3.+4")) {
            assertNull(IpAddress.parse(bad), bad);
        }
    }

    @Test
    void parsesIpv6FormsAndPrintsThemCanonically() throws Exception {
        String[][] cases = {
            {"::", "::"},
            {"::1", "::1"},
            {"1::", "1::"},
            {"fd00::1", "fd00::1"},
            {"FD00:0:0:0:0:0:0:1", "fd00::1"},
            {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
            {"2001:0db8:0000:0000:0000:ff00:0042:8329", "2001:db8::ff00:42:8329"},
            {"1:0:1:0:1:0:1:0", "1:0:1:0:1:0:1:0"},
            {"ffff:ffff:ffff:ffff::", "ffff:ffff:ffff:ffff::"},
            {"::ffff:1.2.3.4", "::ffff:102:304"},
        };
        for (String[] c : cases) {
            IpAddress a = IpAddress.parse(c[0]);
            assertTrue(a.isIpv6(), c[0]);
            assertEquals(c[1], a.toString(), c[0]);
            assertEquals(a, IpAddress.parse(c[1]), c[0]);
        }
        assertArrayEquals(InetAddress.getByName("2001:db8::ff00:42:8329").getAddress(),
                IpAddress.parse("2001:0db8:0000:0000:0000:ff00:0042:8329").octets());
    }

    @Test
    void refusesBadIpv6Forms() {
        for (String bad : List.of(":1", "1:", ":::", "1::2::3", "1:2:3:4:5:6:7:8:9",
                "::1:2:3:4:5:6:7:8", "12345::", "g::", "fe80::1%eth0", "[::1]",
                "1.2.3.4::", "1:2:3:4:5:6:7:1.2.3.4")) {
            assertNull(IpAddress.parse(bad), bad);
        }
    }

    @Test
    void equalityFollowsTheOctets() {
        assertEquals(IpAddress.parse("fd00::1"), IpAddress.parse("fd00:0::1"));
        assertEquals(IpAddress.parse("fd00::1").hashCode(),
                IpAddress.parse("fd00:0::1").hashCode());
        assertEquals(InetAddress.getLoopbackAddress(),
                IpAddress.parse("127.0.0.1").toInetAddress());
    }
}
