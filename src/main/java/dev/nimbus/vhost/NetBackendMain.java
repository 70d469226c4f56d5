package dev.nimbus.vhost;

import dev.nimbus.devices.virtio.VirtioDevice;
import dev.nimbus.devices.virtio.net.VirtioNet;
import java.io.IOException;

/**
 * {@code nimbus-vhost-user-net}: a vhost-user-net back-end with Cloud Hypervisor's
 * {@code vhost_user_net} command line ({@code --net-backend ip=,mask=,socket=,tap=,...}),
 * running the VMM's own virtio-net engine on a tap it creates (or opens) with the host side's
 * address. It listens on the socket, or with {@code client=on} connects to a front-end that
 * listens, and serves one front-end after another until SIGTERM.
 */
public final class NetBackendMain {
    private NetBackendMain() {}

    public static void main(String[] args) {
        System.exit(BackendDaemon.run("nimbus-vhost-user-net", "--net-backend",
                NetBackendOptions.SYNTAX, new BackendDaemon.Factory<NetBackendOptions>() {
                    @Override
                    public NetBackendOptions parse(String option) {
                        return NetBackendOptions.parse(option);
                    }

                    @Override
                    public VirtioDevice open(NetBackendOptions o) throws IOException {
                        return VirtioNet.open(o.toNetConfig());
                    }

                    @Override
                    public String socket(NetBackendOptions o) {
                        return o.socket();
                    }

                    @Override
                    public boolean client(NetBackendOptions o) {
                        return o.client();
                    }
                }, args, System.out, System.err));
    }
}
