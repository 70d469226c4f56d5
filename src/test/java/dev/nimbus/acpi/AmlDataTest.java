package dev.nimbus.acpi;

import static dev.nimbus.acpi.AmlData.buffer;
import static dev.nimbus.acpi.AmlData.eisaId;
import static dev.nimbus.acpi.AmlData.integer;
import static dev.nimbus.acpi.AmlData.pkg;
import static dev.nimbus.acpi.AmlData.string;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class AmlDataTest {
    private static byte[] bytes(int... v) {
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = (byte) v[i];
        }
        return b;
    }

    @Test
    void integersTakeTheirSmallestEncoding() {
        assertArrayEquals(bytes(0x00), integer(0).toByteArray());
        assertArrayEquals(bytes(0x01), integer(1).toByteArray());
        assertArrayEquals(bytes(0x0A, 0x02), integer(2).toByteArray());
        assertArrayEquals(bytes(0x0A, 0xFF), integer(0xFF).toByteArray());
        assertArrayEquals(bytes(0x0B, 0x00, 0x01), integer(0x100).toByteArray());
        assertArrayEquals(bytes(0x0B, 0xFF, 0xFF), integer(0xFFFF).toByteArray());
        assertArrayEquals(bytes(0x0C, 0x00, 0x00, 0x01, 0x00), integer(0x10000).toByteArray());
        assertArrayEquals(bytes(0x0C, 0xFF, 0xFF, 0xFF, 0xFF),
                integer(0xFFFF_FFFFL).toByteArray());
        assertArrayEquals(bytes(0x0E, 0, 0, 0, 0, 1, 0, 0, 0),
                integer(0x1_0000_0000L).toByteArray());
        assertArrayEquals(bytes(0x0E, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF),
                integer(-1).toByteArray());
    }

    @Test
    void stringsAreNulTerminatedAscii() {
        assertArrayEquals(bytes(0x0D, 'C', 'O', 'M', '1', 0), string("COM1").toByteArray());
        assertThrows(IllegalArgumentException.class, () -> string("caf\u00e9"));
        assertThrows(IllegalArgumentException.class, () -> string("a\0b"));
    }

    @Test
    void eisaIdCompressesToTheValueOsesCompare() {
        // PNP0C0C is the power button; Linux and ACPICA store it as 0x0C0CD041.
        assertEquals(0x0C0CD041, AmlData.eisaIdValue("PNP0C0C"));
        assertArrayEquals(bytes(0x0C, 0x41, 0xD0, 0x0A, 0x08), eisaId("PNP0A08").toByteArray());
        assertThrows(IllegalArgumentException.class, () -> eisaId("PNP0a08"));
        assertThrows(IllegalArgumentException.class, () -> eisaId("PN0A08"));
    }

    @Test
    void bufferCarriesItsSize() {
        assertArrayEquals(bytes(0x11, 0x05, 0x0A, 0x02, 0xAB, 0xCD),
                buffer(bytes(0xAB, 0xCD)).toByteArray());
    }

    @Test
    void packageCountsElements() {
        assertArrayEquals(bytes(0x12, 0x08, 0x04, 0x0A, 0x05, 0x0A, 0x05, 0x00, 0x00),
                pkg(integer(5), integer(5), integer(0), integer(0)).toByteArray());
    }

    @Test
    void packageOfMoreThan255ElementsBecomesVarPackage() {
        List<Aml> ones = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            ones.add(AmlData.ONE);
        }
        byte[] b = pkg(ones).toByteArray();
        assertEquals(0x13, b[0] & 0xFF);
        // Two PkgLength bytes, then the count as a word constant, then the elements.
        assertEquals(0x0B, b[3] & 0xFF);
        assertEquals(300, (b[4] & 0xFF) | (b[5] & 0xFF) << 8);
        assertEquals(6 + 300, b.length);
    }

    @Test
    void uuidUsesMixedEndianOrder() {
        byte[] b = AmlData.uuid("33DB4D5B-1FF7-401C-9657-7441C03DD766").toByteArray();
        byte[] body = java.util.Arrays.copyOfRange(b, 4, b.length);
        assertArrayEquals(bytes(0x5B, 0x4D, 0xDB, 0x33, 0xF7, 0x1F, 0x1C, 0x40, 0x96, 0x57,
                0x74, 0x41, 0xC0, 0x3D, 0xD7, 0x66), body);
    }
}
