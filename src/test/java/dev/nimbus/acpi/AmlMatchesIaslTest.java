package dev.nimbus.acpi;

import static dev.nimbus.acpi.AmlData.ONE;
import static dev.nimbus.acpi.AmlData.ZERO;
import static dev.nimbus.acpi.AmlData.buffer;
import static dev.nimbus.acpi.AmlData.eisaId;
import static dev.nimbus.acpi.AmlData.integer;
import static dev.nimbus.acpi.AmlData.path;
import static dev.nimbus.acpi.AmlData.pkg;
import static dev.nimbus.acpi.AmlData.string;
import static dev.nimbus.acpi.AmlData.uuid;
import static dev.nimbus.acpi.AmlObjects.createDWordField;
import static dev.nimbus.acpi.AmlObjects.device;
import static dev.nimbus.acpi.AmlObjects.field;
import static dev.nimbus.acpi.AmlObjects.method;
import static dev.nimbus.acpi.AmlObjects.mutex;
import static dev.nimbus.acpi.AmlObjects.name;
import static dev.nimbus.acpi.AmlObjects.operationRegion;
import static dev.nimbus.acpi.AmlObjects.scope;
import static dev.nimbus.acpi.AmlOps.acquire;
import static dev.nimbus.acpi.AmlOps.add;
import static dev.nimbus.acpi.AmlOps.and;
import static dev.nimbus.acpi.AmlOps.arg;
import static dev.nimbus.acpi.AmlOps.breakLoop;
import static dev.nimbus.acpi.AmlOps.call;
import static dev.nimbus.acpi.AmlOps.decrement;
import static dev.nimbus.acpi.AmlOps.equal;
import static dev.nimbus.acpi.AmlOps.greater;
import static dev.nimbus.acpi.AmlOps.ifThen;
import static dev.nimbus.acpi.AmlOps.increment;
import static dev.nimbus.acpi.AmlOps.less;
import static dev.nimbus.acpi.AmlOps.local;
import static dev.nimbus.acpi.AmlOps.logicalAnd;
import static dev.nimbus.acpi.AmlOps.logicalOr;
import static dev.nimbus.acpi.AmlOps.not;
import static dev.nimbus.acpi.AmlOps.notifyObject;
import static dev.nimbus.acpi.AmlOps.or;
import static dev.nimbus.acpi.AmlOps.release;
import static dev.nimbus.acpi.AmlOps.ret;
import static dev.nimbus.acpi.AmlOps.shiftLeft;
import static dev.nimbus.acpi.AmlOps.shiftRight;
import static dev.nimbus.acpi.AmlOps.sleep;
import static dev.nimbus.acpi.AmlOps.store;
import static dev.nimbus.acpi.AmlOps.subtract;
import static dev.nimbus.acpi.AmlOps.whileLoop;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.nimbus.acpi.AmlObjects.AccessType;
import dev.nimbus.acpi.AmlObjects.FieldUnit;
import dev.nimbus.acpi.AmlObjects.RegionSpace;
import dev.nimbus.acpi.AmlObjects.UpdateRule;
import dev.nimbus.acpi.ResourceTemplate.Cacheability;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The builder encodes every construct exactly as ACPICA's compiler does: the same ASL written
 * once as source for {@code iasl} and once with the builder must give identical AML.
 */
class AmlMatchesIaslTest {
    @TempDir
    Path dir;

