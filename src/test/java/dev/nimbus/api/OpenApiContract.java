package dev.nimbus.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.dialect.Dialects;
import dev.nimbus.json.JsonArray;
import dev.nimbus.json.JsonParser;
import dev.nimbus.json.JsonString;
import dev.nimbus.json.JsonValue;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Checks bodies against the API's contract, {@code cloud-hypervisor.yaml} (a copy kept in the
 * test resources), with the OpenAPI 3.0 dialect of networknt's JSON schema validator: a request
 * body against its endpoint's {@code requestBody} schema, a response body against the schema of
 * its status code. Error bodies, which the contract leaves undescribed, must be what the
 * reference server sends: a JSON array of strings.
 */
final class OpenApiContract {
    private static final String DOCUMENT = "classpath:dev/nimbus/api/cloud-hypervisor.yaml";
    private static final SchemaRegistry REGISTRY =
            SchemaRegistry.withDialect(Dialects.getOpenApi30());
    private static final Map<String, Schema> SCHEMAS = new ConcurrentHashMap<>();

    private OpenApiContract() {}

    /** The schema at JSON pointer {@code pointer} of the contract. */
    static Schema schema(String pointer) {
        return SCHEMAS.computeIfAbsent(pointer,
                p -> REGISTRY.getSchema(SchemaLocation.of(DOCUMENT + "#" + p)));
    }

    private static String operation(String endpoint, String method) {
        return "/paths/~1" + endpoint + "/" + method.toLowerCase();
    }

    /** Fails unless {@code body} fits the request schema of {@code method endpoint}. */
    static void assertRequestValid(String method, String endpoint, String body) {
        Schema s = schema(operation(endpoint, method)
                + "/requestBody/content/application~1json/schema");
        List<Error> errors = s.validate(body, InputFormat.JSON);
        assertTrue(errors.isEmpty(), () -> "request body of " + method + " " + endpoint
                + " breaks the contract: " + errors + "\n" + body);
    }

    /** Fails unless {@code body} fits the component schema {@code name}. */
    static void assertFits(String name, String body) {
        List<Error> errors = schema("/components/schemas/" + name).validate(body,
                InputFormat.JSON);
        assertTrue(errors.isEmpty(), () -> "body breaks schema " + name + ": " + errors + "\n"
                + body);
    }

    /**
     * Fails unless a response fits the contract: a 200 body its endpoint's schema, an error
     * body an array of strings.
     */
    static void assertResponseValid(String method, String endpoint, int status, String body) {
        if (status == 200 && body != null && !body.isEmpty()) {
            Schema s = schema(operation(endpoint, method)
                    + "/responses/200/content/application~1json/schema");
            List<Error> errors = s.validate(body, InputFormat.JSON);
            assertTrue(errors.isEmpty(), () -> "response of " + method + " " + endpoint
                    + " breaks the contract: " + errors + "\n" + body);
        } else if (status >= 400 && body != null && !body.isEmpty() && body.startsWith("[")) {
            errorChain(body);
        }
    }

    /** The messages of an error body, which must be a JSON array of strings. */
    static List<String> errorChain(String body) {
        JsonValue v = JsonParser.parse(body);
        JsonArray a = assertInstanceOf(JsonArray.class, v, "error body is not an array: " + body);
        return a.elements().stream()
                .map(e -> assertInstanceOf(JsonString.class, e, "not a string: " + body).value())
                .toList();
    }

    /** Fails unless the response has {@code status} and the error chain {@code chain}. */
    static void assertError(ApiClient.Response r, int status, String... chain) {
        assertEquals(status, r.status(), () -> "body: " + r.body());
        assertEquals(List.of(chain), errorChain(r.body()));
    }
}
