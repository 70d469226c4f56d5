package dev.nimbus.vmm.config;

import dev.nimbus.json.UnsignedType;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The option-string grammar of the Cloud Hypervisor command line: {@code key=value,key=value}.
 *
 * <ul>
 *   <li>Keys are registered up front; an unregistered key is an error ({@code Unknown option:
 *       key}), except through {@link #parseSubset}.
 *   <li>A valueless key ({@link #addValueless}) stands alone, like {@code tty} in {@code --serial
 *       tty}; any other key needs {@code =}.
 *   <li>{@code key=} with nothing after it leaves the key unset.
 *   <li>Commas inside {@code [...]} or inside double quotes do not split; {@code "} quotes are
 *       removed from values, and {@code ""} inside quotes stands for one {@code "}.
 *   <li>Typed getters convert: toggles ({@code on/off/true/false}), byte sizes with a {@code K},
 *       {@code M} or {@code G} suffix (powers of 1024), integers, integer lists with ranges
 *       ({@code [0,2,4-7]}), tuple lists ({@code [0@[0,2],1@[1,3]]}) and string lists.
 * </ul>
 *
 * <p>Every error names the option it came from, e.g. {@code Error parsing --disk: Unable to convert
 * x for queue_size}.
 */
public final class OptionParser {
    private final String context;
    private final Map<String, Entry> entries = new HashMap<>();

    private static final class Entry {
        final boolean requiresValue;
        String value;

        Entry(boolean requiresValue) {
            this.requiresValue = requiresValue;
        }
    }

    /** A parser whose errors start with {@code context}, e.g. {@code "Error parsing --disk"}. */
    public OptionParser(String context) {
        this.context = context;
    }

    /** Registers keys that take a value. */
    public OptionParser add(String... keys) {
        for (String key : keys) {
            entries.put(key, new Entry(true));
        }
        return this;
    }

    /** Registers keys that stand alone, without {@code =value}. */
    public OptionParser addValueless(String... keys) {
        for (String key : keys) {
            entries.put(key, new Entry(false));
        }
        return this;
    }

    /** Parses {@code input}; a key that was not registered is an error. */
    public OptionParser parse(String input) {
        parse(input, false);
        return this;
    }

    /** Parses {@code input}, skipping keys that were not registered. */
    public OptionParser parseSubset(String input) {
        parse(input, true);
        return this;
    }

    private void parse(String input, boolean ignoreUnknown) {
        if (input.strip().isEmpty()) {
            return;
        }
        for (String option : splitCommas(input)) {
            int eq = option.indexOf('=');
            String key = eq < 0 ? option : option.substring(0, eq);
            Entry entry = entries.get(key);
            if (entry == null) {
                if (ignoreUnknown) {
                    continue;
                }
                throw error("Unknown option: " + key);
            }
            if (entry.requiresValue) {
                if (eq < 0) {
                    throw error("Invalid syntax: " + option);
                }
                entry.value = option.substring(eq + 1).strip();
            } else {
                entry.value = "";
            }
        }
    }

    /**
     * Splits at commas that are outside brackets and quotes; unbalanced brackets or quotes are a
     * syntax error.
     */
    private List<String> splitCommas(String s) {
        List<String> list = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        int openBrackets = 0;
        boolean inQuotes = false;
        String trimmed = s.strip();
        for (int i = 0; i < trimmed.length(); i++) {
            char c = trimmed.charAt(i);
            if (c == '"') {
                inQuotes = !inQuotes;
            } else if (!inQuotes) {
                if (c == '[') {
                    openBrackets++;
                } else if (c == ']') {
                    if (openBrackets == 0) {
                        throw error("Invalid syntax: " + s);
                    }
                    openBrackets--;
                } else if (c == ',' && openBrackets == 0) {
                    list.add(current.toString());
                    current.setLength(0);
                    continue;
                }
            }
            current.append(c);
        }
        list.add(current.toString());
        if (inQuotes || openBrackets != 0) {
            throw error("Invalid syntax: " + s);
        }
        return list;
    }

    /** Whether {@code key} appeared in the input, with or without a value. */
    public boolean isSet(String key) {
        Entry entry = entries.get(key);
        return entry != null && entry.value != null;
    }

    /** The value of {@code key} with quotes removed, or null when unset or empty. */
    public String get(String key) {
        String raw = raw(key);
        return raw == null ? null : dequote(raw);
    }

    /** The toggle {@code key}, or null when unset or empty. */
    public Boolean toggle(String key) {
        String raw = raw(key);
        return raw == null ? null : checked(key, raw, parseToggle(raw));
    }

    /** The toggle {@code key}, or {@code otherwise} when unset or empty. */
    public boolean toggle(String key, boolean otherwise) {
        Boolean value = toggle(key);
        return value == null ? otherwise : value;
    }

    /** The byte size {@code key} ({@code 512M}), or null when unset or empty. */
    public Long byteSize(String key) {
        String raw = raw(key);
        return raw == null ? null : checked(key, raw, parseByteSize(dequote(raw)));
    }

    /** The unsigned integer {@code key} of the given type, or null when unset or empty. */
    public Long unsigned(String key, UnsignedType type) {
        String raw = raw(key);
        return raw == null ? null : checked(key, raw, parseUnsigned(dequote(raw), type));
    }

    /** The unsigned integer {@code key} that fits an {@code int}, or null when unset or empty. */
    public Integer unsignedInt(String key, UnsignedType type) {
        Long value = unsigned(key, type);
        return value == null ? null : Math.toIntExact(value);
    }

    /** The integer list {@code key} ({@code [0,2,4-7]}), or null when unset or empty. */
    public List<Long> integerList(String key, UnsignedType type) {
        String raw = raw(key);
        return raw == null ? null : checked(key, raw, parseIntegerList(raw, type));
    }

    /**
     * The tuple list {@code key} ({@code [0@[0,2],1@[1,3]]}) whose values are integer lists, or
     * null when unset or empty; {@code keyType} bounds the integer before each {@code @}.
     */
    public List<Tuple> tupleList(String key, UnsignedType keyType) {
        String raw = raw(key);
        return raw == null ? null : checked(key, raw, parseTupleList(raw, keyType));
    }

    /** The string list {@code key} ({@code [a,b]}, brackets optional), or null when unset. */
    public List<String> stringList(String key) {
        String raw = raw(key);
        if (raw == null) {
            return null;
        }
        List<String> list;
        try {
            list = splitCommas(trimBrackets(raw.strip()));
        } catch (ConfigException e) {
            list = null;
        }
        return checked(key, raw, list);
    }

    /**
     * The value of {@code key} converted by {@code parse}, which gets the raw value (quotes kept)
     * and returns null when it cannot convert it; null when the key is unset or empty.
     */
    public <T> T convert(String key, Function<String, T> parse) {
        String raw = raw(key);
        return raw == null ? null : checked(key, raw, parse.apply(raw));
    }

    /**
     * The raw value of {@code key}, quotes kept, for a conversion of the caller's own; null when
     * unset or empty.
     */
    public String raw(String key) {
        Entry entry = entries.get(key);
        if (entry == null) {
            throw new IllegalArgumentException("Key was not registered: " + key);
        }
        return entry.value == null || entry.value.isEmpty() ? null : entry.value;
    }

    /** The error for a value that does not convert: {@code Unable to convert x for key}. */
    public ConfigException conversionError(String key, String raw) {
        return error("Unable to convert " + raw + " for " + key);
    }

    private <T> T checked(String key, String raw, T value) {
        if (value == null) {
            throw conversionError(key, raw);
        }
        return value;
    }

    /** An error in this option's context: {@code Error parsing --disk: detail}. */
    ConfigException error(String detail) {
        return ConfigException.option(context, detail);
    }

    /** One {@code key@values} element of a tuple list. */
    public record Tuple(long key, List<Long> values) {
        public Tuple {
            values = List.copyOf(values);
        }
    }

    /** Removes double quotes; two quotes in a row inside quotes stand for one. */
    static String dequote(String s) {
        StringBuilder out = new StringBuilder(s.length());
        boolean inQuotes = false;
        char previous = '\0';
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"') {
                if (previous == '"' && !inQuotes) {
                    out.append('"');
                }
                inQuotes = !inQuotes;
            } else {
                out.append(c);
            }
            previous = c;
        }
        return out.toString();
    }

    static Boolean parseToggle(String s) {
        return switch (s.toLowerCase(java.util.Locale.ROOT)) {
            case "", "off", "false" -> Boolean.FALSE;
            case "on", "true" -> Boolean.TRUE;
            default -> null;
        };
    }

    /**
     * Parses a byte count with an optional {@code K}, {@code M} or {@code G} suffix. Like the
     * reference grammar, the last character picks the unit and every trailing unit letter is then
     * dropped. A result that does not fit 63 bits is refused rather than wrapped.
     */
    static Long parseByteSize(String s) {
        String t = s.strip();
        int shift = t.endsWith("K") ? 10 : t.endsWith("M") ? 20 : t.endsWith("G") ? 30 : 0;
        int end = t.length();
        while (end > 0 && "KMG".indexOf(t.charAt(end - 1)) >= 0) {
            end--;
        }
        Long value = parseUnsigned(t.substring(0, end), UnsignedType.U64);
        if (value == null || Long.numberOfLeadingZeros(value) <= shift) {
            return null;
        }
        return value << shift;
    }

    /** Parses a decimal unsigned integer ({@code +} allowed) no larger than the type allows. */
    static Long parseUnsigned(String s, UnsignedType type) {
        int start = s.startsWith("+") ? 1 : 0;
        if (start == s.length()) {
            return null;
        }
        for (int i = start; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return null;
            }
        }
        BigInteger value = new BigInteger(s.substring(start));
        if (value.compareTo(BigInteger.valueOf(type.max())) > 0) {
            return null;
        }
        return value.longValue();
    }

    /** Parses {@code [0,2,4-7]}: brackets optional, ranges inclusive and ascending. */
    static List<Long> parseIntegerList(String s, UnsignedType type) {
        List<Long> out = new ArrayList<>();
        for (String range : trimBrackets(s.strip()).split(",", -1)) {
            String[] items = range.split("-", -1);
            if (items.length > 2) {
                return null;
            }
            Long start = parseUnsigned(items[0], UnsignedType.U64);
            Long end = items.length == 2 ? parseUnsigned(items[1], UnsignedType.U64) : start;
            if (start == null || end == null || (items.length == 2 && start >= end)) {
                return null;
            }
            for (long v = start; v <= end; v++) {
                if (v > type.max()) {
                    return null;
                }
                out.add(v);
            }
        }
        return out;
    }

    /** Parses {@code [k@[list],k@[list]]}; the outer brackets are required. */
    private List<Tuple> parseTupleList(String s, UnsignedType keyType) {
        String t = s.strip();
        if (t.length() < 2 || t.charAt(0) != '[' || t.charAt(t.length() - 1) != ']') {
            return null;
        }
        List<String> elements;
        try {
            elements = splitCommas(t.substring(1, t.length() - 1));
        } catch (ConfigException e) {
            return null;
        }
        List<Tuple> out = new ArrayList<>();
        for (String element : elements) {
            Tuple tuple = parseTuple(element.strip(), keyType);
            if (tuple == null) {
                return null;
            }
            out.add(tuple);
        }
        return out;
    }

    private static Tuple parseTuple(String element, UnsignedType keyType) {
        int at = -1;
        boolean inQuotes = false;
        for (int i = 0; i < element.length(); i++) {
            char c = element.charAt(i);
            if (c == '"') {
                inQuotes = !inQuotes;
            } else if (c == '@' && !inQuotes) {
                if (at >= 0 || i == 0) {
                    return null;
                }
                at = i;
            }
        }
        if (at < 0) {
            return null;
        }
        Long key = parseUnsigned(dequote(element.substring(0, at)), keyType);
        List<Long> values = parseIntegerList(element.substring(at + 1), UnsignedType.U64);
        return key == null || values == null ? null : new Tuple(key, values);
    }

    private static String trimBrackets(String s) {
        int start = 0;
        int end = s.length();
        while (start < end && (s.charAt(start) == '[' || s.charAt(start) == ']')) {
            start++;
        }
        while (end > start && (s.charAt(end - 1) == '[' || s.charAt(end - 1) == ']')) {
            end--;
        }
        return s.substring(start, end);
    }
}
