package dev.nimbus.vmm.config;

import dev.nimbus.json.JsonException;
import dev.nimbus.json.JsonFields;
import dev.nimbus.json.JsonParser;
import java.util.function.Function;

/**
 * Reads an API request body into one configuration record, e.g. the {@code DiskConfig} of
 * {@code vm.add-disk}: {@code ConfigJson.parse(body, DiskConfig::fromJson)}.
 */
public final class ConfigJson {
    private ConfigJson() {}

    /**
     * Parses {@code body} and maps it with {@code reader}.
     *
     * @throws ConfigException of kind {@link ConfigException.Kind#JSON} (HTTP 400) when the body
     *     is not JSON or does not fit the record
     */
    public static <T> T parse(byte[] body, Function<JsonFields, T> reader) {
        try {
            return reader.apply(JsonFields.of(JsonParser.parse(body), ""));
        } catch (JsonException e) {
            throw ConfigException.json(e.getMessage());
        }
    }
}
