package dev.nimbus.api;

import static dev.nimbus.api.OpenApiContract.assertRequestValid;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nimbus.testkit.GuestKit;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A VM configuration sent over the API that asks for something Nimbus does not build is refused
 * at vm.boot with the reason, as the command line refuses the same option, instead of booting
 * without it. The VMM keeps serving afterwards. Regression: watchdog, pvpanic, iommu, a second
 * PCI segment and rate limiters were accepted over the API and silently left out.
 */
class UnbuiltFeaturesApiIT {
    @TempDir
    Path dir;

    @Test
    void bootRefusesWhatNimbusDoesNotBuild() throws Exception {
        Path disk = dir.resolve("disk.img");
        Files.write(disk, new byte[1 << 20]);
        String base = "\"payload\":{\"kernel\":\"" + GuestKit.pvhGuest() + "\"},"
                + "\"serial\":{\"mode\":\"Null\"},\"console\":{\"mode\":\"Off\"}";
        String diskPrefix = "\"disks\":[{\"path\":\"" + disk + "\",\"image_type\":\"Raw\",";
        Map<String, String> cases = new LinkedHashMap<>();
        cases.put("\"watchdog\":true", "The watchdog device (--watchdog)");
        cases.put("\"pvpanic\":true", "The pvpanic device (--pvpanic)");
        cases.put("\"iommu\":true", "virtio-iommu (iommu=on)");
        cases.put(diskPrefix + "\"iommu\":true}]", "virtio-iommu (iommu=on)");
        cases.put("\"platform\":{\"num_pci_segments\":2}",
                "Platform settings beyond one PCI segment (--platform)");
        cases.put("\"platform\":{\"num_pci_segments\":1,\"oem_strings\":[\"a\"]}",
                "Platform settings beyond one PCI segment (--platform)");
        cases.put(diskPrefix + "\"rate_limiter_config\":{\"bandwidth\":{\"size\":1,"
                + "\"refill_time\":1000}}}]", "I/O rate limiting (rate_limit_group, bw_*, ops_*)");
        try (NimbusProcess nimbus = new NimbusProcess(dir);
                ApiClient c = nimbus.client()) {
            for (Map.Entry<String, String> e : cases.entrySet()) {
                String body = "{" + base + "," + e.getKey() + "}";
                assertRequestValid("PUT", "vm.create", body);
                assertEquals(204, ApiFixture.checked(c, "PUT", "vm.create", body, new int[0])
                        .status(), body);
                ApiClient.Response boot = ApiFixture.checked(c, "PUT", "vm.boot", null,
                        new int[0]);
                assertEquals(500, boot.status(), body);
                assertTrue(boot.body().contains(e.getValue() + " is not supported by Nimbus yet"),
                        body + " -> " + boot.body());
                assertEquals(204, ApiFixture.checked(c, "PUT", "vm.delete", null, new int[0])
                        .status());
            }
            // With none of them, the same VM boots.
            String plain = "{" + base + ",\"platform\":{\"num_pci_segments\":1}}";
            assertEquals(204, ApiFixture.checked(c, "PUT", "vm.create", plain, new int[0])
                    .status());
            assertEquals(204, ApiFixture.checked(c, "PUT", "vm.boot", null, new int[0])
                    .status());
            assertEquals(200, ApiFixture.checked(c, "GET", "vmm.ping", null, new int[0])
                    .status());
        }
    }
}
