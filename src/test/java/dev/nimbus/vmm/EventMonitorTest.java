package dev.nimbus.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EventMonitorTest {
    @TempDir
    Path dir;

    @Test
    void eventsArePrettyPrintedObjectsSeparatedByABlankLine() throws Exception {
        Path file = dir.resolve("events");
        EventMonitor monitor = EventMonitor.toPath(file.toString());
        monitor.event("vmm", "starting");
        Map<String, String> props = new LinkedHashMap<>();
        props.put("id", "_disk0");
        monitor.event("virtio-device", "activated", props);
        monitor.close();
        String text = Files.readString(file);
        String[] records = text.split("\n\n");
        assertEquals(2, records.length, text);
        assertTrue(text.endsWith("}\n\n"));
        String first = records[0].replaceAll("\"secs\": \\d+", "\"secs\": S")
                .replaceAll("\"nanos\": \\d+", "\"nanos\": N");
        assertEquals("""
                {
                  "timestamp": {
                    "secs": S,
                    "nanos": N
                  },
                  "source": "vmm",
                  "event": "starting",
                  "properties": null
                }""", first);
        assertTrue(records[1].endsWith("""
                  "source": "virtio-device",
                  "event": "activated",
                  "properties": {
                    "id": "_disk0"
                  }
                }"""), records[1]);
    }

    @Test
    void eventsAfterCloseAreDropped() throws Exception {
        Path file = dir.resolve("events");
        EventMonitor monitor = EventMonitor.toPath(file.toString());
        monitor.close();
        monitor.event("vm", "booting");
        assertEquals("", Files.readString(file));
    }

    @Test
    void theFileIsTruncatedAndOwnerOnlyUnderTheVmmUmask() throws Exception {
        Path file = dir.resolve("events");
        Files.writeString(file, "old content");
        int old = dev.nimbus.sys.FileControl.umask(0077);
        try {
            Files.delete(file);
            Files.writeString(file, "old content");
            EventMonitor.toPath(file.toString()).close();
        } finally {
            dev.nimbus.sys.FileControl.umask(old);
        }
        assertEquals("", Files.readString(file));
    }
}
