package dev.nimbus.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nimbus.sys.Ioctl;
import dev.nimbus.sys.Linux;
import dev.nimbus.vmm.config.IpAddress;
import dev.nimbus.vmm.config.MacAddress;
import dev.nimbus.vmm.config.NetConfig;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Real taps, each test in a network namespace of its own (needs root and /dev/net/tun). */
class TapTest {
    static final long TUNSETPERSIST = Ioctl.iow('T', 203, 4);

    private NetNamespace ns;

    @BeforeEach
    void namespace() throws Exception {
        ns = new NetNamespace();
    }

    @AfterEach
    void leave() {
        ns.close();
    }

    private static void closeAll(List<Tap> taps) {
        for (Tap t : taps) {
            t.close();
        }
    }

    @Test
    void createsAndConfiguresANewTap() throws Exception {
        String name = NetNamespace.uniqueName("nbt");
        NetConfig c = NetConfig.parse("tap=" + name + ",ip=10.201.0.1,mask=255.255.255.0,"
                + "host_mac=02:00:00:aa:bb:cc,mtu=1400");
        List<Tap> taps = ns.call(() -> Taps.open(c));
        try {
            assertEquals(1, taps.size());
            assertEquals(name, taps.get(0).name());
            ns.call(() -> {
                NetInterface i = new NetInterface(name);
                assertEquals(IpAddress.parse("10.201.0.1"), i.ipv4Address());
                assertEquals(IpAddress.parse("255.255.255.0"), i.ipv4Netmask());
                assertEquals(MacAddress.parse("02:00:00:aa:bb:cc"), i.hardwareAddress());
                assertEquals(1400, i.mtu());
                assertTrue((i.flags() & NetInterface.IFF_UP) != 0, "up");
                return null;
            });
            // All offloads a guest may accept are taken by a real tap.
            taps.get(0).setOffload(Tap.TUN_F_CSUM | Tap.TUN_F_TSO4 | Tap.TUN_F_TSO6
                    | Tap.TUN_F_TSO_ECN | Tap.TUN_F_UFO);
            taps.get(0).setOffload(0);
        } finally {
            closeAll(taps);
        }
        assertFalse(ns.call(() -> NetInterface.exists(name)), "a tap goes with its last fd");
    }

    @Test
    void withoutANameTheKernelPicksVmtapN() throws Exception {
        List<Tap> taps = ns.call(() -> Taps.open(NetConfig.parse("num_queues=2")));
        try {
            assertTrue(taps.get(0).name().startsWith("vmtap"), taps.get(0).name());
            assertTrue(ns.call(() -> NetInterface.exists(taps.get(0).name())));
            assertFalse(ns.call(() -> NetInterface.exists("nb-none")));
        } finally {
            closeAll(taps);
        }
    }

    @Test
    void anEmptyNameAlsoLetsTheKernelPick() throws Exception {
        // A request body may say "tap": "", which the command line cannot.
        NetConfig c = new NetConfig(null, "", null, null, null, null, null, 2, 256, false, null,
                null, List.of(), null, true, true, true);
        List<Tap> taps = ns.call(() -> Taps.open(c));
        try {
            assertTrue(taps.get(0).name().startsWith("vmtap"), taps.get(0).name());
        } finally {
            closeAll(taps);
        }
    }

    @Test
    void severalQueuePairsOpenAMultiQueueTap() throws Exception {
        String name = NetNamespace.uniqueName("nbm");
        List<Tap> taps = ns.call(() -> Taps.open(NetConfig.parse("tap=" + name
                + ",num_queues=6")));
        try {
            assertEquals(3, taps.size());
            for (Tap t : taps) {
                assertEquals(name, t.name());
            }
            assertNotEquals(taps.get(0).fd(), taps.get(1).fd());
        } finally {
            closeAll(taps);
        }
    }

