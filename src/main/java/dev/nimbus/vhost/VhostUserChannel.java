package dev.nimbus.vhost;

import dev.nimbus.sys.Linux;
import dev.nimbus.sys.SyscallException;
import dev.nimbus.sys.UnixSocket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A vhost-user connection: framing of {@link VhostUserMessage}s on a Unix stream socket, the
 * descriptors riding along as {@code SCM_RIGHTS}. Used by both sides; one thread reads and
 * writes it at a time.
 */
public final class VhostUserChannel implements AutoCloseable {
    private final UnixSocket socket;

    public VhostUserChannel(UnixSocket socket) {
        this.socket = socket;
    }

    public UnixSocket socket() {
        return socket;
    }

    /**
     * Reads the next message; returns null at a clean end of stream (the peer closed between
     * messages).
     *
     * @throws VhostUserException if the peer sent a bad header, an oversized payload, or closed
     *     the connection in the middle of a message
     */
    public VhostUserMessage receive() throws VhostUserException {
        byte[] header = new byte[VhostUser.HEADER_SIZE];
        int[] fds = new int[0];
        try {
            int got = 0;
            while (got < header.length) {
                UnixSocket.Received r = socket.receive(header, got);
                fds = concat(fds, r.fds());
                if (r.length() == 0) {
                    closeAll(fds);
                    if (got == 0) {
                        return null;
                    }
                    throw new VhostUserException("Peer closed the connection inside a header");
                }
                got += r.length();
            }
            ByteBuffer h = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
            int request = h.getInt(0);
            int flags = h.getInt(4);
            int size = h.getInt(8);
            if ((flags & VhostUser.VHOST_USER_VERSION_MASK) != VhostUser.VHOST_USER_VERSION) {
                closeAll(fds);
                throw new VhostUserException(String.format(
                        "Unsupported vhost-user version: flags=0x%x request=%d", flags, request));
            }
            if (size < 0 || size > VhostUser.MAX_PAYLOAD) {
                closeAll(fds);
                throw new VhostUserException(String.format(
                        "Payload too large: size=%d request=%s", Integer.toUnsignedLong(size),
                        VhostUser.requestName(request)));
            }
            byte[] payload = new byte[size];
            got = 0;
            while (got < size) {
                UnixSocket.Received r = socket.receive(payload, got);
                fds = concat(fds, r.fds());
                if (r.length() == 0) {
                    closeAll(fds);
                    throw new VhostUserException("Peer closed the connection inside "
                            + VhostUser.requestName(request) + ": got=" + got + " size=" + size);
                }
                got += r.length();
            }
            return new VhostUserMessage(request, flags, payload, fds);
        } catch (SyscallException e) {
            closeAll(fds);
            throw new VhostUserException("Cannot read from the vhost-user socket", e);
        }
    }

    /** Sends {@code message} with its descriptors. */
    public void send(VhostUserMessage message) throws VhostUserException {
        byte[] payload = message.payload();
        byte[] buf = new byte[VhostUser.HEADER_SIZE + payload.length];
        ByteBuffer.wrap(buf).order(ByteOrder.LITTLE_ENDIAN)
                .putInt(message.request()).putInt(message.flags()).putInt(payload.length)
                .put(payload);
        try {
            socket.send(buf, 0, buf.length, message.fds());
        } catch (SyscallException e) {
            throw new VhostUserException("Cannot send " + message.name(), e);
        }
    }

    /** Wakes a thread blocked in {@link #receive()} (it sees end of stream). */
    public void shutdown() {
        socket.shutdown();
    }

    @Override
    public void close() {
        socket.close();
    }

    /** Closes descriptors a message brought that nobody keeps. */
    public static void closeAll(int[] fds) {
        for (int fd : fds) {
            Linux.close(fd);
        }
    }

    private static int[] concat(int[] a, int[] b) {
        if (b.length == 0) {
            return a;
        }
        int[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
