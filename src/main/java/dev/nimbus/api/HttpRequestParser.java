package dev.nimbus.api;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Reads HTTP/1.1 requests (RFC 9112) from the bytes of one connection, as they arrive: a request
 * may come in any number of pieces, and one read may hold several requests.
 *
 * <p>What it accepts is what the reference API server accepts: methods {@code GET}, {@code PUT},
 * {@code PATCH} and {@code DELETE}; versions 1.0 and 1.1; a body of {@code Content-Length}
 * bytes, at most {@link #MAX_BODY_BYTES}; no {@code Content-Type} needed. Unknown headers are
 * ignored. Anything else is a {@link HttpParseException}, after which the connection is unusable.
 */
public final class HttpRequestParser {
    /** The largest body the API takes: 4 MiB. */
    public static final int MAX_BODY_BYTES = 4 << 20;

    /** The most bytes the request line and headers of one request may take. */
    public static final int MAX_HEAD_BYTES = 64 << 10;

    private static final byte[] END_OF_HEAD = {'\r', '\n', '\r', '\n'};

    private byte[] buf = new byte[4096];
    private int start; // first byte of the request being parsed
    private int end; // one past the last byte received
    private int scanFrom; // where the search for the end of the head resumes

    // Set once the head of the current request is parsed.
    private boolean haveHead;
    private String method;
    private String path;
    private int bodyLength;
    private boolean expectContinue;
    private boolean continueSent;

    /** Appends {@code len} received bytes. */
    public void feed(byte[] data, int off, int len) {
        if (end + len > buf.length) {
            int used = end - start;
            if (used + len > buf.length / 2 || start == 0) {
                buf = Arrays.copyOf(buf, Math.max(buf.length * 2, used + len + 4096));
            }
            System.arraycopy(buf, start, buf, 0, used);
            scanFrom -= start;
            end = used;
            start = 0;
        }
        System.arraycopy(data, off, buf, end, len);
        end += len;
    }

    /** Whether bytes of an unfinished request are buffered. */
    public boolean midRequest() {
        return end > start;
    }

    /**
     * Whether the client asked to be told to send its body ({@code Expect: 100-continue}) and has
     * not been told yet; the caller sends a 100 response and this then answers false.
     */
    public boolean takeContinue() {
        if (haveHead && expectContinue && !continueSent && end - start < bodyLength) {
            continueSent = true;
            return true;
        }
        return false;
    }

    /**
     * The next complete request, or null when more bytes are needed. Its {@code fds} are empty;
     * the connection attaches the descriptors it received.
     */
    public HttpRequest next() throws HttpParseException {
        if (!haveHead && !parseHead()) {
            return null;
        }
        if (end - start < bodyLength) {
            return null;
        }
        byte[] body = bodyLength == 0 ? null : Arrays.copyOfRange(buf, start, start + bodyLength);
        start += bodyLength;
        scanFrom = start;
        haveHead = false;
        HttpRequest request = new HttpRequest(method, path, body, new int[0]);
        if (start == end) {
            start = 0;
            end = 0;
            scanFrom = 0;
        }
        return request;
    }

    private boolean parseHead() throws HttpParseException {
        int headEnd = indexOf(END_OF_HEAD, Math.max(start, scanFrom - 3), end);
        if (headEnd < 0) {
            if (end - start > MAX_HEAD_BYTES) {
                throw new HttpParseException("Invalid header. Reason: Header size limit of "
                        + MAX_HEAD_BYTES + " bytes exceeded.");
            }
            scanFrom = end;
            return false;
        }
        String head = new String(buf, start, headEnd - start, StandardCharsets.ISO_8859_1);
        start = headEnd + END_OF_HEAD.length;
        scanFrom = start;

        int lineEnd = head.indexOf("\r\n");
        requestLine(lineEnd < 0 ? head : head.substring(0, lineEnd));
        bodyLength = 0;
        expectContinue = false;
        continueSent = false;
        int pos = lineEnd < 0 ? head.length() : lineEnd + 2;
        while (pos < head.length()) {
            int next = head.indexOf("\r\n", pos);
            if (next < 0) {
                next = head.length();
            }
            header(head.substring(pos, next));
            pos = next + 2;
        }
        haveHead = true;
        return true;
    }

    private void requestLine(String line) throws HttpParseException {
        int sp1 = line.indexOf(' ');
        int sp2 = sp1 < 0 ? -1 : line.indexOf(' ', sp1 + 1);
        if (sp1 < 0 || sp2 < 0) {
            throw new HttpParseException("Invalid request.");
        }
        String m = line.substring(0, sp1);
        String target = line.substring(sp1 + 1, sp2);
        String version = line.substring(sp2 + 1);
        if (!m.equals("GET") && !m.equals("PUT") && !m.equals("PATCH") && !m.equals("DELETE")) {
            throw new HttpParseException("Invalid HTTP Method: Unsupported HTTP method.");
        }
        if (target.isEmpty()) {
            throw new HttpParseException("Invalid URI: Empty URI not allowed.");
        }
        if (!version.equals("HTTP/1.1") && !version.equals("HTTP/1.0")) {
            throw new HttpParseException("Invalid HTTP Version: Unsupported HTTP version.");
        }
        method = m;
        path = absolutePath(target);
    }

    /** The path of a request target: origin form as it is, absolute form without its authority. */
    static String absolutePath(String target) {
        String scheme = "http://";
        if (target.startsWith(scheme)) {
            int slash = target.indexOf('/', scheme.length());
            return slash < 0 ? "" : target.substring(slash);
        }
        return target.startsWith("/") ? target : "";
    }

    private void header(String line) throws HttpParseException {
        int colon = line.indexOf(':');
        if (colon < 0) {
            throw new HttpParseException("Invalid header. Reason: Invalid header format: "
                    + line);
        }
        String name = line.substring(0, colon).trim();
        String value = line.substring(colon + 1).trim();
        if (name.equalsIgnoreCase("Content-Length")) {
            long length;
            try {
                length = Long.parseLong(value);
            } catch (NumberFormatException e) {
                length = -1;
            }
            if (length < 0 || length > 0xFFFF_FFFFL) {
                throw new HttpParseException("Invalid header. Reason: Invalid value. Key:"
                        + name + "; Value: " + value);
            }
            if (length > MAX_BODY_BYTES) {
                throw new HttpParseException("Request payload with size " + length
                        + " is larger than the limit of " + MAX_BODY_BYTES
                        + " allowed by server.");
            }
            bodyLength = (int) length;
        } else if (name.equalsIgnoreCase("Expect")) {
            expectContinue = value.equals("100-continue");
        }
    }

    private int indexOf(byte[] pattern, int from, int to) {
        for (int i = Math.max(from, 0); i + pattern.length <= to; i++) {
            boolean match = true;
            for (int j = 0; j < pattern.length; j++) {
                if (buf[i + j] != pattern[j]) {
                    match = false;
                    break;
                }
            }
            if (match) {
                return i;
            }
        }
        return -1;
    }

    /** A request the server cannot read; the message is what the client is told. */
    public static final class HttpParseException extends Exception {
        private static final long serialVersionUID = 1L;

        public HttpParseException(String message) {
            super(message);
        }
    }
}
