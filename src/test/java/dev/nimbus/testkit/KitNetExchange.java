package dev.nimbus.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BiFunction;
import java.util.function.Predicate;

/**
 * The host's side of the kit's virtio-net action over a {@link TapNetwork}: a packet socket in
 * the test's namespace takes the guest's frames, and once the guest says it listens, sends it
 * frames of its own. The assertions then hold both sides against each other: every frame
 * arrived whole and as the guest reported it, in both directions.
 */
public final class KitNetExchange implements AutoCloseable {
    /** The guest's MAC address, given to the VMM. */
    public static final String GUEST_MAC = "52:54:00:4b:49:54";
    public static final int GUEST_FRAMES = 5;
    public static final int HOST_FRAMES = 4;
    /** Host frames count from here, so they never look like the guest's. */
    public static final long HOST_SEQ_BASE = 1000;
    private static final Duration SLICE = Duration.ofMillis(100);
    private static final Duration STRAGGLERS = Duration.ofSeconds(5);
    private static final int[] HOST_PATTERN_LENGTHS = {0, 46, 700, KitFrame.MAX_PATTERN};

    private final TapNetwork network;
    private final PacketSocket socket;
    private final List<byte[]> fromGuest = new ArrayList<>();
    private final List<byte[]> toGuest = new ArrayList<>();

    private KitNetExchange(TapNetwork network, PacketSocket socket) {
        this.network = network;
        this.socket = socket;
    }

    /** Opens the namespace's socket; do this before the guest starts sending. */
    public static KitNetExchange open(TapNetwork network) throws IOException {
        return new KitNetExchange(network, network.openSocket(KitFrame.ETHERTYPE));
    }

    /** The guest's command line switches: frames go to the namespace's MAC. */
    public String cmdline() {
        return "kit.net.send=" + GUEST_FRAMES + " kit.net.recv=" + HOST_FRAMES
                + " kit.net.dst=" + network.peerMac();
    }

    /**
     * Receives the guest's frames until it says (in the report {@code await} reads, a VMM's
     * awaitReport) that it listens, then sends the host's frames. Returns early, sending
     * nothing, when the guest reports an error or finishes without listening.
     */
    public void run(BiFunction<Predicate<KitReport>, Duration, KitReport> await,
                    Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        KitReport r;
        while (true) {
            fromGuest.addAll(socket.receive(GUEST_FRAMES - fromGuest.size(), SLICE));
            r = await.apply(rep -> true, Duration.ZERO);
            if (listening(r) || !r.errors().isEmpty() || r.done()
                    || System.nanoTime() > deadline) {
                break;
            }
        }
        if (!listening(r)) {
            return;
        }
        // The guest sent all its frames before it listened; they are on their way.
        fromGuest.addAll(socket.receive(GUEST_FRAMES - fromGuest.size(), STRAGGLERS));
        for (int i = 0; i < HOST_FRAMES; i++) {
            byte[] f = KitFrame.build(GUEST_MAC, network.peerMac(), HOST_SEQ_BASE + i,
                    HOST_PATTERN_LENGTHS[i % HOST_PATTERN_LENGTHS.length]);
            toGuest.add(f);
            socket.send(f);
        }
    }

    private static boolean listening(KitReport r) {
        return !r.lines("VIRTIO-NET-LISTEN").isEmpty();
    }

    /** The guest's frames arrived whole, addressed as configured, as the guest reported them. */
    public void assertGuestToHost(KitReport r) {
        String why = r.toString();
        KitReport.Line net = r.require("VIRTIO-NET");
        assertEquals(GUEST_MAC, net.get("mac"), "MAC from the device's configuration");
        assertEquals("device", net.get("mac_source"), why);
        List<KitReport.Line> tx = r.lines("VIRTIO-NET-TX");
        assertEquals(GUEST_FRAMES, tx.size(), why);
        assertEquals(GUEST_FRAMES, fromGuest.size(), "frames the namespace received");
        Map<Long, byte[]> bySeq = new TreeMap<>();
        for (byte[] f : fromGuest) {
            KitFrame.Parsed p = KitFrame.parse(f).orElseThrow(
                    () -> new AssertionError("not a kit frame: " + f.length + " bytes"));
            assertTrue(p.intact(), "frame " + p.seq() + " arrived intact");
            assertEquals(GUEST_MAC, p.src(), "source MAC of frame " + p.seq());
            assertEquals(network.peerMac(), p.dst(), "destination MAC of frame " + p.seq());
            bySeq.put(p.seq(), f);
        }
        for (KitReport.Line l : tx) {
            byte[] f = bySeq.get(l.number("seq"));
            assertTrue(f != null, "frame " + l.get("seq") + " never arrived: " + l.raw());
            assertEquals(l.number("len"), f.length, l.raw());
            assertEquals(l.number("crc32"), KitFrame.crc32(f), l.raw());
            int plen = KitFrame.parse(f).orElseThrow().patternLength();
            assertEquals(KitFrame.guestPatternLength(l.number("seq")), plen, l.raw());
        }
    }

    /** The host's frames reached the guest whole and in order. */
    public void assertHostToGuest(KitReport r) {
        String why = r.toString();
        assertEquals(HOST_FRAMES, toGuest.size(), "the guest never listened: " + why);
        List<KitReport.Line> rx = r.lines("VIRTIO-NET-RX");
        assertEquals(HOST_FRAMES, rx.size(), why);
        for (int i = 0; i < HOST_FRAMES; i++) {
            KitReport.Line l = rx.get(i);
            byte[] sent = toGuest.get(i);
            assertEquals(HOST_SEQ_BASE + i, l.number("seq"), l.raw());
            assertTrue(l.flag("ok"), "the guest found frame " + l.get("seq") + " intact");
            assertEquals(sent.length, l.number("len"), l.raw());
            assertEquals(KitFrame.crc32(sent), l.number("crc32"), l.raw());
            assertEquals(network.peerMac(), l.get("src"), l.raw());
            assertEquals(GUEST_MAC, l.get("dst"), l.raw());
        }
        assertEquals(HOST_FRAMES, r.require("VIRTIO-NET-RX-DONE").number("received"), why);
    }

    /** Closes the socket; the network belongs to the caller. */
    @Override
    public void close() {
        socket.close();
    }
}
