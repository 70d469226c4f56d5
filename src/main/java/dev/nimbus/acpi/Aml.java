package dev.nimbus.acpi;

import java.util.List;

/**
 * A fragment of ACPI Machine Language (ACPI 6.5, chapter 20): a data object, a named object, a
 * statement or an expression, ready to be encoded into a definition block.
 *
 * <p>Fragments are built with the factories in {@link AmlData}, {@link AmlObjects}, {@link
 * AmlOps} and {@link ResourceTemplate}, and compose into trees; encoding a tree walks it once.
 * Other code may implement this interface for objects of its own, using {@link AmlEncoding} for
 * package lengths and name strings.
 */
@FunctionalInterface
public interface Aml {
    /** Appends this fragment's encoding to {@code out}. */
    void encode(ByteBuilder out);

    /** This fragment's encoding on its own. */
    default byte[] toByteArray() {
        ByteBuilder out = new ByteBuilder();
        encode(out);
        return out.toByteArray();
    }

    /** Several fragments one after another, as in a TermList. */
    static Aml sequence(List<? extends Aml> terms) {
        List<Aml> copy = List.copyOf(terms);
        return out -> {
            for (Aml term : copy) {
                term.encode(out);
            }
        };
    }

    /** Several fragments one after another, as in a TermList. */
    static Aml sequence(Aml... terms) {
        return sequence(List.of(terms));
    }
}
