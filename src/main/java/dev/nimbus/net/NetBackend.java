package dev.nimbus.net;

import dev.nimbus.sys.SyscallException;

/**
 * Where one virtio-net queue pair sends and receives frames: a tap queue ({@link Tap}), or in
 * tests one end of a socket pair. Its descriptor is non-blocking, each read(2) returns one whole
 * frame and each write(2) sends one, and every frame starts with a 12-byte
 * {@code struct virtio_net_hdr_v1} (the tap's {@code IFF_VNET_HDR} format).
 */
public interface NetBackend extends AutoCloseable {
    /** The descriptor to read frames from and write frames to. */
    int fd();

    /** A name for logs: the interface name of a tap. */
    String name();

    /**
     * Which offloads the reader handles, as {@code TUN_F_*} bits (TUNSETOFFLOAD): with
     * TUN_F_CSUM the backend may hand over frames with a partial checksum, with TSO/UFO bits
     * large segments. A backend without offloads ignores this.
     */
    void setOffload(int tunFlags) throws SyscallException;

    /** Closes the descriptor; harmless twice. */
    @Override
    void close();
}
