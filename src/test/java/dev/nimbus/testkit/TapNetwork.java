package dev.nimbus.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A tap device for a VMM, wired to a network namespace of the test's own:
 *
 * <pre>
 *   VMM ── tap ──┐
 *                bridge (host namespace, no address, no other port)
 *   veth host ───┘
 *       │
 *   veth peer ── in namespace nimbus-kit-XXXXXX, with a MAC of its own
 * </pre>
 *
 * The tap is an ordinary single-queue tap ({@code ip tuntap add mode tap}) that the VMM opens
 * by name. Nothing is connected to the host's own interfaces and no addresses are assigned:
 * frames only travel between the guest and the namespace. Every interface is created with
 * {@code addrgenmode none}, so the kernel sends no IPv6 traffic of its own on them. Needs root
 * (CAP_NET_ADMIN) and {@code ip} from iproute2.
 */
public final class TapNetwork implements AutoCloseable {
    private static final long COMMAND_TIMEOUT_SECONDS = 20;

    private final String suffix;
    private final String namespace;
    private final String tap;
    private final String bridge;
    private final String vethHost;
    private final String vethPeer;
    private final String peerMac;
    private final List<List<String>> undo = new ArrayList<>();

    private TapNetwork(String suffix) {
        this.suffix = suffix;
        this.namespace = "nimbus-kit-" + suffix;
        this.tap = "nkt" + suffix;
        this.bridge = "nkb" + suffix;
        this.vethHost = "nkh" + suffix;
        this.vethPeer = "nkn" + suffix;
        this.peerMac = "02:4e:4b:" + suffix.substring(0, 2) + ":" + suffix.substring(2, 4) + ":"
                + suffix.substring(4, 6);
    }

    /** Creates the namespace, tap, bridge and veth pair, all up; names get a random suffix. */
    public static TapNetwork create() {
        byte[] r = new byte[3];
        ThreadLocalRandom.current().nextBytes(r);
        TapNetwork n = new TapNetwork(HexFormat.of().formatHex(r));
        try {
            n.build();
        } catch (RuntimeException e) {
            n.close();
            throw e;
        }
        return n;
    }

    private void build() {
        ip("netns", "add", namespace);
        undo.add(List.of("netns", "del", namespace));
        ip("tuntap", "add", "dev", tap, "mode", "tap");
        undo.add(List.of("link", "del", tap));
        ip("link", "add", bridge, "type", "bridge");
        undo.add(List.of("link", "del", bridge));
        // The peer is created inside the namespace; deleting the namespace deletes both ends.
        ip("link", "add", vethHost, "type", "veth", "peer", "name", vethPeer, "netns", namespace);
        for (String dev : List.of(tap, bridge, vethHost)) {
            ip("link", "set", "dev", dev, "addrgenmode", "none");
        }
        ip("-n", namespace, "link", "set", "dev", vethPeer, "address", peerMac,
                "addrgenmode", "none");
        ip("link", "set", "dev", tap, "master", bridge);
        ip("link", "set", "dev", vethHost, "master", bridge);
        for (String dev : List.of(bridge, tap, vethHost)) {
            ip("link", "set", "dev", dev, "up");
        }
        ip("-n", namespace, "link", "set", "dev", vethPeer, "up");
    }

    /** The tap's name, for {@code --net tap=} or QEMU's {@code -netdev tap,ifname=}. */
    public String tap() {
        return tap;
    }

    /** The namespace's name under /run/netns. */
    public String namespace() {
        return namespace;
    }

    /** The interface inside the namespace. */
    public String peerInterface() {
        return vethPeer;
    }

    /** The MAC address of the interface inside the namespace. */
    public String peerMac() {
        return peerMac;
    }

    /** A packet socket inside the namespace, on its interface, for {@code ethertype}. */
    public PacketSocket openSocket(int ethertype) throws IOException {
        return PacketSocket.open(namespace, vethPeer, ethertype);
    }

    /** Removes what {@link #create} made, newest first; carries on past failures. */
    @Override
    public void close() {
        for (int i = undo.size() - 1; i >= 0; i--) {
            List<String> cmd = new ArrayList<>(List.of("ip"));
            cmd.addAll(undo.get(i));
            run(cmd, false);
        }
        undo.clear();
    }

    @Override
    public String toString() {
        return "TapNetwork[" + suffix + ": tap=" + tap + " bridge=" + bridge + " netns="
                + namespace + " peer=" + vethPeer + " " + peerMac + "]";
    }

    private static void ip(String... args) {
        List<String> cmd = new ArrayList<>(List.of("ip"));
        cmd.addAll(List.of(args));
        run(cmd, true);
    }

    private static String run(List<String> cmd, boolean check) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getOutputStream().close();
            boolean done = p.waitFor(COMMAND_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!done) {
                p.destroyForcibly();
            }
            if (check && (!done || p.exitValue() != 0)) {
                throw new IllegalStateException("command failed (needs root and iproute2): "
                        + String.join(" ", cmd) + "\n" + out);
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run: " + String.join(" ", cmd), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted: " + String.join(" ", cmd), e);
        }
    }
}
