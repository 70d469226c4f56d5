package dev.nimbus.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * Checks on the kit's PCI and virtio reports that hold under any VMM: both configuration
 * mechanisms saw the same functions and bytes, every virtio structure and MSI-X table lies
 * inside a memory BAR, each driven device reached DRIVER_OK and took its interrupts. The
 * device checks hold the guest's report against what the host knows (the entropy file, the
 * console file).
 */
public final class VirtioKitChecks {
    private VirtioKitChecks() {
    }

    /** 0xCF8/0xCFC and ECAM found the same functions with the same 256 bytes each. */
    public static void assertBothMechanismsAgree(KitReport r, long ecamBase) {
        String why = r.toString();
        KitReport.Line s = r.require("PCI-SUMMARY");
        assertTrue(s.flag("cf8"), "configuration mechanism #1 answers: " + s.raw());
        assertTrue(s.flag("ecam"), "ECAM from the MCFG is reachable: " + s.raw());
        assertEquals(ecamBase, s.number("ecam_base"), s.raw());
        assertEquals(0, s.number("mismatches"), why);
        long functions = s.number("functions");
        assertTrue(functions >= 2, "a host bridge and a device at least: " + s.raw());
        assertEquals(functions, s.number("cf8_functions"), s.raw());
        assertEquals(functions, s.number("ecam_functions"), s.raw());
        List<KitReport.Line> pci = r.lines("PCI");
        assertEquals(functions, pci.size(), why);
        for (KitReport.Line f : pci) {
            assertTrue(f.flag("cf8") && f.flag("ecam") && f.flag("match"), f.raw());
        }
    }

    /** The PCI line of function {@code bdf}. */
    public static KitReport.Line function(KitReport r, String bdf) {
        return r.lines("PCI").stream().filter(l -> l.get("bdf").equals(bdf)).findFirst()
                .orElseThrow(() -> new AssertionError("no PCI function " + bdf + ":\n" + r));
    }

    /**
     * Every virtio structure (but the PCI configuration access one, which has no BAR window)
     * and every MSI-X table and PBA lie inside a memory BAR the guest sized.
     */
    public static void assertStructuresInsideBars(KitReport r) {
        Map<String, Long> barSize = new HashMap<>();
        for (KitReport.Line b : r.lines("PCI-BAR")) {
            if (!b.get("type").equals("io")) {
                barSize.put(b.get("bdf") + "/" + b.get("bar"), b.number("size"));
            }
        }
        int virtioCaps = 0;
        for (KitReport.Line c : r.lines("VIRTIO-CAP")) {
            if (c.number("cfg_type") == 5) {
                continue;
            }
            Long size = barSize.get(c.get("bdf") + "/" + c.get("bar"));
            assertTrue(size != null, "capability points at a memory BAR: " + c.raw());
            assertTrue(c.number("bar_offset") + c.number("length") <= size, c.raw());
            virtioCaps++;
        }
        assertTrue(virtioCaps > 0, "no virtio capabilities reported:\n" + r);
        for (KitReport.Line c : r.lines("PCI-CAP")) {
            if (!c.get("name").equals("msix")) {
                continue;
            }
            Long table = barSize.get(c.get("bdf") + "/" + c.get("table_bar"));
            Long pba = barSize.get(c.get("bdf") + "/" + c.get("pba_bar"));
            assertTrue(table != null && pba != null, "MSI-X BARs exist: " + c.raw());
            long entries = c.number("table_size");
            assertTrue(c.number("table_offset") + 16 * entries <= table, c.raw());
            assertTrue(c.number("pba_offset") + (entries + 63) / 64 * 8 <= pba, c.raw());
        }
    }

