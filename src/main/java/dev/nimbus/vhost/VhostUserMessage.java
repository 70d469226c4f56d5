package dev.nimbus.vhost;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * One vhost-user message: request code, header flags, payload and the descriptors that came with
 * it. The receiver owns {@link #fds()}: it closes every one it does not keep.
 *
 * @param request the request code ({@link VhostUser#VHOST_USER_GET_FEATURES}, ...)
 * @param flags the header flags (version, reply, need_reply)
 * @param payload the payload bytes, little-endian fields
 * @param fds descriptors from the message's ancillary data
 */
public record VhostUserMessage(int request, int flags, byte[] payload, int[] fds) {

    /** A request from the front-end (version 1) with the given payload and descriptors. */
    public static VhostUserMessage request(int request, boolean needReply, byte[] payload,
            int... fds) {
        int flags = VhostUser.VHOST_USER_VERSION
                | (needReply ? VhostUser.VHOST_USER_NEED_REPLY_MASK : 0);
        return new VhostUserMessage(request, flags, payload, fds);
    }

    /** The back-end's reply to {@code request}. */
    public static VhostUserMessage reply(int request, byte[] payload) {
        return new VhostUserMessage(request,
                VhostUser.VHOST_USER_VERSION | VhostUser.VHOST_USER_REPLY_MASK, payload,
                new int[0]);
    }

    /** A reply carrying one u64. */
    public static VhostUserMessage replyU64(int request, long value) {
        return reply(request, u64(value));
    }

    public boolean needReply() {
        return (flags & VhostUser.VHOST_USER_NEED_REPLY_MASK) != 0;
    }

    public boolean isReply() {
        return (flags & VhostUser.VHOST_USER_REPLY_MASK) != 0;
    }

    /** The request's name, for logs. */
    public String name() {
        return VhostUser.requestName(request);
    }

    /** The payload as a little-endian buffer. */
    public ByteBuffer body() {
        return ByteBuffer.wrap(payload).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The payload as the single u64 many requests carry. */
    public long u64() throws VhostUserException {
        expectSize(8);
        return body().getLong(0);
    }

    /** Fails unless the payload is exactly {@code size} bytes. */
    public void expectSize(int size) throws VhostUserException {
        if (payload.length != size) {
            throw new VhostUserException(String.format("%s: payload of %d bytes, expected %d",
                    name(), payload.length, size));
        }
    }

    /** Eight little-endian bytes. */
    public static byte[] u64(long value) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value).array();
    }

    /** A struct vhost_vring_state. */
    public static byte[] vringState(int index, int num) {
        return ByteBuffer.allocate(VhostUser.VRING_STATE_SIZE).order(ByteOrder.LITTLE_ENDIAN)
                .putInt(index).putInt(num).array();
    }
}
