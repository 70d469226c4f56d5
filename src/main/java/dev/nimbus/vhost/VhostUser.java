package dev.nimbus.vhost;

/**
 * Constants of the vhost-user protocol (QEMU's {@code docs/interop/vhost-user.rst}): message
 * header flags, front-end request codes, protocol feature bits and payload layouts, spelled as
 * the specification spells them.
 *
 * <p>Every message starts with a 12-byte header, native (little) endian:
 * <pre>
 * u32 request   the request code below
 * u32 flags     bits 0-1 version (1), bit 2 reply, bit 3 need_reply
 * u32 size      bytes of payload that follow
 * </pre>
 * File descriptors travel as {@code SCM_RIGHTS} ancillary data with the message.
 */
public final class VhostUser {
    public static final int HEADER_SIZE = 12;
    public static final int VHOST_USER_VERSION = 0x1;
    public static final int VHOST_USER_VERSION_MASK = 0x3;
    public static final int VHOST_USER_REPLY_MASK = 0x4;
    public static final int VHOST_USER_NEED_REPLY_MASK = 0x8;

    /**
     * The largest payload this implementation accepts: a memory table of
     * {@link #VHOST_MEMORY_BASELINE_NREGIONS} regions and a configuration message of
     * {@link #VHOST_USER_MAX_CONFIG_SIZE} bytes both fit with room to spare.
     */
    public static final int MAX_PAYLOAD = 4096;

    // Front-end message types.
    public static final int VHOST_USER_GET_FEATURES = 1;
    public static final int VHOST_USER_SET_FEATURES = 2;
    public static final int VHOST_USER_SET_OWNER = 3;
    public static final int VHOST_USER_RESET_OWNER = 4;
    public static final int VHOST_USER_SET_MEM_TABLE = 5;
    public static final int VHOST_USER_SET_LOG_BASE = 6;
    public static final int VHOST_USER_SET_LOG_FD = 7;
    public static final int VHOST_USER_SET_VRING_NUM = 8;
    public static final int VHOST_USER_SET_VRING_ADDR = 9;
    public static final int VHOST_USER_SET_VRING_BASE = 10;
    public static final int VHOST_USER_GET_VRING_BASE = 11;
    public static final int VHOST_USER_SET_VRING_KICK = 12;
    public static final int VHOST_USER_SET_VRING_CALL = 13;
    public static final int VHOST_USER_SET_VRING_ERR = 14;
    public static final int VHOST_USER_GET_PROTOCOL_FEATURES = 15;
    public static final int VHOST_USER_SET_PROTOCOL_FEATURES = 16;
    public static final int VHOST_USER_GET_QUEUE_NUM = 17;
    public static final int VHOST_USER_SET_VRING_ENABLE = 18;
    public static final int VHOST_USER_SEND_RARP = 19;
    public static final int VHOST_USER_NET_SET_MTU = 20;
    public static final int VHOST_USER_SET_BACKEND_REQ_FD = 21;
    public static final int VHOST_USER_IOTLB_MSG = 22;
    public static final int VHOST_USER_SET_VRING_ENDIAN = 23;
    public static final int VHOST_USER_GET_CONFIG = 24;
    public static final int VHOST_USER_SET_CONFIG = 25;
    public static final int VHOST_USER_GET_INFLIGHT_FD = 31;
    public static final int VHOST_USER_SET_INFLIGHT_FD = 32;
    public static final int VHOST_USER_RESET_DEVICE = 34;
    public static final int VHOST_USER_GET_MAX_MEM_SLOTS = 36;
    public static final int VHOST_USER_ADD_MEM_REG = 37;
    public static final int VHOST_USER_REM_MEM_REG = 38;
    public static final int VHOST_USER_SET_STATUS = 39;
    public static final int VHOST_USER_GET_STATUS = 40;

    /** Virtio feature bit that says the back-end speaks the protocol-feature messages. */
    public static final int VHOST_USER_F_PROTOCOL_FEATURES = 30;

    // Protocol feature bits.
    public static final int VHOST_USER_PROTOCOL_F_MQ = 0;
    public static final int VHOST_USER_PROTOCOL_F_LOG_SHMFD = 1;
    public static final int VHOST_USER_PROTOCOL_F_RARP = 2;
    public static final int VHOST_USER_PROTOCOL_F_REPLY_ACK = 3;
    public static final int VHOST_USER_PROTOCOL_F_MTU = 4;
    public static final int VHOST_USER_PROTOCOL_F_BACKEND_REQ = 5;
    public static final int VHOST_USER_PROTOCOL_F_CONFIG = 9;
    public static final int VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD = 12;
    public static final int VHOST_USER_PROTOCOL_F_RESET_DEVICE = 13;
    public static final int VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS = 15;
    public static final int VHOST_USER_PROTOCOL_F_STATUS = 16;

