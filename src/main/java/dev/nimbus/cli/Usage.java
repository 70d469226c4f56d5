package dev.nimbus.cli;

/** The texts {@code --help} and {@code --version} print. */
public final class Usage {
    /** The program's name as it introduces itself. */
    public static final String PROGRAM = "nimbus";
    /** The release, kept equal to the Maven project version (a test checks it). */
    public static final String VERSION = "0.1.0";
    /** The build features, as {@code --version -v} lists them. */
    public static final String FEATURES = "[\"kvm\"]";

    private Usage() {}

    /**
     * The version text: {@code nimbus v0.1.0}, and with {@code -v} a second line listing the
     * enabled features. Tools that parse Cloud Hypervisor's version read the second word of the
     * first line.
     */
    public static String versionText(int verbosity) {
        String text = PROGRAM + " v" + VERSION + "\n";
        return verbosity > 0 ? text + "Enabled features: " + FEATURES + "\n" : text;
    }

    /** The help text. */
    public static String helpText() {
        return """
                Launch a virtual machine on KVM, or serve the Cloud Hypervisor API to create one.

                Usage: %s [OPTIONS]

                Payload (one of them starts a VM; without one only the API is served):
                      --kernel <path>        ELF kernel with a PVH note, or a bzImage
                      --firmware <path>      firmware image (not with --kernel)
                      --initramfs <path>     initial RAM disk for the kernel
                      --cmdline <string>     kernel command line

                VM (each needs a payload; values are key=value,... lists):
                      --cpus <keys>          boot=,max=,topology=T:C:D:P,kvm_hyperv=on|off,
                                             max_phys_bits=,affinity=[vcpu@[cpus],...],
                                             features=[amx],nested=on|off,
                                             core_scheduling=vm|vcpu|off
                                             (default boot=1,max_phys_bits=46)
                      --memory <keys>        size=,mergeable=,shared=,hugepages=,hugepage_size=,
                                             hotplug_method=acpi|virtio-mem,hotplug_size=,
                                             hotplugged_size=,prefault=,reserve=,thp=
                                             (default size=512M)
                      --disk <keys>...       path=,readonly=,direct=,num_queues=,queue_size=,
                                             vhost_user=,socket=,bw_size=,bw_one_time_burst=,
                                             bw_refill_time=,ops_size=,ops_one_time_burst=,
                                             ops_refill_time=,rate_limit_group=,serial=,
                                             queue_affinity=[queue@[cpus],...],backing_files=,
                                             sparse=,image_type=raw|qcow2|vhd|vhdx|vmdk,
                                             lock_granularity=byte-range|full
                      --net <keys>...        tap=,ip=,mask=,mac=,host_mac=,mtu=,num_queues=,
                                             queue_size=,vhost_user=,socket=,
                                             vhost_mode=client|server,fd=[fds],bw_*=,ops_*=,
                                             offload_tso=,offload_ufo=,offload_csum=
                      --rng <keys>           src= (default src=/dev/urandom)
                      --balloon <keys>       size=,deflate_on_oom=,free_page_reporting=
                      --fs <keys>...         tag=,socket=,num_queues=,queue_size=
                      --pmem <keys>...       file=,size=,discard_writes=
                      --vsock <keys>         cid=,socket=
                      --serial <mode>        off|null|pty|tty|file=<path>|socket=<path>
                                             (default null)
                      --console <mode>       off|null|pty|tty|file=<path> (default tty)
                      --debug-console <mode> off|null|pty|tty|file=<path>,iobase=0x<port>
                                             (default off,iobase=0xe9)
                    Every device but --serial and --debug-console also takes id=,
                    pci_segment=, pci_device_id= and, except --fs, iommu=on|off.
                    Sizes take K, M or G (powers of 1024); toggles take on|off|true|false.

                VMM:
                      --api-socket <path>    serve the HTTP API here: path=<path> or fd=<fd>
                      --event-monitor <to>   write events here: path=<path> or fd=<fd>
                      --log-file <path>      log here instead of standard error
                  -v                         log more: -v info, -vv debug, -vvv trace
                      --seccomp <action>     true|false|log|errno (default true)
                      --no-shutdown          keep running when the guest powers off
                  -V, --version              print the version and exit
                  -h, --help                 print this help and exit
                """.formatted(PROGRAM);
    }
}