    private static final String ASL = """
            DefinitionBlock ("", "SSDT", 2, "NIMBUS", "NIMBUSVM", 1)
            {
                Scope (\\_SB)
                {
                    Device (TST0)
                    {
                        Name (_HID, EisaId ("PNP0C02"))
                        Name (_UID, 0x1234)
                        Name (STR0, "hello")
                        Name (BUF0, Buffer () {0x01, 0x02, 0x03})
                        Name (PKG0, Package () {One, 0x1234, "x", Package () {Zero}})
                        Name (BIG0, 0x123456789A)
                        Name (UUI0, ToUUID ("33db4d5b-1ff7-401c-9657-7441c03dd766"))
                        Mutex (MUT0, 0)
                        OperationRegion (REG0, SystemIO, 0x0600, 0x08)
                        Field (REG0, ByteAcc, NoLock, Preserve)
                        {
                            FLD0, 8, , 8, FLD1, 16
                        }
                        OperationRegion (REG1, SystemMemory, 0xFED00000, 0x1000)
                        Field (REG1, DWordAcc, Lock, WriteAsZeros)
                        {
                            , 32, FLD2, 32, FLD3, 1, , 95, FLD4, 64
                        }
                        OperationRegion (REG2, PCI_Config, Zero, 0x0100)
                        Field (REG2, AnyAcc, NoLock, WriteAsOnes)
                        {
                            VID0, 16, DID0, 16
                        }
                        Name (_CRS, ResourceTemplate ()
                        {
                            IO (Decode16, 0x03F8, 0x03F8, 0x00, 0x08)
                            IRQNoFlags () {4}
                            IRQ (Level, ActiveLow, Shared) {5, 7}
                            Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive) {16, 17}
                            Interrupt (ResourceConsumer, Level, ActiveLow, Shared) {5}
                            Memory32Fixed (ReadWrite, 0xFEC00000, 0x00001000)
                            DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed,
                                NonCacheable, ReadWrite, 0x0, 0xC0000000, 0xE7FFFFFF, 0x0,
                                0x28000000)
                            QWordMemory (ResourceConsumer, PosDecode, MinFixed, MaxFixed,
                                Prefetchable, ReadOnly, 0x0, 0x100000000, 0x1FFFFFFFF, 0x0,
                                0x100000000)
                            WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,
                                0x0, 0x0, 0xFF, 0x0, 0x100)
                            WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode,
                                EntireRange, 0x0, 0x0, 0x0CF7, 0x0, 0x0CF8)
                            DWordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode,
                                EntireRange, 0x0, 0x0D00, 0xFFFF, 0x0, 0xF300)
                        })
                        Method (M000, 2, Serialized)
                        {
                            Store (Arg0, Local0)
                            Add (Local0, Arg1, Local1)
                            Subtract (Local1, One, Local2)
                            ShiftLeft (One, Arg1, Local3)
                            ShiftRight (Local3, 0x02, Local4)
                            And (Local4, 0xFF, Local5)
                            Or (Local5, 0x0100, Local6)
                            Store (Add (Local5, Local6), Local7)
                            Increment (Local6)
                            Decrement (Local6)
                            Store (FLD0, Local7)
                            Acquire (MUT0, 0xFFFF)
                            Store (Local0, FLD1)
                            Release (MUT0)
                            Sleep (0x0A)
                            If (LEqual (Local0, 0x05))
                            {
                                Notify (\\_SB.TST0, 0x80)
                            }
                            Else
                            {
                                Store (Zero, Local0)
                            }
                            If (LLess (Local1, Local2))
                            {
                                Return (One)
                            }
                            If (LNot (LGreater (Local1, Local2)))
                            {
                                Return (0x02)
                            }
                            If (LAnd (Local1, LOr (Local2, Local3)))
                            {
                                Return (0x03)
                            }
                            While (LLess (Local0, 0x10))
                            {
                                Increment (Local0)
                                If (LEqual (Local0, 0x08))
                                {
                                    Break
                                }
                            }
                            M001 (BUF0)
                            Return (Local0)
                        }
                        Method (M001, 1, NotSerialized)
                        {
                            CreateDWordField (Arg0, Zero, CDW1)
                            Return (CDW1)
                        }
                        Method (_STA, 0, NotSerialized)
                        {
                            Return (0x0F)
                        }
                    }
                }
                Name (\\_S5, Package () {0x05, 0x05, Zero, Zero})
            }
            """;

