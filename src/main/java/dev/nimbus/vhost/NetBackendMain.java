package dev.nimbus.vhost;

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
                NetBackendOptions.SYNTAX, NetBackendOptions::parse, args, System.out, System.err));
    }
}
