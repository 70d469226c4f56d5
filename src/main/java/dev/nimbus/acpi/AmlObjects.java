package dev.nimbus.acpi;

import java.util.List;

/**
 * AML namespace modifiers and named objects (ACPI 6.5, sections 20.2.5.1 and 20.2.5.2): Name,
 * Scope, Device, Method, Mutex, OperationRegion, Field and CreateDWordField.
 */
public final class AmlObjects {
    static final int NAME_OP = 0x08;
    static final int SCOPE_OP = 0x10;
    static final int METHOD_OP = 0x14;
    static final int EXT_OP_PREFIX = 0x5B;
    static final int MUTEX_OP = 0x01;
    static final int OP_REGION_OP = 0x80;
    static final int FIELD_OP = 0x81;
    static final int DEVICE_OP = 0x82;
    static final int CREATE_DWORD_FIELD_OP = 0x8A;

    /** Address space of an OperationRegion (the RegionSpace keywords of ASL's OperationRegion). */
    public enum RegionSpace {
        SYSTEM_MEMORY(0x00),
        SYSTEM_IO(0x01),
        PCI_CONFIG(0x02),
        EMBEDDED_CONTROL(0x03),
        SMBUS(0x04),
        SYSTEM_CMOS(0x05),
        PCI_BAR_TARGET(0x06);

        final int code;

        RegionSpace(int code) {
            this.code = code;
        }
    }

    /** Access width of a field's accesses to its region (FieldFlags bits 0-3). */
    public enum AccessType {
        ANY(0), BYTE(1), WORD(2), DWORD(3), QWORD(4), BUFFER(5);

        final int code;

        AccessType(int code) {
            this.code = code;
        }
    }

    /** What a write does with the bits of an access that lie outside the field (bits 5-6). */
    public enum UpdateRule {
        PRESERVE(0), WRITE_AS_ONES(1), WRITE_AS_ZEROS(2);

        final int code;

        UpdateRule(int code) {
            this.code = code;
        }
    }

    /**
     * One element of a field list: a named field of {@code bits} bits, or an unnamed gap of
     * {@code bits} bits when {@code name} is null.
     */
    public record FieldUnit(String name, long bits) {
        /** A named field unit. */
        public static FieldUnit named(String name, long bits) {
            return new FieldUnit(name, bits);
        }

        /** An unnamed gap, as {@code Offset} or {@code , n} in ASL. */
        public static FieldUnit reserved(long bits) {
            return new FieldUnit(null, bits);
        }
    }

    private AmlObjects() {
    }

    /** {@code Name(name, value)}: binds a data object to a name. */
    public static Aml name(String name, Aml value) {
        return out -> {
            out.u8(NAME_OP);
            AmlEncoding.nameString(out, name);
            value.encode(out);
        };
    }

    /** {@code Scope(path) { ... }}: opens an existing scope and defines objects inside it. */
    public static Aml scope(String path, Aml... body) {
        return scope(path, List.of(body));
    }

    /** {@code Scope(path) { ... }} with a list body. */
    public static Aml scope(String path, List<? extends Aml> body) {
        Aml terms = Aml.sequence(body);
        return out -> {
            out.u8(SCOPE_OP);
            AmlEncoding.withPkgLength(out, b -> {
                AmlEncoding.nameString(b, path);
                terms.encode(b);
            });
        };
    }

    /** {@code Device(path) { ... }}: a device object and the objects that describe it. */
    public static Aml device(String path, Aml... body) {
        return device(path, List.of(body));
    }

    /** {@code Device(path) { ... }} with a list body. */
    public static Aml device(String path, List<? extends Aml> body) {
        Aml terms = Aml.sequence(body);
        return out -> {
            out.u8(EXT_OP_PREFIX).u8(DEVICE_OP);
            AmlEncoding.withPkgLength(out, b -> {
                AmlEncoding.nameString(b, path);
                terms.encode(b);
            });
        };
    }

    /**
     * {@code Method(name, argCount, Serialized|NotSerialized) { ... }} with sync level 0. A
     * serialized method runs one invocation at a time, which methods that select a register
     * and then read it rely on.
     */
    public static Aml method(String name, int argCount, boolean serialized, Aml... body) {
        return method(name, argCount, serialized, List.of(body));
    }

    /** A method with a list body; see {@link #method(String, int, boolean, Aml...)}. */
    public static Aml method(String name, int argCount, boolean serialized,
            List<? extends Aml> body) {
        if (argCount < 0 || argCount > 7) {
            throw new IllegalArgumentException("AML method takes 0 to 7 arguments: count="
                    + argCount);
        }
        Aml terms = Aml.sequence(body);
        int flags = argCount | (serialized ? 1 << 3 : 0);
        return out -> {
            out.u8(METHOD_OP);
            AmlEncoding.withPkgLength(out, b -> {
                AmlEncoding.nameString(b, name);
                b.u8(flags);
                terms.encode(b);
            });
        };
    }

    /** {@code Mutex(name, syncLevel)}. */
    public static Aml mutex(String name, int syncLevel) {
        if (syncLevel < 0 || syncLevel > 15) {
            throw new IllegalArgumentException("AML sync level out of range: level=" + syncLevel);
        }
        return out -> {
            out.u8(EXT_OP_PREFIX).u8(MUTEX_OP);
            AmlEncoding.nameString(out, name);
            out.u8(syncLevel);
        };
    }

    /** {@code OperationRegion(name, space, offset, length)}. */
    public static Aml operationRegion(String name, RegionSpace space, long offset, long length) {
        return out -> {
            out.u8(EXT_OP_PREFIX).u8(OP_REGION_OP);
            AmlEncoding.nameString(out, name);
            out.u8(space.code);
            AmlData.integer(offset).encode(out);
            AmlData.integer(length).encode(out);
        };
    }

    /**
     * {@code Field(region, access, NoLock|Lock, update) { ... }}: names bit ranges of an
     * operation region, in order from bit 0.
     */
    public static Aml field(String region, AccessType access, boolean lock, UpdateRule update,
            FieldUnit... units) {
        List<FieldUnit> list = List.of(units);
        int flags = access.code | (lock ? 1 << 4 : 0) | (update.code << 5);
        return out -> {
            out.u8(EXT_OP_PREFIX).u8(FIELD_OP);
            AmlEncoding.withPkgLength(out, b -> {
                AmlEncoding.nameString(b, region);
                b.u8(flags);
                for (FieldUnit u : list) {
                    if (u.name() == null) {
                        b.u8(0x00); // ReservedField
                    } else {
                        AmlEncoding.nameSeg(b, u.name());
                    }
                    AmlEncoding.rawLength(b, u.bits());
                }
            });
        };
    }

    /** {@code CreateDWordField(source, byteIndex, name)}: names a dword inside a buffer. */
    public static Aml createDWordField(Aml source, Aml byteIndex, String name) {
        return out -> {
            out.u8(CREATE_DWORD_FIELD_OP);
            source.encode(out);
            byteIndex.encode(out);
            AmlEncoding.nameString(out, name);
        };
    }
}
