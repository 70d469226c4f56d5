package dev.nimbus.net;

import dev.nimbus.sys.SyscallException;
import dev.nimbus.vmm.config.NetConfig;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Opens the tap queues a {@code --net} option asks for, one per queue pair: adopts the
 * descriptors given with {@code fd=}, or opens (creating if needed) the interface named by
 * {@code tap=} ({@code vmtapN} when empty) and configures a new one with {@code ip}, {@code mask},
 * {@code host_mac} and {@code mtu}, then brings it up.
 */
public final class Taps {
    private static final Logger LOG = System.getLogger(Taps.class.getName());

    private Taps() {}

    /** Queue pairs of {@code config}: one per descriptor given, else half the queues. */
    public static int queuePairs(NetConfig config) {
        if (!config.fds().isEmpty()) {
            return config.fds().size();
        }
        // The configuration is validated for this before a tap is opened.
        if (config.numQueues() < 2 || config.numQueues() % 2 != 0) {
            throw new IllegalArgumentException("Number of queues (" + config.numQueues()
                    + ") to virtio_net must be even and at least 2");
        }
        return config.numQueues() / 2;
    }

    /** The tap queues for {@code config}, in queue pair order. */
    public static List<Tap> open(NetConfig config) throws IOException {
        int pairs = queuePairs(config);
        boolean multiQueue = pairs > 1;
        List<Tap> taps = new ArrayList<>(pairs);
        try {
            if (!config.fds().isEmpty()) {
                for (int fd : config.fds()) {
                    taps.add(Tap.fromFd(fd, multiQueue));
                }
                if (config.mtu() != null) {
                    new NetInterface(taps.get(0).name()).setMtu(config.mtu());
                }
                return taps;
            }
            // An empty name, as a request body may give, means no name: the kernel picks one.
            String name = config.tap() == null || config.tap().isEmpty() ? null : config.tap();
            boolean existed = name != null && !name.contains("%")
                    && NetInterface.exists(name);
            if (existed) {
                checkMultiQueue(name, multiQueue);
            }
            Tap first = Tap.open(name, multiQueue);
            taps.add(first);
            configure(new NetInterface(first.name()), config, existed);
            for (int i = 1; i < pairs; i++) {
                taps.add(Tap.open(first.name(), true));
            }
            return taps;
        } catch (IOException | RuntimeException e) {
            for (Tap t : taps) {
                t.close();
            }
            throw e;
        }
    }

    /** An existing tap must agree with the device on being multi-queue, or TUNSETIFF fails. */
    private static void checkMultiQueue(String name, boolean multiQueue) throws IOException {
        Path flagsFile = Path.of("/sys/class/net", name, "tun_flags");
        if (!Files.exists(flagsFile)) {
            return;
        }
        String text = Files.readString(flagsFile).trim();
        int flags = Integer.parseInt(text.startsWith("0x") ? text.substring(2) : text, 16);
        boolean tapMq = (flags & Tap.IFF_MULTI_QUEUE) != 0;
        if (tapMq && !multiQueue) {
            throw new IOException("Tap is multi-queue but the device has one queue pair: tap="
                    + name);
        }
        if (!tapMq && multiQueue) {
            throw new IOException("Tap is not multi-queue but the device has several queue"
                    + " pairs: tap=" + name);
        }
    }

    private static void configure(NetInterface iface, NetConfig config, boolean existed)
            throws SyscallException {
        if (existed) {
            if (config.ip() != null) {
                LOG.log(Level.WARNING, () -> "Tap " + iface.name() + " already exists: its IP"
                        + " configuration is left as it is");
            }
        } else if (config.ip() != null) {
            iface.setAddress(config.ip(), config.mask());
        }
        if (config.hostMac() != null && !config.hostMac().equals(iface.hardwareAddress())) {
            iface.setHardwareAddress(config.hostMac());
        }
        if (config.mtu() != null) {
            iface.setMtu(config.mtu());
        }
        iface.up();
    }
}
