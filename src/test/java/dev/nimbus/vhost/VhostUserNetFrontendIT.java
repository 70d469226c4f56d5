package dev.nimbus.vhost;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nimbus.devices.virtio.RecordingInterrupt;
import dev.nimbus.devices.virtio.Virtio;
import dev.nimbus.devices.virtio.VirtioActivation;
import dev.nimbus.devices.virtio.VirtioQueue;
import dev.nimbus.devices.virtio.VirtqueueBuilder;
import dev.nimbus.memory.GuestMemory;
import dev.nimbus.sys.EventFd;
import dev.nimbus.vmm.config.MacAddress;
import dev.nimbus.vmm.config.NetConfig;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Nimbus's vhost-user-net front-end ({@code --net vhost_user=on}) against
 * {@code bin/nimbus-vhost-user-net} in a network namespace of the test's own, in both
 * directions of the connection ({@code vhost_mode=client} with a listening back-end,
 * {@code vhost_mode=server} with {@code client=on}). The test plays the guest's driver: it sends
 * an ARP request for the tap's address on the transmit queue and finds the host kernel's reply
 * in a receive buffer, with an interrupt for it.
 */
class VhostUserNetFrontendIT {
    private static final long TIMEOUT = 10_000;
    private static final int VNET_HDR = 12;
    private static final byte[] GUEST_MAC = {0x52, 0x54, 0, 0x12, 0x34, 0x56};
    private static final byte[] GUEST_IP = {(byte) 192, 0, 2, 2};
    private static final byte[] HOST_IP = {(byte) 192, 0, 2, 1};

    @TempDir
    Path dir;
    private TestNetns namespace;
    private String netns;
    private String tap;

    @BeforeEach
    void namespace() throws Exception {
        namespace = TestNetns.create("nimbus-vf", "vftap");
        netns = namespace.name();
        tap = namespace.tap();
    }

    @AfterEach
    void removeNamespace() throws Exception {
        namespace.close();
    }

    private String backendOptions(Path socket, boolean client) {
        return "ip=192.0.2.1,mask=255.255.255.0,socket=" + socket + ",tap=" + tap
                + (client ? ",client=on" : "");
    }

    @Test
    void clientModeFrontendGetsAnArpReplyFromTheBackendsTap() throws Exception {
        Path socket = dir.resolve("net.sock");
        try (BackendProcess backend = BackendProcess.start(netns, "nimbus-vhost-user-net",
                socket, dir.resolve("backend.log"), "--net-backend",
                backendOptions(socket, false))) {
            NetConfig net = NetConfig.parse("vhost_user=on,socket=" + socket + ",id=_net0");
            try (VhostUserFrontend frontend = VhostUserDevices.net(net,
                    MacAddress.parse("52:54:00:12:34:56"))) {
                exchangeArp(frontend, backend);
            }
        }
    }

    @Test
    void serverModeFrontendServesAClientModeBackendTwice() throws Exception {
        Path socket = dir.resolve("net.sock");
        try (BackendProcess backend = BackendProcess.start(netns, "nimbus-vhost-user-net",
                null, dir.resolve("backend.log"), "-v", "--net-backend",
                backendOptions(socket, true))) {
            NetConfig net = NetConfig.parse("vhost_user=on,socket=" + socket
                    + ",vhost_mode=server,id=_net0");
            for (int round = 0; round < 2; round++) {
                try (VhostUserFrontend frontend = VhostUserDevices.net(net,
                        MacAddress.parse("52:54:00:12:34:56"))) {
                    exchangeArp(frontend, backend);
                }
            }
            assertTrue(backend.log().contains("connection 2"), backend.log());
        }
    }

    private void exchangeArp(VhostUserFrontend frontend, BackendProcess backend)
            throws Exception {
        assertEquals(0x52, frontend.readConfig(0, 1), "the VMM's MAC in the configuration");
        assertTrue(Virtio.has(frontend.deviceFeatures(), VhostUserDevices.VIRTIO_NET_F_MAC));
        long features = Virtio.bit(Virtio.VIRTIO_F_VERSION_1);
        try (GuestMemory mem = GuestMemory.create(List.<long[]>of(new long[] {0, 4 << 20}),
                "vhost-net-test");
                EventFd rxKick = EventFd.create(); EventFd txKick = EventFd.create()) {
            VirtqueueBuilder rx = new VirtqueueBuilder(mem, 256, 0x10_0000, 0x10_0000);
            VirtqueueBuilder tx = new VirtqueueBuilder(mem, 256, 0x20_0000, 0x10_0000);
            RecordingInterrupt interrupt = new RecordingInterrupt();
            frontend.activate(new VirtioActivation(mem, features, List.of(
                    new VirtioQueue(0, rx.create(features), rxKick),
                    new VirtioQueue(1, tx.create(features), txKick)), interrupt));
            List<VirtqueueBuilder.Buf> buffers = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                VirtqueueBuilder.Buf b = rx.writable(2048);
                buffers.add(b);
                rx.add(b);
            }
            rxKick.signal();
            tx.add(tx.readable(arpRequest()));
            txKick.signal();
            assertEquals(1, tx.awaitUsed(1, TIMEOUT), "frame not sent; " + backend.log());

            long deadline = System.nanoTime() + TIMEOUT * 1_000_000;
            boolean replied = false;
            int seen = 0;
            while (!replied && System.nanoTime() < deadline) {
                int used = rx.usedIdx();
                for (; seen < used; seen++) {
                    int id = rx.usedId(seen);
                    int len = rx.usedLen(seen);
                    byte[] frame = mem.read(buffers.get(id).gpa(), len);
                    replied |= isArpReplyForUs(frame);
                }
                Thread.sleep(10);
            }
            assertTrue(replied, "no ARP reply among " + seen + " frames; " + backend.log());
            assertTrue(interrupt.awaitQueueSignals(0, 1, TIMEOUT), "no receive interrupt");
            frontend.reset();
        }
    }

    /** A virtio-net header (no offloads) and an Ethernet ARP request for the host's address. */
    private static byte[] arpRequest() {
        ByteBuffer b = ByteBuffer.allocate(VNET_HDR + 42);
        b.position(VNET_HDR);
        b.put(new byte[] {-1, -1, -1, -1, -1, -1}).put(GUEST_MAC).putShort((short) 0x0806);
        b.putShort((short) 1).putShort((short) 0x0800).put((byte) 6).put((byte) 4)
                .putShort((short) 1).put(GUEST_MAC).put(GUEST_IP).put(new byte[6]).put(HOST_IP);
        return b.array();
    }

    private static boolean isArpReplyForUs(byte[] frame) {
        if (frame.length < VNET_HDR + 42) {
            return false;
        }
        ByteBuffer b = ByteBuffer.wrap(frame, VNET_HDR, frame.length - VNET_HDR).slice();
        if (b.getShort(12) != 0x0806 || b.getShort(20) != 2) {
            return false;
        }
        byte[] spa = new byte[4];
        byte[] tha = new byte[6];
        b.get(28, spa);
        b.get(32, tha);
        return java.util.Arrays.equals(spa, HOST_IP) && java.util.Arrays.equals(tha, GUEST_MAC);
    }
}
