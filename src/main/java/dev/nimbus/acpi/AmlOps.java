package dev.nimbus.acpi;

import java.util.List;

/**
 * AML statements and expressions (ACPI 6.5, sections 20.2.5.3 and 20.2.5.4) and the method
 * arguments and locals they work on (section 20.2.6).
 *
 * <p>Operand order follows ASL: {@code store(source, destination)}, {@code add(a, b, target)}.
 * A {@code null} target discards the result (NullName).
 */
public final class AmlOps {
    static final int LOCAL0_OP = 0x60;
    static final int ARG0_OP = 0x68;
    static final int STORE_OP = 0x70;
    static final int ADD_OP = 0x72;
    static final int SUBTRACT_OP = 0x74;
    static final int INCREMENT_OP = 0x75;
    static final int DECREMENT_OP = 0x76;
    static final int SHIFT_LEFT_OP = 0x79;
    static final int SHIFT_RIGHT_OP = 0x7A;
    static final int AND_OP = 0x7B;
    static final int OR_OP = 0x7D;
    static final int NOTIFY_OP = 0x86;
    static final int LAND_OP = 0x90;
    static final int LOR_OP = 0x91;
    static final int LNOT_OP = 0x92;
    static final int LEQUAL_OP = 0x93;
    static final int LGREATER_OP = 0x94;
    static final int LLESS_OP = 0x95;
    static final int IF_OP = 0xA0;
    static final int ELSE_OP = 0xA1;
    static final int WHILE_OP = 0xA2;
    static final int RETURN_OP = 0xA4;
    static final int BREAK_OP = 0xA5;
    static final int EXT_OP_PREFIX = 0x5B;
    static final int SLEEP_OP = 0x22;
    static final int ACQUIRE_OP = 0x23;
    static final int RELEASE_OP = 0x27;

    /** Timeout for {@link #acquire} that waits for ever. */
    public static final int WAIT_FOREVER = 0xFFFF;

    private AmlOps() {
    }

    /** {@code LocalN}, one of the eight method locals. */
    public static Aml local(int n) {
        if (n < 0 || n > 7) {
            throw new IllegalArgumentException("AML has Local0 to Local7: n=" + n);
        }
        return out -> out.u8(LOCAL0_OP + n);
    }

    /** {@code ArgN}, one of the seven method arguments. */
    public static Aml arg(int n) {
        if (n < 0 || n > 6) {
            throw new IllegalArgumentException("AML has Arg0 to Arg6: n=" + n);
        }
        return out -> out.u8(ARG0_OP + n);
    }

    /** {@code Store(source, destination)}. */
    public static Aml store(Aml source, Aml destination) {
        return op(STORE_OP, source, destination);
    }

    /** {@code Add(a, b, target)}. */
    public static Aml add(Aml a, Aml b, Aml target) {
        return op(ADD_OP, a, b, target(target));
    }

    /** {@code Subtract(a, b, target)}. */
    public static Aml subtract(Aml a, Aml b, Aml target) {
        return op(SUBTRACT_OP, a, b, target(target));
    }

    /** {@code Increment(target)}. */
    public static Aml increment(Aml target) {
        return op(INCREMENT_OP, target);
    }

    /** {@code Decrement(target)}. */
    public static Aml decrement(Aml target) {
        return op(DECREMENT_OP, target);
    }

    /** {@code ShiftLeft(value, count, target)}. */
    public static Aml shiftLeft(Aml value, Aml count, Aml target) {
        return op(SHIFT_LEFT_OP, value, count, target(target));
    }

    /** {@code ShiftRight(value, count, target)}. */
    public static Aml shiftRight(Aml value, Aml count, Aml target) {
        return op(SHIFT_RIGHT_OP, value, count, target(target));
    }

    /** {@code And(a, b, target)}: bitwise and. */
    public static Aml and(Aml a, Aml b, Aml target) {
        return op(AND_OP, a, b, target(target));
    }

    /** {@code Or(a, b, target)}: bitwise or. */
    public static Aml or(Aml a, Aml b, Aml target) {
        return op(OR_OP, a, b, target(target));
    }

    /** {@code LEqual(a, b)}. */
    public static Aml equal(Aml a, Aml b) {
        return op(LEQUAL_OP, a, b);
    }

    /** {@code LLess(a, b)}. */
    public static Aml less(Aml a, Aml b) {
        return op(LLESS_OP, a, b);
    }