    /** The most regions SET_MEM_TABLE carries. */
    public static final int VHOST_MEMORY_BASELINE_NREGIONS = 8;
    /** struct VhostUserMemoryRegion: guest address, size, user address, mmap offset. */
    public static final int MEMORY_REGION_SIZE = 32;
    /** u32 nregions, u32 padding, then the regions. */
    public static final int MEMORY_TABLE_HEADER_SIZE = 8;
    /** struct vhost_vring_state: u32 index, u32 num. */
    public static final int VRING_STATE_SIZE = 8;
    /**
     * struct vhost_vring_addr: u32 index, u32 flags, u64 descriptor, used and available ring
     * user addresses (in that order), u64 log guest address.
     */
    public static final int VRING_ADDR_SIZE = 40;
    /** In the u64 of SET_VRING_KICK/CALL/ERR: bits 0-7 the ring, this bit set: no descriptor. */
    public static final long VHOST_USER_VRING_IDX_MASK = 0xFF;
    public static final long VHOST_USER_VRING_NOFD_MASK = 0x100;
    /** Configuration space message: u32 offset, u32 size, u32 flags, then up to 256 bytes. */
    public static final int CONFIG_HEADER_SIZE = 12;
    public static final int VHOST_USER_MAX_CONFIG_SIZE = 256;
    public static final int VHOST_SET_CONFIG_TYPE_FRONTEND = 0;

    private VhostUser() {}

    /** The request's name for logs, e.g. {@code SET_MEM_TABLE}, or {@code request=N}. */
    public static String requestName(int request) {
        return switch (request) {
            case VHOST_USER_GET_FEATURES -> "GET_FEATURES";
            case VHOST_USER_SET_FEATURES -> "SET_FEATURES";
            case VHOST_USER_SET_OWNER -> "SET_OWNER";
            case VHOST_USER_RESET_OWNER -> "RESET_OWNER";
            case VHOST_USER_SET_MEM_TABLE -> "SET_MEM_TABLE";
            case VHOST_USER_SET_LOG_BASE -> "SET_LOG_BASE";
            case VHOST_USER_SET_LOG_FD -> "SET_LOG_FD";
            case VHOST_USER_SET_VRING_NUM -> "SET_VRING_NUM";
            case VHOST_USER_SET_VRING_ADDR -> "SET_VRING_ADDR";
            case VHOST_USER_SET_VRING_BASE -> "SET_VRING_BASE";
            case VHOST_USER_GET_VRING_BASE -> "GET_VRING_BASE";
            case VHOST_USER_SET_VRING_KICK -> "SET_VRING_KICK";
            case VHOST_USER_SET_VRING_CALL -> "SET_VRING_CALL";
            case VHOST_USER_SET_VRING_ERR -> "SET_VRING_ERR";
            case VHOST_USER_GET_PROTOCOL_FEATURES -> "GET_PROTOCOL_FEATURES";
            case VHOST_USER_SET_PROTOCOL_FEATURES -> "SET_PROTOCOL_FEATURES";
            case VHOST_USER_GET_QUEUE_NUM -> "GET_QUEUE_NUM";
            case VHOST_USER_SET_VRING_ENABLE -> "SET_VRING_ENABLE";
            case VHOST_USER_SEND_RARP -> "SEND_RARP";
            case VHOST_USER_NET_SET_MTU -> "NET_SET_MTU";
            case VHOST_USER_SET_BACKEND_REQ_FD -> "SET_BACKEND_REQ_FD";
            case VHOST_USER_IOTLB_MSG -> "IOTLB_MSG";
            case VHOST_USER_SET_VRING_ENDIAN -> "SET_VRING_ENDIAN";
            case VHOST_USER_GET_CONFIG -> "GET_CONFIG";
            case VHOST_USER_SET_CONFIG -> "SET_CONFIG";
            case VHOST_USER_GET_INFLIGHT_FD -> "GET_INFLIGHT_FD";
            case VHOST_USER_SET_INFLIGHT_FD -> "SET_INFLIGHT_FD";
            case VHOST_USER_RESET_DEVICE -> "RESET_DEVICE";
            case VHOST_USER_GET_MAX_MEM_SLOTS -> "GET_MAX_MEM_SLOTS";
            case VHOST_USER_ADD_MEM_REG -> "ADD_MEM_REG";
            case VHOST_USER_REM_MEM_REG -> "REM_MEM_REG";
            case VHOST_USER_SET_STATUS -> "SET_STATUS";
            case VHOST_USER_GET_STATUS -> "GET_STATUS";
            default -> "request=" + request;
        };
    }

    /** The mask of bit {@code n}. */
    public static long bit(int n) {
        return 1L << n;
    }
}
