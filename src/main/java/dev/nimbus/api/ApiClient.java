package dev.nimbus.api;

import dev.nimbus.sys.SyscallException;
import dev.nimbus.sys.UnixSocket;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A client of the API on its Unix socket, as {@code nimbus-remote} uses it: one request at a
 * time on one connection, descriptors sent along as {@code SCM_RIGHTS} on the request line.
 */
public final class ApiClient implements AutoCloseable {
    private final UnixSocket socket;
    private byte[] pending = new byte[0];

    private ApiClient(UnixSocket socket) {
        this.socket = socket;
    }

    /** A client on an already connected socket. */
    static ApiClient over(UnixSocket socket) {
        return new ApiClient(socket);
    }

    /** Sends {@code bytes} as they are, {@code fds} riding on the first. */
    void sendRaw(byte[] bytes, int[] fds) throws IOException {
        socket.send(bytes, 0, bytes.length, fds);
    }

    /** Connects to the API socket at {@code path}. */
    public static ApiClient connect(String path) throws SyscallException {
        return new ApiClient(UnixSocket.connect(path));
    }

    /**
     * A response.
     *
     * @param status the status code
     * @param body the body, or null when the response declared no {@code Content-Length}
     */
    public record Response(int status, String body) {
        /** Whether the status is one the reference client takes as success (100, 200, 204). */
        public boolean isSuccess() {
            return status == HttpResponse.CONTINUE || status == HttpResponse.OK
                    || status == HttpResponse.NO_CONTENT;
        }
    }

    /**
     * Sends {@code method /api/v1/endpoint} with {@code body} (may be null) and {@code fds}, and
     * reads the response.
     */
    public Response request(String method, String endpoint, String body, int[] fds)
            throws IOException {
        String line = method + " " + Endpoints.BASE + endpoint + " HTTP/1.1\r\n"
                + "Host: localhost\r\nAccept: */*\r\n";
        byte[] first = line.getBytes(StandardCharsets.US_ASCII);
        StringBuilder rest = new StringBuilder();
        byte[] content = body == null ? null : body.getBytes(StandardCharsets.UTF_8);
        if (content != null) {
            rest.append("Content-Length: ").append(content.length).append("\r\n");
        }
        rest.append("\r\n");
        byte[] head = rest.toString().getBytes(StandardCharsets.US_ASCII);
        try {
            socket.send(first, 0, first.length, fds);
            socket.send(head, 0, head.length);
            if (content != null && content.length > 0) {
                socket.send(content, 0, content.length);
            }
        } catch (SyscallException e) {
            // A server that closes at once, as a full one does, may have answered first: the
            // answer says more than the broken pipe.
            try {
                return readResponse();
            } catch (IOException unread) {
                e.addSuppressed(unread);
                throw e;
            }
        }
        return readResponse();
    }

    /** Reads one response, skipping any interim 100 responses. */
    public Response readResponse() throws IOException {
        while (true) {
            int headEnd;
            while ((headEnd = indexOf(pending, "\r\n\r\n")) < 0) {
                readMore();
            }
            String head = new String(pending, 0, headEnd, StandardCharsets.ISO_8859_1);
            int status = status(head);
            Integer length = contentLength(head);
            int bodyStart = headEnd + 4;
            int bodyLength = length == null ? 0 : length;
            while (pending.length < bodyStart + bodyLength) {
                readMore();
            }
            String body = length == null ? null : new String(pending, bodyStart, bodyLength,
                    StandardCharsets.UTF_8);
            pending = Arrays.copyOfRange(pending, bodyStart + bodyLength, pending.length);
            if (status != HttpResponse.CONTINUE) {
                return new Response(status, body);
            }
        }
    }

    private void readMore() throws IOException {
        byte[] buf = new byte[16 << 10];
        UnixSocket.Received r = socket.receive(buf, 0);
        for (int fd : r.fds()) {
            dev.nimbus.sys.Linux.close(fd);
        }
        if (r.length() == 0) {
            throw new IOException("The API server closed the connection");
        }
        byte[] more = Arrays.copyOf(pending, pending.length + r.length());
        System.arraycopy(buf, 0, more, pending.length, r.length());
        pending = more;
    }

    private static int status(String head) throws IOException {
        if (!head.startsWith("HTTP/1.1 ") && !head.startsWith("HTTP/1.0 ")) {
            throw new IOException("HTTP output is missing protocol statement");
        }
        int end = head.indexOf("\r\n");
        String code = head.substring(9, end < 0 ? head.length() : end).trim();
        int space = code.indexOf(' ');
        try {
            return Integer.parseInt(space < 0 ? code : code.substring(0, space));
        } catch (NumberFormatException e) {
            throw new IOException("Error parsing HTTP status code: " + code, e);
        }
    }

    private static Integer contentLength(String head) throws IOException {
        for (String line : head.split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase("Content-Length")) {
                try {
                    return Integer.parseInt(line.substring(colon + 1).trim());
                } catch (NumberFormatException e) {
                    throw new IOException("Error parsing HTTP Content-Length field", e);
                }
            }
        }
        return null;
    }

    private static int indexOf(byte[] data, String pattern) {
        byte[] p = pattern.getBytes(StandardCharsets.US_ASCII);
        outer:
        for (int i = 0; i + p.length <= data.length; i++) {
            for (int j = 0; j < p.length; j++) {
                if (data[i + j] != p[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    @Override
    public void close() {
        socket.close();
    }
}