    private static Aml builderVersion() {
        ResourceTemplate crs = new ResourceTemplate()
                .io(0x3F8, 0x3F8, 0, 8)
                .irqNoFlags(4)
                .irq(false, true, true, 5, 7)
                .interrupt(true, true, false, false, 16, 17)
                .interrupt(true, false, true, true, 5)
                .memory32Fixed(true, 0xFEC0_0000L, 0x1000)
                .dwordMemory(false, Cacheability.NON_CACHEABLE, true, 0xC000_0000L,
                        0xE7FF_FFFFL)
                .qwordMemory(true, Cacheability.PREFETCHABLE, false, 0x1_0000_0000L,
                        0x1_FFFF_FFFFL)
                .wordBusNumber(0, 0xFF)
                .wordIo(0, 0xCF7)
                .dwordIo(0xD00, 0xFFFF);

        Aml m000 = method("M000", 2, true,
                store(arg(0), local(0)),
                add(local(0), arg(1), local(1)),
                subtract(local(1), ONE, local(2)),
                shiftLeft(ONE, arg(1), local(3)),
                shiftRight(local(3), integer(2), local(4)),
                and(local(4), integer(0xFF), local(5)),
                or(local(5), integer(0x100), local(6)),
                store(add(local(5), local(6), null), local(7)),
                increment(local(6)),
                decrement(local(6)),
                store(path("FLD0"), local(7)),
                acquire("MUT0", AmlOps.WAIT_FOREVER),
                store(local(0), path("FLD1")),
                release("MUT0"),
                sleep(integer(10)),
                ifThen(equal(local(0), integer(5)),
                        notifyObject(path("\\_SB.TST0"), integer(0x80)))
                        .orElse(store(ZERO, local(0))),
                ifThen(less(local(1), local(2)), ret(ONE)),
                ifThen(not(greater(local(1), local(2))), ret(integer(2))),
                ifThen(logicalAnd(local(1), logicalOr(local(2), local(3))), ret(integer(3))),
                AmlOps.whileLoop(less(local(0), integer(0x10)),
                        increment(local(0)),
                        ifThen(equal(local(0), integer(8)), breakLoop())),
                call("M001", path("BUF0")),
                ret(local(0)));

        Aml tst0 = device("TST0",
                name("_HID", eisaId("PNP0C02")),
                name("_UID", integer(0x1234)),
                name("STR0", string("hello")),
                name("BUF0", buffer(new byte[] {1, 2, 3})),
                name("PKG0", pkg(ONE, integer(0x1234), string("x"), pkg(ZERO))),
                name("BIG0", integer(0x12_3456_789AL)),
                name("UUI0", uuid("33db4d5b-1ff7-401c-9657-7441c03dd766")),
                mutex("MUT0", 0),
                operationRegion("REG0", RegionSpace.SYSTEM_IO, 0x600, 8),
                field("REG0", AccessType.BYTE, false, UpdateRule.PRESERVE,
                        FieldUnit.named("FLD0", 8), FieldUnit.reserved(8),
                        FieldUnit.named("FLD1", 16)),
                operationRegion("REG1", RegionSpace.SYSTEM_MEMORY, 0xFED0_0000L, 0x1000),
                field("REG1", AccessType.DWORD, true, UpdateRule.WRITE_AS_ZEROS,
                        FieldUnit.reserved(32), FieldUnit.named("FLD2", 32),
                        FieldUnit.named("FLD3", 1), FieldUnit.reserved(95),
                        FieldUnit.named("FLD4", 64)),
                operationRegion("REG2", RegionSpace.PCI_CONFIG, 0, 0x100),
                field("REG2", AccessType.ANY, false, UpdateRule.WRITE_AS_ONES,
                        FieldUnit.named("VID0", 16), FieldUnit.named("DID0", 16)),
                name("_CRS", crs),
                m000,
                method("M001", 1, false,
                        createDWordField(arg(0), ZERO, "CDW1"),
                        ret(path("CDW1"))),
                method("_STA", 0, false, ret(integer(0x0F))));

        return Aml.sequence(
                scope("\\_SB", tst0),
                name("\\_S5", pkg(integer(5), integer(5), ZERO, ZERO)));
    }

    @Test
    void builderEncodesEveryConstructAsIaslDoes() throws Exception {
        byte[] iasl = Acpica.compile(dir, "reference", ASL);
        byte[] expected = Arrays.copyOfRange(iasl, Sdt.HEADER_SIZE, iasl.length);
        byte[] actual = builderVersion().toByteArray();
        assertSameBytes(expected, actual);
    }

    @Test
    void builtTableDisassemblesToTheSameDefinitions() throws Exception {
        Sdt ssdt = new Sdt("SSDT", 2);
        builderVersion().encode(ssdt.bytes());
        String dsl = Acpica.disassemble(dir, "built", ssdt.toByteArray());
        for (String expected : new String[] {"Device (TST0)", "Method (M000, 2, Serialized)",
            "While ((Local0 < 0x10))", "Acquire (MUT0, 0xFFFF)", "Notify (\\_SB.TST0, 0x80)",
            "OperationRegion (REG2, PCI_Config, Zero, 0x0100)", "IRQNoFlags ()",
            "QWordMemory (ResourceConsumer, PosDecode, MinFixed, MaxFixed, Prefetchable, "
                    + "ReadOnly"}) {
            if (!dsl.contains(expected)) {
                fail("disassembly lacks \"" + expected + "\":\n" + dsl);
            }
        }
    }

    private static void assertSameBytes(byte[] expected, byte[] actual) {
        int n = Math.min(expected.length, actual.length);
        for (int i = 0; i < n; i++) {
            if (expected[i] != actual[i]) {
                fail(String.format("AML differs at body offset 0x%x: iasl %s, builder %s", i,
                        hex(expected, i), hex(actual, i)));
            }
        }
        assertEquals(expected.length, actual.length, "AML length");
    }

    private static String hex(byte[] b, int at) {
        StringBuilder sb = new StringBuilder();
        for (int i = Math.max(0, at - 8); i < Math.min(b.length, at + 16); i++) {
            sb.append(String.format(i == at ? "[%02X]" : "%02X ", b[i]));
        }
        return sb.toString();
    }
}
