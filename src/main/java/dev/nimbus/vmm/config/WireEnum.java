package dev.nimbus.vmm.config;

import dev.nimbus.json.JsonFields;
import java.util.ArrayList;
import java.util.List;

/** Lookups shared by the small enums that have an API spelling and a command-line spelling. */
final class WireEnum {
    private WireEnum() {}

    /** An enum constant with its two spellings. */
    interface Named {
        String jsonName();

        /** The command-line spelling; null when the option string cannot name it. */
        String cliName();
    }

    static <E extends Enum<E> & Named> List<String> jsonNames(Class<E> type) {
        List<String> names = new ArrayList<>();
        for (E e : type.getEnumConstants()) {
            names.add(e.jsonName());
        }
        return names;
    }

    static <E extends Enum<E> & Named> E fromJson(Class<E> type, String name) {
        for (E e : type.getEnumConstants()) {
            if (e.jsonName().equals(name)) {
                return e;
            }
        }
        throw new IllegalArgumentException("Unknown " + type.getSimpleName() + ": " + name);
    }

    /** The enum member {@code key} of {@code fields}, or {@code otherwise} when it is absent. */
    static <E extends Enum<E> & Named> E read(
            JsonFields fields, String key, Class<E> type, E otherwise) {
        String name = fields.variant(
                key, jsonNames(type), otherwise == null ? null : otherwise.jsonName());
        return fromJson(type, name);
    }

    /** The enum option {@code key} spelled as on the command line, or null when unset. */
    static <E extends Enum<E> & Named> E option(
            OptionParser parser, String key, Class<E> type, boolean ignoreCase) {
        return parser.convert(
                key, raw -> fromCli(type, OptionParser.dequote(raw), ignoreCase));
    }

    /** The constant spelled {@code name} on the command line, or null. */
    static <E extends Enum<E> & Named> E fromCli(Class<E> type, String name, boolean ignoreCase) {
        for (E e : type.getEnumConstants()) {
            String cli = e.cliName();
            if (cli != null && (ignoreCase ? cli.equalsIgnoreCase(name) : cli.equals(name))) {
                return e;
            }
        }
        return null;
    }
}