    @Test
    void anExistingTapKeepsItsAddressAndMustMatchInQueues() throws Exception {
        String name = NetNamespace.uniqueName("nbe");
        // A persistent tap nobody has open, as `ip tuntap add` leaves one.
        ns.call(() -> {
            try (Tap t = Tap.open(name, false)) {
                Linux.ioctl(t.fd(), TUNSETPERSIST, 1, "ioctl TUNSETPERSIST");
                new NetInterface(name).setAddress(IpAddress.parse("10.201.1.1"),
                        IpAddress.parse("255.255.255.0"));
            }
            return null;
        });
        List<Tap> taps = ns.call(() -> Taps.open(NetConfig.parse("tap=" + name
                + ",ip=10.201.2.1,mask=255.255.255.0")));
        closeAll(taps);
        assertEquals(IpAddress.parse("10.201.1.1"),
                ns.call(() -> new NetInterface(name).ipv4Address()), "left as it was");
        assertTrue((ns.call(() -> new NetInterface(name).flags()) & NetInterface.IFF_UP) != 0);
        assertThrows(Exception.class, () -> ns.call(() -> Taps.open(
                NetConfig.parse("tap=" + name + ",num_queues=4"))), "a single-queue tap");
    }

    @Test
    void tapDescriptorsGivenByFdAreAdopted() throws Exception {
        String name = NetNamespace.uniqueName("nbf");
        Tap mine = ns.call(() -> Tap.open(name, false));
        try {
            NetConfig c = NetConfig.parse("mtu=1280").withFds(List.of(mine.fd()));
            List<Tap> taps = ns.call(() -> Taps.open(c));
            try {
                assertEquals(1, taps.size());
                assertEquals(name, taps.get(0).name());
                assertNotEquals(mine.fd(), taps.get(0).fd(), "a duplicate, the caller keeps its");
                assertEquals(1280, ns.call(() -> new NetInterface(name).mtu()));
            } finally {
                closeAll(taps);
            }
            assertTrue(ns.call(() -> NetInterface.exists(name)), "the caller's fd still holds it");
        } finally {
            mine.close();
        }
    }

    @Test
    void interfaceNamesAreChecked() {
        assertEquals("Interface name too long (max length is 15): a-name-much-too-long",
                assertThrows(IllegalArgumentException.class,
                        () -> Tap.open("a-name-much-too-long", false)).getMessage());
        assertEquals("Interface name is empty", assertThrows(IllegalArgumentException.class,
                () -> new NetInterface("")).getMessage());
        assertEquals("Interface name contains interior NUL byte: a\\0b",
                assertThrows(IllegalArgumentException.class,
                        () -> new NetInterface("a\0b")).getMessage());
        new NetInterface("fifteen-bytes-x");
        assertEquals("Number of queues (3) to virtio_net must be even and at least 2",
                assertThrows(IllegalArgumentException.class,
                        () -> Taps.queuePairs(NetConfig.parse("num_queues=3"))).getMessage());
        assertEquals(24, NetInterface.prefixLength(IpAddress.parse("255.255.255.0")));
        assertEquals(64, NetInterface.prefixLength(IpAddress.parse("ffff:ffff:ffff:ffff::")));
        assertThrows(IllegalArgumentException.class,
                () -> NetInterface.prefixLength(IpAddress.parse("255.0.255.0")));
    }

    @Test
    void ipv6AddressesUseThePrefixOfTheMask() throws Exception {
        String name = NetNamespace.uniqueName("nb6");
        List<Tap> taps = ns.call(() -> Taps.open(NetConfig.parse("tap=" + name
                + ",ip=fd00::1,mask=ffff:ffff:ffff:ffff::")));
        try {
            String inet6 = ns.call(() -> java.nio.file.Files.readString(
                    java.nio.file.Path.of("/proc/self/task/" + Linux.gettid()
                            + "/net/if_inet6")));
            assertTrue(inet6.lines().anyMatch(l -> l.startsWith("fd000000000000000000000000000001")
                    && l.contains(" 40 ") && l.endsWith(name)), inet6);
        } finally {
            closeAll(taps);
        }
    }
}
