package dev.nimbus.devices.virtio.net;

import static dev.nimbus.devices.virtio.DeviceHarness.TIMEOUT_MILLIS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nimbus.devices.virtio.DeviceHarness;
import dev.nimbus.devices.virtio.VirtqueueBuilder;
import dev.nimbus.devices.virtio.VirtqueueBuilder.Buf;
import dev.nimbus.net.Arp;
import dev.nimbus.net.Frames;
import dev.nimbus.net.NetInterface;
import dev.nimbus.net.NetNamespace;
import dev.nimbus.vmm.config.IpAddress;
import dev.nimbus.vmm.config.MacAddress;
import dev.nimbus.vmm.config.NetConfig;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The engine on a real tap: the tap and a UDP socket live in a private network namespace, the
 * test plays the guest driver. Frames the guest sends must reach the socket, datagrams the
 * socket sends must land in the guest's receive buffers.
 */
class VirtioNetTapTest {
    static final IpAddress HOST = IpAddress.parse("10.202.0.1");
    static final IpAddress GUEST = IpAddress.parse("10.202.0.2");
    static final MacAddress GUEST_MAC = MacAddress.parse("52:54:00:12:34:56");
    static final int PORT = 5555;

    private NetNamespace ns;
    private VirtioNet device;
    private DeviceHarness harness;
    private DatagramChannel socket;
    private MacAddress tapMac;

    @BeforeEach
    void setUp() throws Exception {
        ns = new NetNamespace();
        String name = NetNamespace.uniqueName("nbv");
        NetConfig config = NetConfig.parse("id=_net0,queue_size=64,tap=" + name + ",ip=" + HOST
                + ",mask=255.255.255.0,mac=" + GUEST_MAC);
        device = ns.call(() -> VirtioNet.open(config));
        tapMac = ns.call(() -> {
            Arp.setPermanent(name, GUEST, GUEST_MAC);
            socket = DatagramChannel.open();
            socket.setOption(StandardSocketOptions.SO_RCVBUF, 1 << 20);
            socket.bind(new InetSocketAddress(HOST.toInetAddress(), PORT));
            return new NetInterface(name).hardwareAddress();
        });
        harness = new DeviceHarness(device, 64);
    }

    @AfterEach
    void tearDown() throws Exception {
        harness.close(); // closes the device and its tap
        socket.close();
        ns.close();
    }

    @Test
    void theDeviceTakesItsMacAndTheTapsMtu() throws Exception {
        assertEquals(GUEST_MAC, device.mac());
        assertEquals(1500, device.mtu());
        assertEquals(1500, device.readConfig(VirtioNet.CONFIG_MTU, 2));
        assertEquals(0x52, device.readConfig(VirtioNet.CONFIG_MAC, 1));
    }

    @Test
    void framesTheGuestSendsReachAHostSocket() throws Exception {
        harness.activate();
        VirtqueueBuilder tx = harness.ring(1);
        byte[] payload = "hello from the guest".getBytes(StandardCharsets.US_ASCII);
        tx.add(tx.readable(Frames.udp(GUEST_MAC, tapMac, GUEST, HOST, 4000, PORT, payload)));
        harness.kick(1);
        ByteBuffer got = ByteBuffer.allocate(2048);
        socket.configureBlocking(false);
        InetSocketAddress from = null;
        long deadline = System.nanoTime() + TIMEOUT_MILLIS * 1_000_000;
        while (from == null && System.nanoTime() < deadline) {
            from = (InetSocketAddress) socket.receive(got);
            if (from == null) {
                Thread.sleep(1);
            }
        }
        assertTrue(from != null, "the socket received the datagram");
        assertEquals(GUEST.toInetAddress(), from.getAddress());
        assertEquals(4000, from.getPort());
        assertArrayEquals(payload, Arrays.copyOf(got.array(), got.position()));
        assertEquals(1, harness.ring(1).awaitUsed(1, TIMEOUT_MILLIS));
        assertEquals(1, device.counters().txFrames());
    }

    /** Posts receive buffers, then waits for {@code count} UDP frames to {@code port}. */
    private List<byte[]> receiveUdp(int count, int port) throws Exception {
        VirtqueueBuilder rx = harness.ring(0);
        List<Buf> bufs = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            bufs.add(rx.writable(1526));
            rx.add(bufs.get(i));
        }
        harness.kick(0);
        List<byte[]> frames = new ArrayList<>();
        long deadline = System.nanoTime() + TIMEOUT_MILLIS * 1_000_000;
        int seen = 0;
        // The kernel also sends its own frames (IPv6 neighbour discovery): skip them.
        while (frames.size() < count && System.nanoTime() < deadline) {
            if (rx.usedIdx() == seen) {
                Thread.sleep(1);
                continue;
            }
            int head = rx.usedId(seen);
            int len = rx.usedLen(seen);
            seen++;
            byte[] f = harness.ram().memory().read(bufs.get(head).gpa(), len);
            if (Frames.udpDestinationPort(f, len) == port) {
                frames.add(f);
            }
        }
        assertEquals(count, frames.size(), "UDP frames received");
        return frames;
    }

    @Test
    void datagramsTheHostSendsLandInGuestBuffers() throws Exception {
        harness.activate();
        byte[] payload = "hello from the host".getBytes(StandardCharsets.US_ASCII);
        socket.send(ByteBuffer.wrap(payload), new InetSocketAddress(GUEST.toInetAddress(), 6000));
        byte[] f = receiveUdp(1, 6000).get(0);
        assertArrayEquals(GUEST_MAC.bytes(), Arrays.copyOfRange(f, 12, 18), "to the guest MAC");
        assertArrayEquals(payload, Arrays.copyOfRange(f, Frames.PAYLOAD, f.length));
        assertEquals(1, f[10], "num_buffers");
        assertTrue(device.counters().rxFrames() >= 1);
    }

    @Test
    void framesSentBeforeTheGuestHasBuffersAreNotLost() throws Exception {
        harness.activate();
        for (int i = 0; i < 5; i++) {
            socket.send(ByteBuffer.wrap(new byte[] {(byte) i}),
                    new InetSocketAddress(GUEST.toInetAddress(), 6001));
        }
        Thread.sleep(200);
        assertEquals(0, harness.ring(0).usedIdx(), "nothing to put them in yet");
        List<byte[]> frames = receiveUdp(5, 6001);
        for (int i = 0; i < 5; i++) {
            assertEquals(i, frames.get(i)[Frames.PAYLOAD], "in order");
        }
        assertEquals(0, device.counters().rxDropped());
    }
}