    /**
     * Each device named in {@code types} reached DRIVER_OK with MSI-X, took at least one
     * interrupt on every queue it used, and was reset at the end; no errors anywhere.
     */
    public static void assertDevicesDriven(KitReport r, List<String> types) {
        String why = r.toString();
        assertTrue(r.errors().isEmpty(), "guest errors: " + r.errors() + "\n" + why);
        for (String type : types) {
            KitReport.Line v = line(r, "VIRTIO", type);
            assertTrue(v.flag("features_ok"), v.raw());
            assertTrue((v.number("accepted") & (1L << 32)) != 0, "VIRTIO_F_VERSION_1: " + v.raw());
            KitReport.Line ready = line(r, "VIRTIO-READY", type);
            assertEquals(0xF, ready.number("status"), ready.raw());
            assertEquals("msix", ready.get("irq"), ready.raw());
            KitReport.Line irqs = line(r, "VIRTIO-IRQS", type);
            long queues = r.lines("VIRTIO-QUEUE").stream()
                    .filter(q -> q.get("type").equals(type)).count();
            long taken = 0;
            for (int q = 0; q < queues; q++) {
                taken += irqs.number("q" + q);
            }
            assertTrue(taken > 0, "MSI-X interrupts reached the guest: " + irqs.raw());
            assertTrue(line(r, "VIRTIO-RESET", type).flag("ok"), why);
        }
        KitReport.Line summary = r.require("VIRTIO-SUMMARY");
        assertEquals(types.size(), summary.number("devices"), summary.raw());
        assertEquals(types.size(), summary.number("ok"), summary.raw());
    }

    /** The first line with {@code tag} whose {@code type} field is {@code type}. */
    public static KitReport.Line line(KitReport r, String tag, String type) {
        return r.lines(tag).stream().filter(l -> type.equals(l.fields().get("type")))
                .findFirst().orElseThrow(() -> new AssertionError("no KIT-" + tag + " type="
                        + type + " (is the device there?); errors: " + r.errors() + "\n" + r));
    }

    /** The guest read exactly the first {@code bytes} bytes of the entropy source file. */
    public static void assertRngReadTheSource(KitReport r, byte[] source, int bytes) {
        KitReport.Line rng = r.require("VIRTIO-RNG");
        assertEquals(bytes, rng.number("bytes"), rng.raw());
        CRC32 crc = new CRC32();
        crc.update(source, 0, bytes);
        assertEquals(crc.getValue(), rng.number("crc32"), "CRC-32 of the source's first "
                + bytes + " bytes: " + rng.raw());
        assertEquals(HexFormat.of().formatHex(source, 0, 16), rng.get("head"), rng.raw());
    }

    /**
     * Bytes from a random source look random: not all zero and, for 1000 bytes or more, over
     * 150 of the 256 values (random bytes give about 250; a stuck or counting source far fewer).
     */
    public static void assertRngLooksRandom(KitReport r, int bytes) {
        KitReport.Line rng = r.require("VIRTIO-RNG");
        assertEquals(bytes, rng.number("bytes"), rng.raw());
        assertTrue(rng.flag("nonzero"), rng.raw());
        if (bytes >= 1000) {
            assertTrue(rng.number("distinct") > 150, rng.raw());
            assertTrue(rng.number("zeros") < bytes / 32, rng.raw());
        }
    }

    /** The two lines the guest writes on port 0, exactly as the console's file holds them. */
    public static String expectedConsole(String bootPath, String token) {
        return "KIT-VCON n=1 boot=" + bootPath + " text=" + token + "\r\n"
                + "KIT-VCON n=2 boot=" + bootPath + " text=" + token + "\r\n";
    }

    /** The console file holds the guest's two lines and nothing else; the CRC-32 agrees. */
    public static void assertConsoleFile(KitReport r, String fileContent, String bootPath,
                                         String token) {
        String expected = expectedConsole(bootPath, token);
        assertEquals(expected, fileContent, "console file");
        KitReport.Line c = r.require("VIRTIO-CONSOLE");
        assertEquals(2, c.number("lines"), c.raw());
        assertEquals(expected.length(), c.number("bytes"), c.raw());
        CRC32 crc = new CRC32();
        crc.update(expected.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        assertEquals(crc.getValue(), c.number("crc32"), c.raw());
        List<KitReport.Line> vcon = KitReport.parse(fileContent).lines("VCON");
        assertEquals(2, vcon.size());
        assertEquals(token, vcon.get(1).get("text"));
    }
}
