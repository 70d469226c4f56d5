package dev.nimbus.vmm.config;

import dev.nimbus.json.JsonFields;
import java.util.ArrayList;
import java.util.List;

/**
 * Lookups shared by the small enums that have an API spelling and a command-line spelling. They
 * take the enum's {@code values()} array rather than its class, so that no reflection runs while
 * the first request is read.
 */
final class WireEnum {
    private WireEnum() {}

    /** An enum constant with its two spellings. */
    interface Named {
        String jsonName();

        /** The command-line spelling; null when the option string cannot name it. */
        String cliName();
    }

    static List<String> jsonNames(Named[] constants) {
        List<String> names = new ArrayList<>(constants.length);
        for (Named e : constants) {
            names.add(e.jsonName());
        }
        return names;
    }

    /**
     * The enum member {@code key} of {@code fields}, or {@code otherwise} when it is absent (a
     * null {@code otherwise} makes the member required).
     */
    static <E extends Named> E read(JsonFields fields, String key, E[] constants, E otherwise) {
        String name = fields.variant(
                key, jsonNames(constants), otherwise == null ? null : otherwise.jsonName());
        for (E e : constants) {
            if (e.jsonName().equals(name)) {
                return e;
            }
        }
        throw new AssertionError("variant() returned an unknown name: " + name);
    }

    /** The enum option {@code key} spelled as on the command line, or null when unset. */
    static <E extends Named> E option(
            OptionParser parser, String key, E[] constants, boolean ignoreCase) {
        String raw = parser.raw(key);
        if (raw == null) {
            return null;
        }
        String name = OptionParser.dequote(raw);
        for (E e : constants) {
            String cli = e.cliName();
            if (cli != null && (ignoreCase ? cli.equalsIgnoreCase(name) : cli.equals(name))) {
                return e;
            }
        }
        throw parser.conversionError(key, raw);
    }
}
