package dev.nimbus.vhost;

import dev.nimbus.devices.virtio.VirtioDevice;
import dev.nimbus.devices.virtio.block.VirtioBlock;
import java.io.IOException;

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
                BlockBackendOptions.SYNTAX, new BackendDaemon.Factory<BlockBackendOptions>() {
                    @Override
                    public BlockBackendOptions parse(String option) {
                        return BlockBackendOptions.parse(option);
                    }

                    @Override
                    public VirtioDevice open(BlockBackendOptions o) throws IOException {
                        return VirtioBlock.open(o.toDiskConfig());
                    }

                    @Override
                    public String socket(BlockBackendOptions o) {
                        return o.socket();
                    }

                    @Override
                    public boolean client(BlockBackendOptions o) {
                        return false;
                    }
                }, args, System.out, System.err));
    }
}
