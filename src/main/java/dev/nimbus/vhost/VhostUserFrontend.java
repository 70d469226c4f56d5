package dev.nimbus.vhost;

import static dev.nimbus.vhost.VhostUser.*;

import dev.nimbus.devices.virtio.VirtioActivation;
import dev.nimbus.devices.virtio.VirtioDevice;
import dev.nimbus.devices.virtio.VirtioException;
import dev.nimbus.devices.virtio.VirtioQueue;
import dev.nimbus.devices.virtio.Virtqueue;
import dev.nimbus.log.RateLimitedLog;
import dev.nimbus.memory.GuestMemory;
import dev.nimbus.memory.GuestRegion;
import dev.nimbus.sys.Epoll;
import dev.nimbus.sys.EventFd;
import dev.nimbus.sys.SyscallException;
import dev.nimbus.sys.Threads;
import dev.nimbus.sys.UnixSocket;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A virtio device whose engine runs in another process, a vhost-user back-end: the VMM keeps the
 * transport (virtio-pci registers, MSI-X) and forwards the rest. At activation it hands the
 * back-end the guest's memory (the memfd of each region, {@code --memory shared=on}), each
 * ring's addresses, the transport's notify eventfd as the ring's kick descriptor and the MSI-X
 * irqfd as its call descriptor; from then on requests, data, kicks and interrupts go between
 * guest and back-end without this process.
 *
 * <p>Interrupts: a queue's call descriptor is the irqfd of its MSI-X vector
 * ({@link dev.nimbus.devices.virtio.VirtioInterrupt#queueIrqfd}), so the back-end's interrupt
 * goes to KVM directly; the MSI-X table holds it back while the vector is masked. Where the
 * transport has no irqfd (MSI-X off, no vector) the call is an eventfd that one thread
 * ({@code <id>_call}) relays to {@link VirtioActivation#interrupt()}; that thread also turns the
 * error descriptors into DEVICE_NEEDS_RESET. TODO: a driver that moves a queue to another vector
 * after DRIVER_OK keeps the old vector's irqfd until the next activation.
 *
 * <p>The configuration space is read from the back-end once (GET_CONFIG) and cached; driver
 * writes go to the cache and to the back-end (SET_CONFIG).
 */
public final class VhostUserFrontend implements VirtioDevice {
    private static final Logger LOG = System.getLogger(VhostUserFrontend.class.getName());
    private static final RateLimitedLog ERRORS = new RateLimitedLog(LOG);
    private static final long WANTED_PROTOCOL_FEATURES = bit(VHOST_USER_PROTOCOL_F_MQ)
            | bit(VHOST_USER_PROTOCOL_F_REPLY_ACK) | bit(VHOST_USER_PROTOCOL_F_CONFIG);
    private static final long CONNECT_TIMEOUT_MILLIS = 10_000;

    private final String id;
    private final int type;
    private final VhostUserChannel channel;
    private final long backendFeatures;
    private final long protocolFeatures;
    private final long offeredFeatures;
    private final int[] queueSizes;
    private final byte[] config;
    private final boolean localConfig;
    private CallRelay relay;
    private int directCalls;
    private List<VirtioQueue> startedQueues = List.of();

    private VhostUserFrontend(String id, int type, VhostUserChannel channel, Options o)
            throws VhostUserException {
        long featureMask = o.featureMask();
        int numQueues = o.numQueues();
        int queueSize = o.queueSize();
        this.id = id;
        this.type = type;
        this.channel = channel;
        request(VHOST_USER_SET_OWNER, new byte[0]);
        this.backendFeatures = query(VHOST_USER_GET_FEATURES);
        long protocol = 0;
        if ((backendFeatures & bit(VHOST_USER_F_PROTOCOL_FEATURES)) != 0) {
            protocol = query(VHOST_USER_GET_PROTOCOL_FEATURES) & WANTED_PROTOCOL_FEATURES;
            sendNoReply(VHOST_USER_SET_PROTOCOL_FEATURES, VhostUserMessage.u64(protocol));
        }
        this.protocolFeatures = protocol;
        if ((protocol & bit(VHOST_USER_PROTOCOL_F_MQ)) != 0) {
            long max = query(VHOST_USER_GET_QUEUE_NUM);
            if (max < numQueues) {
                throw new VhostUserException("Back-end has " + max + " queues, " + numQueues
                        + " wanted");
            }
        } else if (numQueues > 1 && type == dev.nimbus.devices.virtio.Virtio.VIRTIO_ID_BLOCK) {
            throw new VhostUserException("Back-end without multi-queue support, "
                    + numQueues + " queues wanted");
        }
        this.offeredFeatures = (backendFeatures & featureMask
                & ~bit(VHOST_USER_F_PROTOCOL_FEATURES)) | o.extraFeatures();
        this.queueSizes = new int[numQueues];
        java.util.Arrays.fill(queueSizes, queueSize);
        if (o.localConfig() != null) {
            this.config = o.localConfig().clone();
            this.localConfig = true;
        } else {
            this.config = new byte[o.configSize()];
            this.localConfig = false;
            if (config.length > 0 && (protocol & bit(VHOST_USER_PROTOCOL_F_CONFIG)) != 0) {
                byte[] got = getConfig(0, config.length);
                System.arraycopy(got, 0, config, 0, config.length);
            }
        }
    }

    /**
     * What the VMM asks of the back-end.
     *
     * @param featureMask the device features the VMM lets through to the guest
     * @param extraFeatures device features the VMM implements itself (e.g. the MAC of a
     *     network device whose configuration it keeps)
     * @param numQueues queues the guest gets
     * @param queueSize the largest size of each queue
     * @param configSize bytes of configuration space to fetch from the back-end (GET_CONFIG)
     * @param localConfig the configuration space the VMM serves itself instead, or null
     */
    public record Options(long featureMask, long extraFeatures, int numQueues, int queueSize,
            int configSize, byte[] localConfig) {}

    /**
     * Connects to the back-end listening on {@code socketPath} (Nimbus's {@code vhost_mode=client},
     * the default), retrying for up to ten seconds while the socket is not there yet, and
     * negotiates what can be negotiated before the guest runs.
     *
     * @param id the device id ({@code _disk0}, {@code _net1})
     * @param type the virtio device type
     */
    public static VhostUserFrontend connect(String id, int type, String socketPath,
            Options options) throws IOException {
        long deadline = System.nanoTime() + CONNECT_TIMEOUT_MILLIS * 1_000_000;
        UnixSocket socket;
        while (true) {
            try {
                socket = UnixSocket.connect(socketPath);
                break;
            } catch (SyscallException e) {
                if (System.nanoTime() > deadline) {
                    throw new IOException("Cannot connect to vhost-user back-end socket="
                            + socketPath + ": " + e.getMessage(), e);
                }
                sleep(50);
            }
        }
        return handshake(id, type, socket, options);
    }

    /** {@link #connect(String, int, String, Options)} with the back-end's own configuration. */
    public static VhostUserFrontend connect(String id, int type, String socketPath,
            long featureMask, int numQueues, int queueSize, int configSize) throws IOException {
        return connect(id, type, socketPath,
                new Options(featureMask, 0, numQueues, queueSize, configSize, null));
    }

    /**
     * Listens on {@code socketPath} and waits for the back-end to connect (Nimbus's
     * {@code vhost_mode=server}; the back-end runs with {@code client=on}).
     */
    public static VhostUserFrontend accept(String id, int type, String socketPath,
            Options options) throws IOException {
        Path p = Path.of(socketPath);
        if (Files.isRegularFile(p) || Files.isDirectory(p)) {
            throw new IOException("Not a socket, left alone: " + socketPath);
        }
        Files.deleteIfExists(p);
        UnixSocket socket;
        try (UnixSocket listener = UnixSocket.listen(socketPath, 1)) {
            socket = listener.accept();
        }
        if (socket == null) {
            throw new IOException("No vhost-user back-end connected to socket=" + socketPath);
        }
        return handshake(id, type, socket, options);
    }

    private static VhostUserFrontend handshake(String id, int type, UnixSocket socket,
            Options options) throws IOException {
        VhostUserChannel channel = new VhostUserChannel(socket);
        try {
            return new VhostUserFrontend(id, type, channel, options);
        } catch (VhostUserException | RuntimeException e) {
            channel.close();
            throw new IOException("vhost-user handshake with the back-end of " + id
                    + " failed: " + e.getMessage(), e);
        }
    }

    private static void sleep(long millis) throws IOException {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("Interrupted while connecting to a vhost-user back-end", e);
        }
    }

    // ---- messages ----

    private boolean replyAck() {
        return (protocolFeatures & bit(VHOST_USER_PROTOCOL_F_REPLY_ACK)) != 0;
    }

    private synchronized void sendNoReply(int request, byte[] payload, int... fds)
            throws VhostUserException {
        channel.send(VhostUserMessage.request(request, false, payload, fds));
    }

    /** Sends a request that has no reply of its own; waits for the ack when negotiated. */
    private synchronized void request(int request, byte[] payload, int... fds)
            throws VhostUserException {
        boolean ack = replyAck();
        channel.send(VhostUserMessage.request(request, ack, payload, fds));
        if (ack) {
            long status = awaitReply(request).u64();
            if (status != 0) {
                throw new VhostUserException("Back-end refused " + requestName(request)
                        + ": status=" + status);
            }
        }
    }

    /** Sends a GET request without payload and returns the u64 reply. */
    private synchronized long query(int request) throws VhostUserException {
        channel.send(VhostUserMessage.request(request, false, new byte[0]));
        return awaitReply(request).u64();
    }

    private VhostUserMessage awaitReply(int request) throws VhostUserException {
        VhostUserMessage reply = channel.receive();
        if (reply == null) {
            throw new VhostUserException("Back-end closed the connection before answering "
                    + requestName(request));
        }
        VhostUserChannel.closeAll(reply.fds());
        if (!reply.isReply() || reply.request() != request) {
            throw new VhostUserException("Back-end answered " + requestName(request) + " with "
                    + reply.name() + " flags=0x" + Integer.toHexString(reply.flags()));
        }
        return reply;
    }

    private synchronized byte[] getConfig(int offset, int size) throws VhostUserException {
        byte[] payload = new byte[CONFIG_HEADER_SIZE + size];
        ByteBuffer.wrap(payload).order(ByteOrder.LITTLE_ENDIAN).putInt(offset).putInt(size)
                .putInt(0);
        channel.send(VhostUserMessage.request(VHOST_USER_GET_CONFIG, false, payload));
        VhostUserMessage reply = awaitReply(VHOST_USER_GET_CONFIG);
        if (reply.payload().length != payload.length) {
            throw new VhostUserException("GET_CONFIG failed: reply size="
                    + reply.payload().length + " expected=" + payload.length);
        }
        byte[] data = new byte[size];
        System.arraycopy(reply.payload(), CONFIG_HEADER_SIZE, data, 0, size);
        return data;
    }

    // ---- VirtioDevice ----

    @Override
    public String id() {
        return id;
    }

    @Override
    public int deviceType() {
        return type;
    }

    @Override
    public long deviceFeatures() {
        return offeredFeatures;
    }

    @Override
    public int[] queueMaxSizes() {
        return queueSizes.clone();
    }

    @Override
    public int configSize() {
        return config.length;
    }

    @Override
    public synchronized long readConfig(int offset, int size) {
        long v = 0;
        for (int i = size - 1; i >= 0; i--) {
            int o = offset + i;
            v = v << 8 | (o < config.length ? config[o] & 0xFF : 0);
        }
        return v;
    }

    /**
     * Changes the cached configuration the guest reads, without telling the back-end: for
     * fields the VMM must bound (a block device's seg_max by the queue size the VMM chose).
     */
    public synchronized void overrideConfig(int offset, int size, long value) {
        for (int i = 0; i < size; i++) {
            config[offset + i] = (byte) (value >>> (8 * i));
        }
    }

    @Override
    public synchronized void writeConfig(int offset, int size, long value) {
        if (offset < 0 || offset + size > config.length) {
            return;
        }
        if (localConfig || (protocolFeatures & bit(VHOST_USER_PROTOCOL_F_CONFIG)) == 0) {
            // TODO: the VMM-kept configuration of a network device has no writable field the
            // drivers use; the back-end never sees such writes.
            return;
        }
        byte[] payload = new byte[CONFIG_HEADER_SIZE + size];
        ByteBuffer b = ByteBuffer.wrap(payload).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(offset).putInt(size).putInt(VHOST_SET_CONFIG_TYPE_FRONTEND);
        for (int i = 0; i < size; i++) {
            byte v = (byte) (value >>> (8 * i));
            config[offset + i] = v;
            payload[CONFIG_HEADER_SIZE + i] = v;
        }
        try {
            request(VHOST_USER_SET_CONFIG, payload);
        } catch (VhostUserException e) {
            ERRORS.log(Level.WARNING, () -> id + ": SET_CONFIG failed: " + e.getMessage());
        }
    }

    @Override
    public synchronized void activate(VirtioActivation activation) throws VirtioException {
        if (relay != null) {
            throw new IllegalStateException("Device " + id + " is already active");
        }
        GuestMemory memory = activation.memory();
        directCalls = 0;
        try {
            long features = activation.features();
            if (protocolFeatures != 0 || (backendFeatures
                    & bit(VHOST_USER_F_PROTOCOL_FEATURES)) != 0) {
                features |= bit(VHOST_USER_F_PROTOCOL_FEATURES);
            }
            request(VHOST_USER_SET_FEATURES, VhostUserMessage.u64(features));
            sendMemTable(memory);
            relay = new CallRelay(id, activation);
            for (VirtioQueue q : activation.queues()) {
                Virtqueue vq = q.queue();
                int i = q.index();
                request(VHOST_USER_SET_VRING_NUM, VhostUserMessage.vringState(i, vq.size()));
                request(VHOST_USER_SET_VRING_BASE, VhostUserMessage.vringState(i, 0));
                byte[] addr = new byte[VRING_ADDR_SIZE];
                ByteBuffer.wrap(addr).order(ByteOrder.LITTLE_ENDIAN).putInt(i).putInt(0)
                        .putLong(hva(memory, vq.descGpa())).putLong(hva(memory, vq.usedGpa()))
                        .putLong(hva(memory, vq.availGpa())).putLong(0);
                request(VHOST_USER_SET_VRING_ADDR, addr);
                request(VHOST_USER_SET_VRING_KICK, VhostUserMessage.u64(i), q.notifier().fd());
                // The MSI-X vector's irqfd when the transport has one: the back-end's
                // interrupt then reaches KVM without this process. Otherwise the relay.
                EventFd irqfd = activation.interrupt().queueIrqfd(i);
                if (irqfd != null) {
                    directCalls++;
                }
                request(VHOST_USER_SET_VRING_CALL, VhostUserMessage.u64(i),
                        irqfd != null ? irqfd.fd() : relay.call(i).fd());
                request(VHOST_USER_SET_VRING_ERR, VhostUserMessage.u64(i), relay.err(i).fd());
            }
            if ((features & bit(VHOST_USER_F_PROTOCOL_FEATURES)) != 0) {
                for (VirtioQueue q : activation.queues()) {
                    request(VHOST_USER_SET_VRING_ENABLE, VhostUserMessage.vringState(q.index(),
                            1));
                }
            }
            relay.start();
            startedQueues = activation.queues();
        } catch (VhostUserException | SyscallException e) {
            if (relay != null) {
                relay.close();
                relay = null;
            }
            throw new VirtioException("vhost-user back-end of " + id + " refused activation: "
                    + e.getMessage(), e);
        }
    }

    /** Queues whose call descriptor is the transport's irqfd (no relay) in this activation. */
    public synchronized int directCallQueues() {
        return directCalls;
    }

    private static long hva(GuestMemory memory, long gpa) {
        return memory.slice(gpa, 1).address();
    }

    private void sendMemTable(GuestMemory memory) throws VhostUserException {
        List<GuestRegion> regions = memory.regions();
        if (regions.size() > VHOST_MEMORY_BASELINE_NREGIONS) {
            throw new VhostUserException("Too many memory regions for SET_MEM_TABLE: "
                    + regions.size());
        }
        byte[] table = new byte[MEMORY_TABLE_HEADER_SIZE + regions.size() * MEMORY_REGION_SIZE];
        ByteBuffer b = ByteBuffer.wrap(table).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(regions.size()).putInt(0);
        int[] fds = new int[regions.size()];
        for (int i = 0; i < regions.size(); i++) {
            GuestRegion r = regions.get(i);
            if (r.fd() < 0) {
                throw new VhostUserException("Guest memory at gpa=0x" + Long.toHexString(r.gpa())
                        + " is not shareable: vhost-user needs --memory shared=on");
            }
            b.putLong(r.gpa()).putLong(r.size()).putLong(r.hva()).putLong(r.fdOffset());
            fds[i] = r.fd();
        }
        request(VHOST_USER_SET_MEM_TABLE, table, fds);
    }

    @Override
    public synchronized void reset() {
        if (relay == null) {
            return;
        }
        for (VirtioQueue q : startedQueues) {
            try {
                // Stops the ring in the back-end; the index it reports is not needed: a virtio
                // reset starts every ring from zero.
                channel.send(VhostUserMessage.request(VHOST_USER_GET_VRING_BASE, false,
                        VhostUserMessage.vringState(q.index(), 0)));
                awaitReply(VHOST_USER_GET_VRING_BASE);
            } catch (VhostUserException e) {
                ERRORS.log(Level.WARNING, () -> id + ": cannot stop ring " + q.index() + ": "
                        + e.getMessage());
                break;
            }
        }
        startedQueues = List.of();
        relay.close();
        relay = null;
    }

    @Override
    public void close() {
        reset();
        channel.shutdown();
        channel.close();
    }

    /**
     * The thread that turns the back-end's call (used buffers) and error eventfds into the
     * transport's interrupts.
     */
    private static final class CallRelay implements AutoCloseable {
        private final String name;
        private final VirtioActivation activation;
        private final EventFd[] calls;
        private final EventFd[] errs;
        private final EventFd stop;
        private final Epoll epoll;
        private Thread thread;

        CallRelay(String id, VirtioActivation activation) throws SyscallException {
            this.name = id + "_call";
            this.activation = activation;
            int n = 0;
            for (VirtioQueue q : activation.queues()) {
                n = Math.max(n, q.index() + 1);
            }
            this.calls = new EventFd[n];
            this.errs = new EventFd[n];
            this.stop = EventFd.create();
            this.epoll = Epoll.create();
            try {
                epoll.add(stop.fd(), Epoll.EPOLLIN, -1);
                for (VirtioQueue q : activation.queues()) {
                    int i = q.index();
                    calls[i] = EventFd.create();
                    errs[i] = EventFd.create();
                    epoll.add(calls[i].fd(), Epoll.EPOLLIN, i);
                    epoll.add(errs[i].fd(), Epoll.EPOLLIN, i | 0x1_0000L);
                }
            } catch (SyscallException e) {
                close();
                throw e;
            }
        }

        EventFd call(int i) {
            return calls[i];
        }

        EventFd err(int i) {
            return errs[i];
        }

        void start() {
            thread = Thread.ofPlatform().name(name).daemon().unstarted(this::loop);
            thread.start();
        }

        private void loop() {
            try (Epoll.Events events = new Epoll.Events(2 * calls.length + 1)) {
                while (true) {
                    int n = epoll.wait(events, -1);
                    for (int k = 0; k < n; k++) {
                        long data = events.data(k);
                        if (data < 0) {
                            return;
                        }
                        int i = (int) (data & 0xFFFF);
                        if ((data & 0x1_0000L) != 0) {
                            errs[i].read();
                            activation.interrupt().needsReset("vhost-user back-end reported an"
                                    + " error on ring " + i);
                        } else {
                            calls[i].read();
                            activation.interrupt().signalQueue(i);
                        }
                    }
                }
            } catch (SyscallException e) {
                LOG.log(Level.ERROR, () -> name + " stopped: " + e.getMessage());
            }
        }

        @Override
        public void close() {
            if (thread != null) {
                stop.signal();
                Threads.joinUninterruptibly(thread);
            }
            for (EventFd[] a : List.of(calls, errs)) {
                for (EventFd e : a) {
                    if (e != null) {
                        e.close();
                    }
                }
            }
            stop.close();
            epoll.close();
        }
    }
}
