package dev.nimbus.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class JsonFieldsTest {

    private static JsonFields fields(String json) {
        return JsonFields.of(JsonParser.parse(json), "cpus");
    }

    private static String error(Executable e) {
        return assertThrows(JsonException.class, e).getMessage();
    }

    @Test
    void readsTypedMembersAndDefaults() {
        JsonFields f = fields("{\"n\": 4, \"s\": \"x\", \"b\": true, \"l\": [1, 2], \"z\": null}");

        assertEquals(4, f.unsigned("n", UnsignedType.U32));
        assertEquals(7, f.unsigned("missing", UnsignedType.U32, 7));
        assertEquals("x", f.string("s"));
        assertNull(f.optString("missing"));
        assertTrue(f.bool("b", false));
        assertTrue(f.bool("missing", true));
        assertEquals(List.of(1L, 2L), f.unsignedList("l", UnsignedType.U16));
        assertEquals(List.of(), f.unsignedList("missing", UnsignedType.U16));
    }

    @Test
    void treatsNullAsAbsent() {
        JsonFields f = fields("{\"z\": null}");

        assertFalse(f.has("z"));
        assertNull(f.optUnsigned("z", UnsignedType.U64));
        assertFalse(f.bool("z", false));
        assertEquals("Missing field cpus.z", error(() -> f.string("z")));
    }

    @Test
    void namesTheMemberInEveryError() {
        JsonFields f = fields("{\"s\": \"2\", \"neg\": -1, \"big\": 70000, \"f\": 1.5, "
                + "\"b\": \"yes\", \"o\": [], \"l\": [1, \"x\"]}");

        assertEquals("Missing field cpus.boot_vcpus",
                error(() -> f.unsigned("boot_vcpus", UnsignedType.U32)));
        assertEquals("Invalid type at cpus.s: expected u32, found string \"2\"",
                error(() -> f.unsigned("s", UnsignedType.U32)));
        assertEquals("Invalid value at cpus.neg: -1 is out of range for u32",
                error(() -> f.unsigned("neg", UnsignedType.U32)));
        assertEquals("Invalid value at cpus.big: 70000 is out of range for u16",
                error(() -> f.unsigned("big", UnsignedType.U16)));
        assertEquals("Invalid type at cpus.f: expected u64, found number 1.5",
                error(() -> f.unsigned("f", UnsignedType.U64)));
        assertEquals("Invalid type at cpus.b: expected a boolean, found string \"yes\"",
                error(() -> f.bool("b", false)));
        assertEquals("Invalid type at cpus.o: expected an object, found an array",
                error(() -> f.object("o")));
        assertEquals("Invalid type at cpus.l[1]: expected u8, found string \"x\"",
                error(() -> f.unsignedList("l", UnsignedType.U8)));
    }

    @Test
    void refusesValuesAboveWhatNimbusKeeps() {
        JsonFields f = fields("{\"n\": 3000000000, \"u\": 18446744073709551615}");

        assertEquals(3000000000L, f.unsigned("n", UnsignedType.U32));
        assertEquals("Invalid value at cpus.n: 3000000000 is larger than Nimbus supports "
                + "(at most 2147483647)", error(() -> f.unsigned("n", UnsignedType.U32_INT)));
        assertEquals("Invalid value at cpus.u: 18446744073709551615 is larger than Nimbus "
                + "supports (at most 9223372036854775807)",
                error(() -> f.unsigned("u", UnsignedType.U64)));
    }

    @Test
    void checksEnumVariants() {
        JsonFields f = fields("{\"mode\": \"Foo\", \"ok\": \"Vm\"}");
        List<String> variants = List.of("Vm", "Vcpu", "Off");

        assertEquals("Vm", f.variant("ok", variants, null));
        assertEquals("Off", f.variant("missing", variants, "Off"));
        assertEquals("Invalid value at cpus.mode: unknown variant \"Foo\", expected one of "
                + "Vm, Vcpu, Off", error(() -> f.variant("mode", variants, "Vm")));
        assertEquals("Missing field cpus.missing",
                error(() -> f.variant("missing", variants, null)));
    }

    @Test
    void pathsOfNestedObjectsAndArrayElements() {
        JsonFields top = JsonFields.of(JsonParser.parse("{\"disks\": [{}, {\"q\": \"x\"}]}"), "");
        List<JsonFields> disks = top.objects("disks");

        assertEquals("disks[1]", disks.get(1).path());
        assertEquals("Invalid type at disks[1].q: expected u16, found string \"x\"",
                error(() -> disks.get(1).unsigned("q", UnsignedType.U16)));
        assertEquals("Invalid type: expected an object, found number 1",
                error(() -> JsonFields.of(JsonParser.parse("1"), "")));
    }

    @Test
    void rejectUnknownListsTheAllowedFields() {
        JsonFields f = fields("{\"bandwidth\": null, \"burst\": 1}");

        assertEquals("Invalid value at cpus: unknown field \"burst\", expected one of "
                + "bandwidth, ops",
                error(() -> f.rejectUnknown("bandwidth", "ops")));
    }
}
