package dev.nimbus.devices.virtio.net;

import dev.nimbus.devices.virtio.DescriptorChain;
import dev.nimbus.devices.virtio.VirtioQueue;
import dev.nimbus.devices.virtio.Virtqueue;
import dev.nimbus.devices.virtio.VirtqueueException;
import dev.nimbus.log.RateLimitedLog;
import dev.nimbus.net.NetBackend;
import dev.nimbus.sys.Epoll;
import dev.nimbus.sys.Errno;
import dev.nimbus.sys.IoVec;
import dev.nimbus.sys.SyscallException;
import java.lang.System.Logger.Level;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * One receive queue and one transmit queue (virtio 1.2, 5.1.6) and the backend they share, run
 * by one device thread.
 *
 * <p>Transmit: each chain is a virtio-net header and a frame in device-readable buffers, handed
 * to the backend with one writev(2) straight from guest memory. If the backend cannot take more
 * (EAGAIN), the chain waits and the thread waits for the backend to become writable.
 *
 * <p>Receive: a frame is read from the backend with one readv(2) straight into the next chain's
 * device-writable buffers, and only once the device holds such a chain: while the guest has no
 * buffers, frames stay queued in the backend (the tap's queue) instead of being read and lost.
 * The backend's readiness reaches the device thread through a private epoll instance whose
 * interest in the backend follows the device's state (readable only while it holds or can get a
 * receive buffer, writable only while a transmit waits), so a level-triggered backend never
 * spins the thread. A frame larger than the chain's buffers is dropped and the chain is kept for
 * the next one.
 */
final class NetQueuePair implements AutoCloseable {
    private static final RateLimitedLog FRAME_ERRORS =
            new RateLimitedLog(System.getLogger(NetQueuePair.class.getName()));

    /** sizeof(struct virtio_net_hdr_v1): VERSION_1 is always negotiated (5.1.6). */
    static final int VNET_HDR_SIZE = 12;
    /** Offset of {@code num_buffers} in the header. */
    static final int NUM_BUFFERS_OFFSET = 10;
    /**
     * Room behind the guest's buffers for a frame that does not fit them, so the read takes the
     * whole frame off the backend instead of leaving a truncated rest: a 64 KiB IP packet plus
     * Ethernet and VLAN headers.
     */
    static final int OVERFLOW_BYTES = 65_536 + 64;
    private static final byte[] ONE_BUFFER = {1, 0};

    private final VirtioNet device;
    private final int pair;
    private final NetBackend backend;
    private final VirtioQueue rx;
    private final VirtioQueue tx;
    private final NetCounters counters;
    private final Epoll epoll;
    private final Epoll.Events events = new Epoll.Events(4);
    private final IoVec rxIov = new IoVec(8);
    private final IoVec txIov = new IoVec(8);
    private final Arena arena = Arena.ofShared();
    private final MemorySegment overflow = arena.allocate(OVERFLOW_BYTES, 64);

    private DescriptorChain pendingRx;
    private DescriptorChain pendingTx;
    private boolean rxListening = true;
    private boolean txWaiting;
    private int interest = -1;
    private boolean backendGone;

    NetQueuePair(VirtioNet device, int pair, NetBackend backend, VirtioQueue rx, VirtioQueue tx,
            NetCounters counters) throws SyscallException {
        this.device = device;
        this.pair = pair;
        this.backend = backend;
        this.rx = rx;
        this.tx = tx;
        this.counters = counters;
        this.epoll = Epoll.create();
        try {
            epoll.add(backend.fd(), 0, 0);
            updateInterest();
        } catch (SyscallException e) {
            close();
            throw e;
        }
    }

    /** The descriptor the device thread waits on for backend readiness. */
    int readinessFd() {
        return epoll.fd();
    }

    /** The driver made receive buffers available: read whatever waits in the backend. */
    void onRxKick() throws VirtqueueException {
        rxListening = true;
        receive();
        updateInterest();
    }

    /** The driver queued frames to send. */
    void onTxKick() throws VirtqueueException {
        transmit();
        updateInterest();
    }

    /** The backend became readable or writable (or failed). */
    void onBackendReady() throws VirtqueueException {
        int n;
        try {
            n = epoll.wait(events, 0);
        } catch (SyscallException e) {
            throw new IllegalStateException("epoll_wait on the backend of pair " + pair, e);
        }
        int ready = 0;
        for (int i = 0; i < n; i++) {
            ready |= events.events(i);
        }
        if ((ready & Epoll.EPOLLOUT) != 0) {
            txWaiting = false;
            transmit();
        }
        if ((ready & Epoll.EPOLLIN) != 0) {
            receive();
        }
        if ((ready & (Epoll.EPOLLERR | Epoll.EPOLLHUP)) != 0 && (ready & Epoll.EPOLLIN) == 0) {
            lose("the backend reported an error or hang-up");
        }
        updateInterest();
    }

    // ---- receive ----

