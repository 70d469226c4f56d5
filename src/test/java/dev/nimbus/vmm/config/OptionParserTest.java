package dev.nimbus.vmm.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nimbus.json.UnsignedType;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class OptionParserTest {

    private static OptionParser parser() {
        return new OptionParser("Error parsing --test")
                .add("size", "mergeable", "topology", "cmdline", "list", "extra")
                .addValueless("tty", "off");
    }

    private static String error(Executable e) {
        return assertThrows(ConfigException.class, e).getMessage();
    }

    @Test
    void readsKeyValuePairs() {
        OptionParser p = parser().parse("size=128M,mergeable=on");

        assertEquals("128M", p.get("size"));
        assertEquals("on", p.get("mergeable"));
        assertTrue(p.isSet("size"));
        assertFalse(p.isSet("topology"));
        assertNull(p.get("topology"));
    }

    @Test
    void keepsEqualsSignsInsideValues() {
        assertEquals("foo=bar", parser().parse("extra=foo=bar").get("extra"));
    }

    @Test
    void emptyValueLeavesTheKeyUnsetButPresent() {
        OptionParser p = parser().parse("size=");

        assertTrue(p.isSet("size"));
        assertNull(p.get("size"));
        assertNull(p.byteSize("size"));
    }

    @Test
    void emptyInputSetsNothing() {
        assertFalse(parser().parse("").isSet("size"));
        assertFalse(parser().parse("   ").isSet("size"));
    }

    @Test
    void valuelessKeysStandAlone() {
        OptionParser p = parser().parse("tty");

        assertTrue(p.isSet("tty"));
        assertFalse(p.isSet("off"));
    }

    @Test
    void bracketsKeepCommasInsideOneValue() {
        OptionParser p = parser().parse("size=1M,topology=[[1,2],[3,4]],mergeable=off");

        assertEquals("[[1,2],[3,4]]", p.get("topology"));
        assertEquals("off", p.get("mergeable"));
    }

    @Test
    void quotesKeepCommasAndAreRemoved() {
        OptionParser p = parser().parse("cmdline=\"console=ttyS0,9600n8 root=/dev/vda\"");

        assertEquals("console=ttyS0,9600n8 root=/dev/vda", p.get("cmdline"));
    }

    @Test
    void doubledQuoteInsideQuotesStandsForOneQuote() {
        assertEquals("a\"b", OptionParser.dequote("\"a\"\"b\""));
        assertEquals("a=b", OptionParser.dequote("a=\"b\""));
    }

    @Test
    void unknownKeyIsNamed() {
        assertEquals("Error parsing --test: Unknown option: file",
                error(() -> parser().parse("size=128M,file=/dev/shm")));
        assertEquals("Error parsing --test: Unknown option:  mergeable",
                error(() -> parser().parse("size=1, mergeable=on")));
    }

    @Test
    void parseSubsetSkipsUnknownKeys() {
        assertEquals("1M", parser().parseSubset("file=/x,size=1M").get("size"));
    }

    @Test
    void keyWithoutValueIsASyntaxError() {
        assertEquals("Error parsing --test: Invalid syntax: hanging_param",
                error(() -> new OptionParser("Error parsing --test")
                        .add("size", "hanging_param").parse("size=128M,hanging_param")));
    }

    @Test
    void unbalancedBracketsOrQuotesAreSyntaxErrors() {
        assertEquals("Error parsing --test: Invalid syntax: topology=[",
                error(() -> parser().parse("topology=[")));
        assertEquals("Error parsing --test: Invalid syntax: topology=[[[]]]]",
                error(() -> parser().parse("topology=[[[]]]]")));
        assertEquals("Error parsing --test: Invalid syntax: cmdline=\"",
                error(() -> parser().parse("cmdline=\"")));
        assertEquals("Error parsing --test: Invalid syntax: cmdline=\"\"\"",
                error(() -> parser().parse("cmdline=\"\"\"")));
    }

    @Test
    void togglesAcceptOnOffTrueFalseInAnyCase() {
        for (String on : List.of("on", "true", "ON", "True")) {
            assertTrue(parser().parse("mergeable=" + on).toggle("mergeable", false), on);
        }
        for (String off : List.of("off", "false", "OFF")) {
            assertFalse(parser().parse("mergeable=" + off).toggle("mergeable", true), off);
        }
        assertTrue(parser().parse("").toggle("mergeable", true));
        assertEquals("Error parsing --test: Unable to convert yes for mergeable",
                error(() -> parser().parse("mergeable=yes").toggle("mergeable", false)));
    }

    @Test
    void byteSizesUsePowersOf1024() {
        assertEquals(4096L, parser().parse("size=4096").byteSize("size"));
        assertEquals(4L << 10, parser().parse("size=4K").byteSize("size"));
        assertEquals(512L << 20, parser().parse("size=512M").byteSize("size"));
        assertEquals(2L << 30, parser().parse("size=2G").byteSize("size"));
        assertEquals(1L << 30, parser().parse("size=\"1G\"").byteSize("size"));
    }

    @Test
    void badByteSizesAreRefused() {
        for (String bad : List.of("12X", "1T", "1k", "-1M", "M", "1.5G", "9999999999G")) {
            assertEquals("Error parsing --test: Unable to convert " + bad + " for size",
                    error(() -> parser().parse("size=" + bad).byteSize("size")), bad);
        }
    }

    @Test
    void unsignedIntegersRespectTheirType() {
        assertEquals(255L, parser().parse("size=255").unsigned("size", UnsignedType.U8));
        assertEquals(7L, parser().parse("size=+7").unsigned("size", UnsignedType.U8));
        assertEquals("Error parsing --test: Unable to convert 256 for size",
                error(() -> parser().parse("size=256").unsigned("size", UnsignedType.U8)));
        assertEquals("Error parsing --test: Unable to convert -1 for size",
                error(() -> parser().parse("size=-1").unsigned("size", UnsignedType.U32)));
        assertEquals("Error parsing --test: Unable to convert 0x10 for size",
                error(() -> parser().parse("size=0x10").unsigned("size", UnsignedType.U32)));
    }

    @Test
    void integerListsExpandRanges() {
        assertEquals(List.of(0L, 2L, 4L, 5L, 6L, 7L),
                parser().parse("list=[0,2,4-7]").integerList("list", UnsignedType.U64));
        assertEquals(List.of(3L), parser().parse("list=3").integerList("list", UnsignedType.U64));
        for (String bad : List.of("[4-2]", "[1-2-3]", "[a]", "[]", "[300]")) {
            assertEquals("Error parsing --test: Unable to convert " + bad + " for list",
                    error(() -> parser().parse("list=" + bad)
                            .integerList("list", UnsignedType.U8)), bad);
        }
    }

    @Test
    void tupleListsPairKeysWithIntegerLists() {
        List<OptionParser.Tuple> tuples = parser().parse("list=[0@[0,2],1@[1,3-4],2@5]")
                .tupleList("list", UnsignedType.U32);

        assertEquals(List.of(new OptionParser.Tuple(0, List.of(0L, 2L)),
                new OptionParser.Tuple(1, List.of(1L, 3L, 4L)),
                new OptionParser.Tuple(2, List.of(5L))), tuples);
        for (String bad : List.of("0@[1]", "[@[1]]", "[0@1@2]", "[0]", "[x@[1]]", "[]")) {
            assertEquals("Error parsing --test: Unable to convert " + bad + " for list",
                    error(() -> parser().parse("list=" + bad)
                            .tupleList("list", UnsignedType.U32)), bad);
        }
    }

    @Test
    void stringListsSplitOutsideBrackets() {
        assertEquals(List.of("amx", "avx"), parser().parse("list=[amx,avx]").stringList("list"));
        assertEquals(List.of("amx"), parser().parse("list=amx").stringList("list"));
        assertEquals(List.of(""), parser().parse("list=[]").stringList("list"));
    }
}
