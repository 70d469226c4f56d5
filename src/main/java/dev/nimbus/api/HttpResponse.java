package dev.nimbus.api;

import java.nio.charset.StandardCharsets;

/**
 * One HTTP response as the API server writes it: the status line without a reason phrase,
 * {@code Server} and {@code Connection: keep-alive}, then {@code Content-Type} and
 * {@code Content-Length} except on 1xx and 204 responses, which carry no content.
 *
 * @param status the status code
 * @param body the body; empty for none
 */
public record HttpResponse(int status, byte[] body) {
    public static final int CONTINUE = 100;
    public static final int OK = 200;
    public static final int NO_CONTENT = 204;
    public static final int BAD_REQUEST = 400;
    public static final int NOT_FOUND = 404;
    public static final int METHOD_NOT_ALLOWED = 405;
    public static final int CONFLICT = 409;
    public static final int TOO_MANY_REQUESTS = 429;
    public static final int INTERNAL_SERVER_ERROR = 500;

    /** What the server calls itself, as clients of the reference API expect. */
    static final String SERVER = "Cloud Hypervisor API";

    private static final byte[] NONE = new byte[0];

    /** A response without a body. */
    public static HttpResponse of(int status) {
        return new HttpResponse(status, NONE);
    }

    /** A response with a JSON body. */
    public static HttpResponse json(int status, String body) {
        return new HttpResponse(status, body.getBytes(StandardCharsets.UTF_8));
    }

    /** Whether the response declares its content (all but 1xx and 204). */
    public boolean hasContent() {
        return status != CONTINUE && status != NO_CONTENT;
    }

    /** The whole response as it goes on the wire. */
    public byte[] encode() {
        StringBuilder head = new StringBuilder(160);
        head.append("HTTP/1.1 ").append(status).append(" \r\n")
                .append("Server: ").append(SERVER).append("\r\n")
                .append("Connection: keep-alive\r\n");
        if (hasContent()) {
            head.append("Content-Type: application/json\r\n")
                    .append("Content-Length: ").append(body.length).append("\r\n");
        }
        head.append("\r\n");
        byte[] h = head.toString().getBytes(StandardCharsets.US_ASCII);
        if (!hasContent() || body.length == 0) {
            return h;
        }
        byte[] all = new byte[h.length + body.length];
        System.arraycopy(h, 0, all, 0, h.length);
        System.arraycopy(body, 0, all, h.length, body.length);
        return all;
    }
}