    private void receive() throws VirtqueueException {
        if (backendGone) {
            return;
        }
        Virtqueue vq = rx.queue();
        boolean used = false;
        while (true) {
            DescriptorChain chain = pendingRx;
            if (chain == null) {
                chain = vq.pop();
                if (chain == null) {
                    if (vq.enableNotification()) {
                        continue;
                    }
                    // No buffers: leave frames in the backend until the driver adds some.
                    rxListening = false;
                    break;
                }
                if (!usableRxChain(chain)) {
                    vq.addUsed(chain.head(), 0);
                    used = true;
                    continue;
                }
                pendingRx = chain;
            }
            rxIov.clear();
            for (MemorySegment s : chain.writable()) {
                rxIov.add(s);
            }
            rxIov.add(overflow);
            long n = rxIov.readv(backend.fd());
            if (n == -Errno.EAGAIN || n == -Errno.EINTR) {
                rxListening = true;
                break;
            }
            if (n <= 0) {
                lose(n == 0 ? "end of file" : "read failed: " + Errno.name((int) -n));
                break;
            }
            if (n > chain.writableLength() || n < VNET_HDR_SIZE) {
                // 5.1.6.3: without VIRTIO_NET_F_MRG_RXBUF a frame must fit one chain; this one
                // does not (or is not even a header). Drop it, keep the buffer for the next.
                long size = n;
                long room = chain.writableLength();
                counters.rxDropped.incrementAndGet();
                FRAME_ERRORS.log(Level.WARNING, () -> String.format("%s: dropped a received"
                        + " frame of %d bytes: the guest's buffer holds %d", device.id(), size,
                        room));
                continue;
            }
            // The backend leaves num_buffers alone (it is not part of the legacy header).
            chain.write(NUM_BUFFERS_OFFSET, ONE_BUFFER, 0, 2);
            vq.addUsed(chain.head(), (int) n);
            pendingRx = null;
            used = true;
            counters.rxFrames.incrementAndGet();
            counters.rxBytes.addAndGet(n - VNET_HDR_SIZE);
        }
        if (used) {
            device.notifyUsed(rx);
        }
    }

    /** A receive chain needs room for the header, only writable buffers and few enough. */
    private boolean usableRxChain(DescriptorChain chain) {
        String why = null;
        if (!chain.readable().isEmpty()) {
            why = "device-readable buffers in a receive chain";
        } else if (chain.writableLength() < VNET_HDR_SIZE) {
            why = "receive buffer shorter than the virtio-net header: len="
                    + chain.writableLength();
        } else if (chain.writable().size() >= IoVec.UIO_MAXIOV) {
            why = "receive chain of " + chain.writable().size() + " buffers";
        }
        if (why == null) {
            return true;
        }
        String reason = why;
        FRAME_ERRORS.log(Level.WARNING, () -> String.format("%s: returned receive chain head=%d"
                + " unused: %s", device.id(), chain.head(), reason));
        return false;
    }

    // ---- transmit ----

    private void transmit() throws VirtqueueException {
        if (txWaiting) {
            return;
        }
        Virtqueue vq = tx.queue();
        boolean used = false;
        do {
            while (true) {
                DescriptorChain chain = pendingTx != null ? pendingTx : vq.pop();
                if (chain == null) {
                    break;
                }
                pendingTx = null;
                if (!sendable(chain)) {
                    counters.txDropped.incrementAndGet();
                    vq.addUsed(chain.head(), 0);
                    used = true;
                    continue;
                }
                txIov.clear();
                for (MemorySegment s : chain.readable()) {
                    txIov.add(s);
                }
                long n = txIov.writev(backend.fd());
                if (n == -Errno.EAGAIN || n == -Errno.EINTR) {
                    pendingTx = chain;
                    txWaiting = true;
                    counters.txStalls.incrementAndGet();
                    if (used) {
                        device.notifyUsed(tx);
                    }
                    return;
                }
                if (n < 0) {
                    counters.txDropped.incrementAndGet();
                    FRAME_ERRORS.log(Level.WARNING, () -> String.format("%s: dropped a frame of"
                            + " %d bytes the backend %s refused: %s", device.id(),
                            chain.readableLength(), backend.name(), Errno.name((int) -n)));
                } else {
                    counters.txFrames.incrementAndGet();
                    counters.txBytes.addAndGet(Math.max(0, n - VNET_HDR_SIZE));
                }
                // Transmit buffers are only read: nothing written, used length 0 (2.7.8).
                vq.addUsed(chain.head(), 0);
                used = true;
            }
        } while (vq.enableNotification());
        if (used) {
            device.notifyUsed(tx);
        }
    }

    /** A frame to send has a header, only readable buffers, and a backend to go to. */
    private boolean sendable(DescriptorChain chain) {
        String why = null;
        if (backendGone) {
            why = "the backend is gone";
        } else if (!chain.writable().isEmpty()) {
            why = "device-writable buffers in a transmit chain";
        } else if (chain.readableLength() < VNET_HDR_SIZE) {
            why = "frame shorter than the virtio-net header: len=" + chain.readableLength();
        } else if (chain.readable().size() > IoVec.UIO_MAXIOV) {
            why = "transmit chain of " + chain.readable().size() + " buffers";
        }
        if (why == null) {
            return true;
        }
        String reason = why;
        FRAME_ERRORS.log(Level.WARNING, () -> String.format("%s: dropped transmit chain head=%d:"
                + " %s", device.id(), chain.head(), reason));
        return false;
    }

    // ---- backend interest ----

    private void updateInterest() {
        if (backendGone) {
            return;
        }
        int want = (rxListening ? Epoll.EPOLLIN : 0) | (txWaiting ? Epoll.EPOLLOUT : 0);
        if (want == interest) {
            return;
        }
        try {
            epoll.modify(backend.fd(), want, 0);
            interest = want;
        } catch (SyscallException e) {
            throw new IllegalStateException("Cannot watch the backend of pair " + pair, e);
        }
    }

    /** The backend is unusable: stop watching it; transmitted frames are dropped from now on. */
    private void lose(String why) {
        if (backendGone) {
            return;
        }
        backendGone = true;
        try {
            epoll.delete(backend.fd());
        } catch (SyscallException e) {
            // Already gone with its descriptor; nothing more to stop.
        }
        FRAME_ERRORS.log(Level.ERROR, () -> String.format("%s: backend %s of queue pair %d"
                + " stopped: %s", device.id(), backend.name(), pair, why));
    }

    @Override
    public void close() {
        epoll.close();
        events.close();
        rxIov.close();
        txIov.close();
        arena.close();
    }
}
