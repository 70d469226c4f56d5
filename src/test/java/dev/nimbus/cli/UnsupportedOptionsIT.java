package dev.nimbus.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.nimbus.testkit.GuestKit;
import dev.nimbus.testkit.NimbusProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Options Cloud Hypervisor has and Nimbus parses but cannot carry out yet are refused with one
 * clear line and exit code 1, rather than accepted and silently ignored. Regression: the
 * firmware payload once ended in a NullPointerException and hugepages=on was ignored.
 */
class UnsupportedOptionsIT {
    static Stream<Arguments> cases() {
        String k = GuestKit.pvhGuest().toString();
        String disk = "path=" + emptyDisk() + ",image_type=raw";
        return Stream.of(
                Arguments.of(List.of("--firmware", k),
                        "nimbus: Booting firmware (--firmware) is not supported by Nimbus yet"),
                Arguments.of(List.of("--kernel", k, "--memory", "size=512M,hugepages=on"),
                        "nimbus: Guest memory on huge pages (--memory hugepages=on) is not"
                                + " supported by Nimbus yet"),
                Arguments.of(List.of("--kernel", k, "--memory", "size=512M,hotplug_size=1G"),
                        "nimbus: Memory hot-plug (--memory hotplug_size=) is not supported by"
                                + " Nimbus yet"),
                Arguments.of(List.of("--kernel", k, "--memory", "size=512M,mergeable=on"),
                        "nimbus: Mergeable guest memory (--memory mergeable=on) is not supported"
                                + " by Nimbus yet"),
                Arguments.of(List.of("--kernel", k, "--cpus", "boot=1,kvm_hyperv=on"),
                        "nimbus: Hyper-V enlightenments (--cpus kvm_hyperv=on) is not supported"
                                + " by Nimbus yet"),
                Arguments.of(List.of("--kernel", k, "--cpus", "boot=2,affinity=[0@[0],1@[1]]"),
                        "nimbus: vCPU affinity (--cpus affinity=) is not supported by Nimbus yet"),
                Arguments.of(List.of("--kernel", k, "--pmem", "file=/tmp/nimbus-pmem.img,size=1M"),
                        "nimbus: virtio-pmem (--pmem) is not supported by Nimbus yet"),
                Arguments.of(List.of("--kernel", k, "--disk", disk + ",iommu=on"),
                        "nimbus: virtio-iommu (iommu=on) is not supported by Nimbus yet"),
                Arguments.of(List.of("--kernel", k, "--disk",
                        disk + ",bw_size=1,bw_refill_time=1000"),
                        "nimbus: I/O rate limiting (rate_limit_group, bw_*, ops_*) is not"
                                + " supported by Nimbus yet"),
                Arguments.of(List.of("--kernel", k, "--disk", disk + ",queue_affinity=[0@[0]]"),
                        "nimbus: Virtqueue affinity (--disk queue_affinity=) is not supported by"
                                + " Nimbus yet"));
    }

    private static Path emptyDisk() {
        try {
            Path p = Files.createTempFile("nimbus-unsupported", ".img");
            p.toFile().deleteOnExit();
            Files.write(p, new byte[4096]);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("cases")
    void optionsNimbusCannotCarryOutAreRefused(List<String> args, String message) {
        List<String> all = new ArrayList<>(args);
        all.addAll(List.of("--serial", "null", "--console", "off"));
        NimbusProcess.Result r = NimbusProcess.run(Duration.ofSeconds(30),
                all.toArray(String[]::new));
        assertEquals(1, r.exitCode(), r.stderr());
        assertEquals(message, r.stderr().strip());
    }
}
