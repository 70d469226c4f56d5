package dev.nimbus.acpi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nimbus.memory.GuestMemory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the ACPI tables back out of guest memory the way an OS does: RSDP, then the XSDT, then
 * each table it lists and the DSDT the FADT points to, checking every signature, length and
 * checksum on the way.
 */
final class GuestTables {
    final long rsdpGpa;
    final byte[] rsdp;
    final long xsdtGpa;
    final List<Long> xsdtEntries = new ArrayList<>();
    /** Tables by signature, XSDT and DSDT included. */
    final Map<String, byte[]> tables = new LinkedHashMap<>();
    final Map<String, Long> addresses = new LinkedHashMap<>();

    GuestTables(GuestMemory mem, long rsdpGpa) {
        this.rsdpGpa = rsdpGpa;
        rsdp = mem.read(rsdpGpa, Rsdp.LENGTH);
        assertEquals("RSD PTR ", ascii(rsdp, 0, 8), "RSDP signature");
        assertEquals(0, sum(rsdp, 0, Rsdp.V1_LENGTH), "RSDP checksum over 20 bytes");
        assertEquals(0, sum(rsdp, 0, Rsdp.LENGTH), "RSDP extended checksum");
        assertEquals(2, rsdp[Rsdp.REVISION_OFFSET], "RSDP revision");
        assertEquals(Rsdp.LENGTH, u32(rsdp, Rsdp.LENGTH_OFFSET), "RSDP length");
        assertEquals(0, u32(rsdp, Rsdp.RSDT_ADDRESS), "no RSDT");

        xsdtGpa = u64(rsdp, Rsdp.XSDT_ADDRESS);
        byte[] xsdt = table(mem, xsdtGpa, "XSDT");
        for (int off = Sdt.HEADER_SIZE; off < xsdt.length; off += 8) {
            long gpa = u64(xsdt, off);
            xsdtEntries.add(gpa);
            byte[] t = table(mem, gpa, null);
            String sig = ascii(t, 0, 4);
            assertTrue(tables.put(sig, t) == null, "table listed twice: " + sig);
            addresses.put(sig, gpa);
        }
        tables.put("XSDT", xsdt);
        addresses.put("XSDT", xsdtGpa);

        byte[] fadt = tables.get("FACP");
        long dsdtGpa = u64(fadt, Fadt.X_DSDT);
        tables.put("DSDT", table(mem, dsdtGpa, "DSDT"));
        addresses.put("DSDT", dsdtGpa);
    }

    /** The table at {@code gpa}, after checking its signature, length and checksum. */
    static byte[] table(GuestMemory mem, long gpa, String signature) {
        byte[] header = mem.read(gpa, Sdt.HEADER_SIZE);
        String sig = ascii(header, 0, 4);
        if (signature != null) {
            assertEquals(signature, sig, "signature at 0x" + Long.toHexString(gpa));
        }
        long length = u32(header, Sdt.LENGTH_OFFSET);
        assertTrue(length >= Sdt.HEADER_SIZE && length < 0x10_0000, sig + " length " + length);
        byte[] t = mem.read(gpa, (int) length);
        assertEquals(0, sum(t, 0, t.length), sig + " checksum");
        assertEquals("NIMBUS", ascii(t, 10, 6), sig + " OEM ID");
        return t;
    }

    static int sum(byte[] b, int off, int len) {
        int s = 0;
        for (int i = off; i < off + len; i++) {
            s += b[i];
        }
        return s & 0xFF;
    }

    static String ascii(byte[] b, int off, int len) {
        return new String(b, off, len, StandardCharsets.US_ASCII);
    }

    static int u8(byte[] b, int off) {
        return b[off] & 0xFF;
    }

    static int u16(byte[] b, int off) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getShort(off) & 0xFFFF;
    }

    static long u32(byte[] b, int off) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt(off) & 0xFFFF_FFFFL;
    }

    static long u64(byte[] b, int off) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(off);
    }
}
