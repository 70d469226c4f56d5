package dev.nimbus.vhost;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nimbus.devices.virtio.rng.VirtioRng;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The back-end protocol against a real front-end and a real driver: QEMU's
 * {@code vhost-user-rng-pci} with Linux's virtio-rng driver, served by Nimbus's back-end running
 * the VMM's own virtio-rng engine in this JVM.
 */
class VhostUserRngLinuxIT {
    private static final Duration BOOT = Duration.ofMinutes(4);

    @Test
    void linuxReadsEntropyFromTheBackendThroughQemu() throws Exception {
        String script = """
                cat /sys/class/misc/hw_random/rng_current
                n=$(dd if=/dev/hwrng bs=4096 count=4 2>/dev/null | wc -c)
                echo "RNG-BYTES n=$n"
                """;
        try (BackendFixture backend = new BackendFixture(
                new VirtioRng("__rng_backend", VirtioRng.DEFAULT_SOURCE));
                TcgLinuxGuest guest = TcgLinuxGuest.boot(1, 256, Map.of("/rng.sh", script),
                        "nimbus.run=/rng.sh", List.of(
                                "-chardev", "socket,id=vu0,path=" + backend.socket(),
                                "-device", "vhost-user-rng-pci,chardev=vu0"))) {
            assertTrue(guest.await("NIMBUS-RUN-EXIT", BOOT), guest.diagnostics());
            assertTrue(guest.marker("NIMBUS-DEVICES").get("virtio").contains("rng"),
                    guest.diagnostics());
            assertTrue(guest.output().contains("virtio_rng"), guest.diagnostics());
            assertEquals("16384", guest.marker("RNG-BYTES").get("n"), guest.diagnostics());
            assertEquals(0, guest.awaitExit(Duration.ofSeconds(60)), guest.diagnostics());
            assertEquals(0, backend.server().dropped());
        }
    }
}
