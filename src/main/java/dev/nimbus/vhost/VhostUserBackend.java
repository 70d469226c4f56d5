package dev.nimbus.vhost;

import static dev.nimbus.vhost.VhostUser.*;

import dev.nimbus.devices.virtio.Virtio;
import dev.nimbus.devices.virtio.VirtioActivation;
import dev.nimbus.devices.virtio.VirtioDevice;
import dev.nimbus.devices.virtio.VirtioException;
import dev.nimbus.devices.virtio.VirtioInterrupt;
import dev.nimbus.devices.virtio.VirtioQueue;
import dev.nimbus.devices.virtio.Virtqueue;
import dev.nimbus.devices.virtio.VirtqueueException;
import dev.nimbus.log.RateLimitedLog;
import dev.nimbus.sys.EventFd;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The back-end side of one vhost-user connection: answers the front-end's messages and runs a
 * {@link VirtioDevice} engine (the same class the VMM's own virtio-pci devices run) on the
 * memory and eventfds the front-end shares.
 *
 * <p>How the protocol maps onto the engine: SET_MEM_TABLE maps the front-end's memory as a
 * {@code GuestMemory}; a ring runs once it has a size, addresses and a kick descriptor and, when
 * VHOST_USER_F_PROTOCOL_FEATURES was negotiated, was enabled. Whenever the set of running rings
 * or the memory changes, the engine is reset and activated again with the running rings, each
 * resuming at the index it had (SET_VRING_BASE, or where the previous activation left it), so
 * rings start and stop one by one as the specification asks while the engine only knows
 * activate and reset. The ring's kick descriptor is the engine's notifier and its call
 * descriptor the used-buffer interrupt: requests and data never pass through this thread.
 *
 * <p>One instance serves one connection, on the calling thread ({@link #serve()}); any protocol
 * violation ends it with {@link VhostUserException}, after which the engine is reset and the
 * next connection gets a fresh instance.
 */
public final class VhostUserBackend implements AutoCloseable {
    private static final Logger LOG = System.getLogger(VhostUserBackend.class.getName());
    private static final RateLimitedLog DEVICE_ERRORS = new RateLimitedLog(LOG);

    /** The protocol features this back-end can speak; CONFIG only for devices that have one. */
    static final long SUPPORTED_PROTOCOL_FEATURES = bit(VHOST_USER_PROTOCOL_F_MQ)
            | bit(VHOST_USER_PROTOCOL_F_REPLY_ACK) | bit(VHOST_USER_PROTOCOL_F_CONFIG);

    private final VirtioDevice engine;
    private final VhostUserChannel channel;
    private final int[] maxSizes;
    private final long offeredFeatures;
    private final long offeredProtocolFeatures;
    private final Ring[] rings;
    private final VirtioInterrupt interrupt = new Interrupt();
    /** Call and error eventfds replaced while the engine may still signal them. */
    private final List<EventFd> retired = new ArrayList<>();

    private long ackedFeatures;
    private long ackedProtocolFeatures;
    private MemoryTable memory;
    private boolean engineActive;

    /** State of one ring, as the front-end set it. */
    private static final class Ring {
        int num;
        long descUva;
        long usedUva;
        long availUva;
        boolean addressed;
        int base;
        boolean enabled;
        EventFd kick;
        volatile EventFd call;
        volatile EventFd err;
        Virtqueue running;
    }

    /** A back-end running {@code engine} on {@code channel}. */
    public VhostUserBackend(VirtioDevice engine, VhostUserChannel channel) {
        this.engine = engine;
        this.channel = channel;
        this.maxSizes = engine.queueMaxSizes();
        this.offeredFeatures = engine.deviceFeatures() | bit(VHOST_USER_F_PROTOCOL_FEATURES);
        long protocol = SUPPORTED_PROTOCOL_FEATURES;
        if (engine.configSize() == 0) {
            protocol &= ~bit(VHOST_USER_PROTOCOL_F_CONFIG);
        }
        this.offeredProtocolFeatures = protocol;
        this.rings = new Ring[maxSizes.length];
        for (int i = 0; i < rings.length; i++) {
            rings[i] = new Ring();
        }
    }

    /** The virtio features the front-end acknowledged, without the vhost-user bit. */
    public long virtioFeatures() {
        return ackedFeatures & ~bit(VHOST_USER_F_PROTOCOL_FEATURES);
    }

    /**
     * Serves messages until the front-end closes the connection; returns normally then.
     *
     * @throws VhostUserException when the front-end broke the protocol; the connection is over
     */
    public void serve() throws VhostUserException {
        while (true) {
            VhostUserMessage m = channel.receive();
            if (m == null) {
                LOG.log(Level.INFO, () -> engine.id() + ": front-end disconnected");
                return;
            }
            handle(m);
        }
    }

    /** Handles one message; public for tests that drive the back-end directly. */
    void handle(VhostUserMessage m) throws VhostUserException {
        if (m.isReply()) {
            VhostUserChannel.closeAll(m.fds());
            throw new VhostUserException("Front-end sent a reply flag on " + m.name());
        }
        LOG.log(Level.DEBUG, () -> engine.id() + ": " + m.name() + " size="
                + m.payload().length + " fds=" + m.fds().length);
        boolean ok;
        try {
            ok = dispatch(m);
        } catch (VhostUserException | RuntimeException e) {
            VhostUserChannel.closeAll(m.fds());
            throw e;
        }
        if (m.needReply() && hasProtocolFeature(VHOST_USER_PROTOCOL_F_REPLY_ACK)
                && !hasOwnReply(m.request())) {
            channel.send(VhostUserMessage.replyU64(m.request(), ok ? 0 : 1));
        }
    }

    private static boolean hasOwnReply(int request) {
        return switch (request) {
            case VHOST_USER_GET_FEATURES, VHOST_USER_GET_PROTOCOL_FEATURES,
                    VHOST_USER_GET_VRING_BASE, VHOST_USER_GET_QUEUE_NUM,
                    VHOST_USER_GET_CONFIG -> true;
            default -> false;
        };
    }

    private boolean hasProtocolFeature(int bit) {
        return (ackedProtocolFeatures & VhostUser.bit(bit)) != 0;
    }

    /** Carries out one request; returns false for a request refused without ending the link. */
    private boolean dispatch(VhostUserMessage m) throws VhostUserException {
        switch (m.request()) {
            case VHOST_USER_GET_FEATURES -> {
                noFds(m);
                channel.send(VhostUserMessage.replyU64(m.request(), offeredFeatures));
            }
            case VHOST_USER_SET_FEATURES -> {
                noFds(m);
                long features = m.u64();
                if ((features & ~offeredFeatures) != 0) {
                    throw new VhostUserException(String.format(
                            "SET_FEATURES: features 0x%x not offered (offered 0x%x)", features,
                            offeredFeatures));
                }
                ackedFeatures = features;
                restartEngine();
            }
            case VHOST_USER_SET_OWNER -> noFds(m);
            case VHOST_USER_RESET_OWNER, VHOST_USER_RESET_DEVICE -> {
                noFds(m);
                resetRings();
            }
            case VHOST_USER_GET_PROTOCOL_FEATURES -> {
                noFds(m);
                channel.send(VhostUserMessage.replyU64(m.request(), offeredProtocolFeatures));
            }
            case VHOST_USER_SET_PROTOCOL_FEATURES -> {
                noFds(m);
                // A front-end may ask for features we did not offer; we speak only the overlap.
                ackedProtocolFeatures = m.u64() & offeredProtocolFeatures;
            }
            case VHOST_USER_GET_QUEUE_NUM -> {
                noFds(m);
                channel.send(VhostUserMessage.replyU64(m.request(), rings.length));
            }
            case VHOST_USER_SET_MEM_TABLE -> setMemTable(m);
            case VHOST_USER_SET_VRING_NUM -> {
                noFds(m);
                m.expectSize(VRING_STATE_SIZE);
                ByteBuffer b = m.body();
                Ring r = ring(b.getInt(0), m);
                int num = b.getInt(4);
                int index = b.getInt(0);
                if (num <= 0 || num > maxSizes[index] || Integer.bitCount(num) != 1) {
                    throw new VhostUserException(String.format(
                            "SET_VRING_NUM: ring %d size %d is not a power of two up to %d",
                            index, num, maxSizes[index]));
                }
                r.num = num;
                restartIfRunning(r);
            }
            case VHOST_USER_SET_VRING_ADDR -> {
                noFds(m);
                m.expectSize(VRING_ADDR_SIZE);
                ByteBuffer b = m.body();
                Ring r = ring(b.getInt(0), m);
                r.descUva = b.getLong(8);
                r.usedUva = b.getLong(16);
                r.availUva = b.getLong(24);
                r.addressed = true;
                restartIfRunning(r);
            }
            case VHOST_USER_SET_VRING_BASE -> {
                noFds(m);
                m.expectSize(VRING_STATE_SIZE);
                ByteBuffer b = m.body();
                Ring r = ring(b.getInt(0), m);
                r.base = b.getInt(4) & 0xFFFF;
                restartIfRunning(r);
            }
            case VHOST_USER_GET_VRING_BASE -> {
                noFds(m);
                m.expectSize(VRING_STATE_SIZE);
                int index = m.body().getInt(0);
                Ring r = ring(index, m);
                // The ring stops here (spec: "stop ring upon receiving GET_VRING_BASE").
                stopEngine();
                if (r.kick != null) {
                    r.kick.close();
                    r.kick = null;
                }
                startEngine();
                channel.send(VhostUserMessage.reply(m.request(),
                        VhostUserMessage.vringState(index, r.base)));
            }
            case VHOST_USER_SET_VRING_KICK -> {
                Ring r = ringOfFdMessage(m);
                EventFd kick = m.fds().length == 1 ? EventFd.adopt(m.fds()[0]) : null;
                if (kick == null) {
                    // TODO: rings without a kick descriptor must be polled; no front-end we
                    // serve (QEMU, Cloud Hypervisor, Nimbus) asks for that.
                    throw new VhostUserException("SET_VRING_KICK without a descriptor: polling"
                            + " mode is not supported");
                }
                stopEngine();
                if (r.kick != null) {
                    r.kick.close();
                }
                r.kick = kick;
                startEngine();
            }
            case VHOST_USER_SET_VRING_CALL -> {
                Ring r = ringOfFdMessage(m);
                EventFd old = r.call;
                r.call = m.fds().length == 1 ? EventFd.adopt(m.fds()[0]) : null;
                retire(old);
            }
            case VHOST_USER_SET_VRING_ERR -> {
                Ring r = ringOfFdMessage(m);
                EventFd old = r.err;
                r.err = m.fds().length == 1 ? EventFd.adopt(m.fds()[0]) : null;
                retire(old);
            }
            case VHOST_USER_SET_VRING_ENABLE -> {
                noFds(m);
                m.expectSize(VRING_STATE_SIZE);
                ByteBuffer b = m.body();
                Ring r = ring(b.getInt(0), m);
                boolean enable = b.getInt(4) != 0;
                if (enable != r.enabled) {
                    stopEngine();
                    r.enabled = enable;
                    startEngine();
                }
            }
            case VHOST_USER_GET_CONFIG -> {
                noFds(m);
                channel.send(VhostUserMessage.reply(m.request(), getConfig(m)));
            }
            case VHOST_USER_SET_CONFIG -> {
                noFds(m);
                return setConfig(m);
            }
            case VHOST_USER_SET_BACKEND_REQ_FD, VHOST_USER_SET_LOG_FD, VHOST_USER_SET_LOG_BASE,
                    VHOST_USER_SET_VRING_ENDIAN, VHOST_USER_SEND_RARP, VHOST_USER_NET_SET_MTU,
                    VHOST_USER_SET_STATUS -> {
                // Features we never offer; a front-end that sends them anyway is told no.
                VhostUserChannel.closeAll(m.fds());
                DEVICE_ERRORS.log(Level.WARNING, () -> engine.id() + ": refused " + m.name()
                        + " (not offered)");
                return false;
            }
            default -> {
                VhostUserChannel.closeAll(m.fds());
                throw new VhostUserException("Unknown or unsupported request " + m.name()
                        + " size=" + m.payload().length);
            }
        }
        return true;
    }

    private static void noFds(VhostUserMessage m) throws VhostUserException {
        if (m.fds().length != 0) {
            throw new VhostUserException(m.name() + ": unexpected descriptors: count="
                    + m.fds().length);
        }
    }

    private Ring ring(int index, VhostUserMessage m) throws VhostUserException {
        if (index < 0 || index >= rings.length) {
            throw new VhostUserException(m.name() + ": ring index out of range: index="
                    + Integer.toUnsignedLong(index) + " rings=" + rings.length);
        }
        return rings[index];
    }

    /** The ring of a SET_VRING_KICK/CALL/ERR message, checking its descriptor count. */
    private Ring ringOfFdMessage(VhostUserMessage m) throws VhostUserException {
        long v = m.u64();
        boolean noFd = (v & VHOST_USER_VRING_NOFD_MASK) != 0;
        int expected = noFd ? 0 : 1;
        if (m.fds().length != expected) {
            throw new VhostUserException(String.format("%s: %d descriptors, expected %d",
                    m.name(), m.fds().length, expected));
        }
        if ((v & ~(VHOST_USER_VRING_IDX_MASK | VHOST_USER_VRING_NOFD_MASK)) != 0) {
            throw new VhostUserException(String.format("%s: reserved bits set: 0x%x", m.name(),
                    v));
        }
        return ring((int) (v & VHOST_USER_VRING_IDX_MASK), m);
    }

    private void setMemTable(VhostUserMessage m) throws VhostUserException {
        MemoryTable table = MemoryTable.map(m);
        stopEngine();
        if (memory != null) {
            memory.close();
        }
        memory = table;
        LOG.log(Level.DEBUG, () -> engine.id() + ": memory table " + table.regions());
        startEngine();
    }

    /** The range a GET_CONFIG or SET_CONFIG message names; refuses a malformed header. */
    private record ConfigRange(int offset, int size) {
        static ConfigRange of(VhostUserMessage m, String what) throws VhostUserException {
            if (m.payload().length < CONFIG_HEADER_SIZE) {
                throw new VhostUserException(what + ": payload too short: size="
                        + m.payload().length);
            }
            ByteBuffer b = m.body();
            int offset = b.getInt(0);
            int size = b.getInt(4);
            if (size < 0 || size > VHOST_USER_MAX_CONFIG_SIZE
                    || m.payload().length != CONFIG_HEADER_SIZE + size) {
                throw new VhostUserException(what + ": bad size="
                        + Integer.toUnsignedLong(size) + " payload=" + m.payload().length);
            }
            return new ConfigRange(offset, size);
        }

        boolean within(int configSize) {
            return offset >= 0 && (long) offset + size <= configSize;
        }
    }

    private byte[] getConfig(VhostUserMessage m) throws VhostUserException {
        ConfigRange range = ConfigRange.of(m, "GET_CONFIG");
        int offset = range.offset();
        int size = range.size();
        if (!range.within(engine.configSize())) {
            // The specification's way to fail: a reply without a payload.
            DEVICE_ERRORS.log(Level.WARNING, () -> String.format(
                    "%s: GET_CONFIG outside the configuration: offset=%s size=%d config=%d",
                    engine.id(), Integer.toUnsignedString(offset), size, engine.configSize()));
            return new byte[0];
        }
        byte[] reply = m.payload().clone();
        for (int i = 0; i < size; i++) {
            reply[CONFIG_HEADER_SIZE + i] = (byte) engine.readConfig(offset + i, 1);
        }
        return reply;
    }

    private boolean setConfig(VhostUserMessage m) throws VhostUserException {
        ConfigRange range = ConfigRange.of(m, "SET_CONFIG");
        int offset = range.offset();
        int size = range.size();
        if (!range.within(engine.configSize())) {
            return false;
        }
        // The engine takes driver-sized writes; write whole naturally sized pieces.
        int i = 0;
        while (i < size) {
            int n = size - i >= 4 && (offset + i) % 4 == 0 ? 4
                    : size - i >= 2 && (offset + i) % 2 == 0 ? 2 : 1;
            long value = 0;
            for (int k = n - 1; k >= 0; k--) {
                value = value << 8 | (m.payload()[CONFIG_HEADER_SIZE + i + k] & 0xFF);
            }
            engine.writeConfig(offset + i, n, value);
            i += n;
        }
        return true;
    }

    private void restartIfRunning(Ring r) throws VhostUserException {
        if (r.running != null) {
            restartEngine();
        }
    }

    private void restartEngine() throws VhostUserException {
        if (engineActive) {
            stopEngine();
            startEngine();
        }
    }

    /** Resets the engine and records where each running ring stopped. */
    private void stopEngine() {
        if (engineActive) {
            engine.reset();
            engineActive = false;
        }
        for (Ring r : rings) {
            if (r.running != null) {
                r.base = r.running.nextAvail();
                r.running = null;
            }
        }
        for (EventFd e : retired) {
            e.close();
        }
        retired.clear();
    }

    /** Activates the engine with every ring that may run now, if any. */
    private void startEngine() throws VhostUserException {
        if (memory == null || engineActive) {
            return;
        }
        boolean needEnable = (ackedFeatures & bit(VHOST_USER_F_PROTOCOL_FEATURES)) != 0;
        long features = virtioFeatures();
        List<VirtioQueue> queues = new ArrayList<>();
        for (int i = 0; i < rings.length; i++) {
            Ring r = rings[i];
            if (r.kick == null || !r.addressed || r.num == 0 || (needEnable && !r.enabled)) {
                continue;
            }
            try {
                Virtqueue vq = Virtqueue.create(engine.id() + " q" + i, memory.memory(), r.num,
                        maxSizes[i], memory.toGuestAddress(r.descUva),
                        memory.toGuestAddress(r.availUva), memory.toGuestAddress(r.usedUva),
                        features);
                vq.restoreIndices(r.base, vq.publishedUsedIndex());
                queues.add(new VirtioQueue(i, vq, r.kick));
            } catch (VirtqueueException e) {
                throw new VhostUserException("Ring " + i + " cannot be used: " + e.getMessage(),
                        e);
            }
        }
        if (queues.isEmpty()) {
            return;
        }
        try {
            engine.activate(new VirtioActivation(memory.memory(), features, queues, interrupt));
        } catch (VirtioException e) {
            // Rings start one by one; an engine that needs several (a network device's receive
            // and transmit queue) refuses until the front-end has started them all.
            LOG.log(Level.DEBUG, () -> engine.id() + ": not started with " + queues.size()
                    + " rings yet: " + e.getMessage());
            return;
        }
        engineActive = true;
        for (VirtioQueue q : queues) {
            rings[q.index()].running = q.queue();
            // Buffers made available before the ring (re)started carry no kick of their own.
            q.notifier().signal();
        }
        LOG.log(Level.DEBUG, () -> engine.id() + ": running " + queues.size() + " rings");
    }

    private void resetRings() {
        stopEngine();
        for (Ring r : rings) {
            closeRing(r);
        }
        ackedFeatures = 0;
    }

    private void retire(EventFd e) {
        if (e == null) {
            return;
        }
        if (engineActive) {
            retired.add(e);
        } else {
            e.close();
        }
    }

    private static void closeRing(Ring r) {
        for (EventFd e : new EventFd[] {r.kick, r.call, r.err}) {
            if (e != null) {
                e.close();
            }
        }
        r.kick = null;
        r.call = null;
        r.err = null;
        r.num = 0;
        r.addressed = false;
        r.base = 0;
        r.enabled = false;
    }

    /** Stops the engine and releases the connection's memory and descriptors. */
    @Override
    public void close() {
        resetRings();
        if (memory != null) {
            memory.close();
            memory = null;
        }
    }

    /** Interrupts go straight to the front-end's call eventfds. */
    private final class Interrupt implements VirtioInterrupt {
        @Override
        public void signalQueue(int queueIndex) {
            EventFd call = rings[queueIndex].call;
            if (call != null) {
                call.signal();
            }
        }

        @Override
        public void signalConfigChange() {
            // TODO: a configuration change (disk resize) needs the back-end request channel
            // (VHOST_USER_PROTOCOL_F_BACKEND_REQ, CONFIG_CHANGE_MSG), not offered yet.
            DEVICE_ERRORS.log(Level.WARNING, () -> engine.id()
                    + ": configuration change not sent: no back-end request channel");
        }

        @Override
        public void needsReset(String reason) {
            DEVICE_ERRORS.log(Level.WARNING, () -> engine.id() + ": device needs reset: "
                    + reason);
            for (Ring r : rings) {
                EventFd err = r.err;
                if (err != null) {
                    err.signal();
                }
            }
        }
    }

    /** Whether bit {@code n} of the features the front-end acknowledged is set. */
    boolean acked(int n) {
        return Virtio.has(ackedFeatures, n);
    }
}