    /** {@code LGreater(a, b)}. */
    public static Aml greater(Aml a, Aml b) {
        return op(LGREATER_OP, a, b);
    }

    /** {@code LNot(a)}. */
    public static Aml not(Aml a) {
        return op(LNOT_OP, a);
    }

    /** {@code LAnd(a, b)}. */
    public static Aml logicalAnd(Aml a, Aml b) {
        return op(LAND_OP, a, b);
    }

    /** {@code LOr(a, b)}. */
    public static Aml logicalOr(Aml a, Aml b) {
        return op(LOR_OP, a, b);
    }

    /**
     * {@code Notify(object, value)}: raises a notification on a device or processor. (Not
     * named {@code notify}, which a static import would lose to {@link Object#notify()}.)
     */
    public static Aml notifyObject(Aml object, Aml value) {
        return op(NOTIFY_OP, object, value);
    }

    /** {@code Acquire(mutex, timeoutMillis)}; {@link #WAIT_FOREVER} never times out. */
    public static Aml acquire(String mutex, int timeoutMillis) {
        if (timeoutMillis < 0 || timeoutMillis > 0xFFFF) {
            throw new IllegalArgumentException("AML acquire timeout out of range: timeout="
                    + timeoutMillis);
        }
        return out -> {
            out.u8(EXT_OP_PREFIX).u8(ACQUIRE_OP);
            AmlEncoding.nameString(out, mutex);
            out.u16(timeoutMillis);
        };
    }

    /** {@code Release(mutex)}. */
    public static Aml release(String mutex) {
        return out -> {
            out.u8(EXT_OP_PREFIX).u8(RELEASE_OP);
            AmlEncoding.nameString(out, mutex);
        };
    }

    /** {@code Sleep(millis)}. */
    public static Aml sleep(Aml millis) {
        return out -> {
            out.u8(EXT_OP_PREFIX).u8(SLEEP_OP);
            millis.encode(out);
        };
    }

    /** {@code Return(value)}. */
    public static Aml ret(Aml value) {
        return op(RETURN_OP, value);
    }

    /** {@code Break}: leaves the innermost While. */
    public static Aml breakLoop() {
        return out -> out.u8(BREAK_OP);
    }

    /** {@code path(args...)}: invokes a method, which must take exactly this many arguments. */
    public static Aml call(String path, Aml... args) {
        List<Aml> list = List.of(args);
        return out -> {
            AmlEncoding.nameString(out, path);
            Aml.sequence(list).encode(out);
        };
    }

    /** {@code If(predicate) { ... }}; {@link If#orElse} adds the Else branch. */
    public static If ifThen(Aml predicate, Aml... body) {
        return new If(predicate, List.of(body), null);
    }

    /** {@code While(predicate) { ... }}. */
    public static Aml whileLoop(Aml predicate, Aml... body) {
        Aml terms = Aml.sequence(body);
        return out -> {
            out.u8(WHILE_OP);
            AmlEncoding.withPkgLength(out, b -> {
                predicate.encode(b);
                terms.encode(b);
            });
        };
    }

    /** An If statement with an optional Else, which AML encodes as two adjacent packages. */
    public static final class If implements Aml {
        private final Aml predicate;
        private final List<Aml> thenBody;
        private final List<Aml> elseBody;

        private If(Aml predicate, List<Aml> thenBody, List<Aml> elseBody) {
            this.predicate = predicate;
            this.thenBody = thenBody;
            this.elseBody = elseBody;
        }

        /** This If with an {@code Else { ... }} branch. */
        public If orElse(Aml... body) {
            return new If(predicate, thenBody, List.of(body));
        }

        @Override
        public void encode(ByteBuilder out) {
            out.u8(IF_OP);
            AmlEncoding.withPkgLength(out, b -> {
                predicate.encode(b);
                Aml.sequence(thenBody).encode(b);
            });
            if (elseBody != null) {
                out.u8(ELSE_OP);
                AmlEncoding.withPkgLength(out, Aml.sequence(elseBody));
            }
        }
    }

    private static Aml target(Aml target) {
        return target != null ? target : out -> out.u8(AmlEncoding.NULL_NAME);
    }

    private static Aml op(int opcode, Aml... operands) {
        List<Aml> list = List.of(operands);
        return out -> {
            out.u8(opcode);
            Aml.sequence(list).encode(out);
        };
    }
}
