package dev.nimbus.vhost;

/**
 * {@code nimbus-vhost-user-blk}: a vhost-user-blk back-end with Cloud Hypervisor's
 * {@code vhost_user_block} command line ({@code --block-backend path=,socket=,...}), running
 * the VMM's own virtio-blk engine on a raw image. It listens on the socket and serves one
 * front-end after another until SIGTERM.
 */
public final class BlockBackendMain {
    private BlockBackendMain() {}

    public static void main(String[] args) {
        System.exit(BackendDaemon.run("nimbus-vhost-user-blk", "--block-backend",
                BlockBackendOptions.SYNTAX, BlockBackendOptions::parse, args, System.out, System.err));
    }
}
