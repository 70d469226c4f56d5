package dev.nimbus.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nimbus.api.HttpRequestParser.HttpParseException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class HttpRequestParserTest {
    private static void feed(HttpRequestParser p, String s) {
        byte[] b = s.getBytes(StandardCharsets.ISO_8859_1);
        p.feed(b, 0, b.length);
    }

    @Test
    void requestInOnePieceWithBody() throws Exception {
        HttpRequestParser p = new HttpRequestParser();
        feed(p, "PUT /api/v1/vm.create HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\n\r\n{}");
        HttpRequest r = p.next();
        assertEquals("PUT", r.method());
        assertEquals("/api/v1/vm.create", r.path());
        assertArrayEquals("{}".getBytes(StandardCharsets.US_ASCII), r.body());
        assertNull(p.next());
        assertFalse(p.midRequest());
    }

    @Test
    void requestByteByByte() throws Exception {
        String text = "PUT /api/v1/vm.add-disk HTTP/1.1\r\ncontent-length: 12\r\n\r\n"
                + "{\"path\":\"x\"}";
        HttpRequestParser p = new HttpRequestParser();
        HttpRequest r = null;
        for (int i = 0; i < text.length(); i++) {
            assertNull(r);
            feed(p, text.substring(i, i + 1));
            r = p.next();
        }
        assertEquals("{\"path\":\"x\"}", new String(r.body(), StandardCharsets.US_ASCII));
    }

    @Test
    void noContentLengthOrZeroMeansNoBody() throws Exception {
        HttpRequestParser p = new HttpRequestParser();
        feed(p, "PUT /api/v1/vm.boot HTTP/1.1\r\nContent-Length: 0\r\n\r\n"
                + "GET /api/v1/vm.info HTTP/1.0\r\n\r\n");
        assertNull(p.next().body());
        assertNull(p.next().body());
    }

    @Test
    void largeBodyAcrossManyFeeds() throws Exception {
        HttpRequestParser p = new HttpRequestParser();
        int size = HttpRequestParser.MAX_BODY_BYTES;
        feed(p, "PUT /x HTTP/1.1\r\nContent-Length: " + size + "\r\n\r\n");
        byte[] chunk = new byte[65536];
        for (int sent = 0; sent < size; sent += chunk.length) {
            assertNull(p.next());
            p.feed(chunk, 0, chunk.length);
        }
        assertEquals(size, p.next().body().length);
    }

    @Test
    void continueIsOfferedOnceWhileTheBodyIsMissing() throws Exception {
        HttpRequestParser p = new HttpRequestParser();
        feed(p, "PUT /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
        assertNull(p.next());
        assertTrue(p.takeContinue());
        assertFalse(p.takeContinue());
        feed(p, "{}");
        assertEquals(2, p.next().body().length);
    }

    @Test
    void badRequestsAreRefusedWithTheReason() {
        for (String[] c : new String[][] {
            {"POST /x HTTP/1.1\r\n\r\n", "Invalid HTTP Method"},
            {"GET /x HTTP/2.0\r\n\r\n", "Invalid HTTP Version"},
            {"GET  HTTP/1.1\r\n\r\n", "Invalid URI"},
            {"GET\r\n\r\n", "Invalid request."},
            {"GET /x HTTP/1.1\r\nBroken\r\n\r\n", "Invalid header"},
            {"PUT /x HTTP/1.1\r\nContent-Length: -5\r\n\r\n", "Invalid header"},
            {"PUT /x HTTP/1.1\r\nContent-Length: 4194305\r\n\r\n",
                "larger than the limit of 4194304"},
        }) {
            HttpRequestParser p = new HttpRequestParser();
            feed(p, c[0]);
            HttpParseException e = assertThrows(HttpParseException.class, p::next, c[0]);
            assertTrue(e.getMessage().contains(c[1]), e.getMessage());
        }
    }

    @Test
    void endlessHeadersAreRefused() {
        HttpRequestParser p = new HttpRequestParser();
        feed(p, "GET /x HTTP/1.1\r\n");
        String header = "X-Filler: " + "a".repeat(1000) + "\r\n";
        HttpParseException e = assertThrows(HttpParseException.class, () -> {
            while (true) {
                feed(p, header);
                p.next();
            }
        });
        assertTrue(e.getMessage().contains("Header size limit"), e.getMessage());
    }

    @Test
    void absoluteFormTargetsAreReducedToTheirPath() {
        assertEquals("/api/v1/vm.info",
                HttpRequestParser.absolutePath("http://localhost/api/v1/vm.info"));
        assertEquals("", HttpRequestParser.absolutePath("http://localhost"));
        assertEquals("", HttpRequestParser.absolutePath("vm.info"));
    }
}
