package dev.nimbus.devices.virtio.block;

import static dev.nimbus.devices.virtio.DeviceHarness.TIMEOUT_MILLIS;
import static dev.nimbus.devices.virtio.block.BlockRequestHandler.VIRTIO_BLK_S_IOERR;
import static dev.nimbus.devices.virtio.block.BlockRequestHandler.VIRTIO_BLK_S_OK;
import static dev.nimbus.devices.virtio.block.BlockRequestHandler.VIRTIO_BLK_S_UNSUPP;
import static dev.nimbus.devices.virtio.block.BlockRequestHandler.VIRTIO_BLK_T_DISCARD;
import static dev.nimbus.devices.virtio.block.BlockRequestHandler.VIRTIO_BLK_T_FLUSH;
import static dev.nimbus.devices.virtio.block.BlockRequestHandler.VIRTIO_BLK_T_IN;
import static dev.nimbus.devices.virtio.block.BlockRequestHandler.VIRTIO_BLK_T_OUT;
import static dev.nimbus.devices.virtio.block.BlockRequestHandler.VIRTIO_BLK_T_WRITE_ZEROES;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nimbus.block.DiskImage;
import dev.nimbus.block.DiskImageException;
import dev.nimbus.block.DiskImages;
import dev.nimbus.block.DiskTopology;
import dev.nimbus.block.RawImage;
import dev.nimbus.devices.virtio.DeviceHarness;
import dev.nimbus.devices.virtio.Virtio;
import dev.nimbus.devices.virtio.VirtioDevice;
import dev.nimbus.devices.virtio.VirtioDeviceContract;
import dev.nimbus.devices.virtio.Virtqueue;
import dev.nimbus.devices.virtio.VirtqueueBuilder;
import dev.nimbus.devices.virtio.VirtqueueBuilder.Buf;
import dev.nimbus.memory.GuestMemory;
import dev.nimbus.sys.IoVec;
import dev.nimbus.vmm.config.DiskConfig;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VirtioBlockTest extends VirtioDeviceContract {
    static final int MIB = 1 << 20;

    @TempDir
    Path dir;

    private final List<AutoCloseable> open = new ArrayList<>();

    @Override
    protected VirtioDevice newDevice() throws Exception {
        return device(image(MIB), "");
    }

    /** An image of {@code size} bytes whose byte i is i mod 253 (a prime: no sector repeats). */
    private Path image(long size) throws IOException {
        Path p = Files.createTempFile(dir, "disk", ".img");
        byte[] b = new byte[(int) size];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (i % 253);
        }
        Files.write(p, b);
        // Allocate the blocks now, so allocation checks do not race delayed allocation.
        try (FileChannel f = FileChannel.open(p, StandardOpenOption.WRITE)) {
            f.force(true);
        }
        return p;
    }

    private static byte[] pattern(long from, int len) {
        byte[] b = new byte[len];
        for (int i = 0; i < len; i++) {
            b[i] = (byte) ((from + i) % 253);
        }
        return b;
    }

    /** A raw disk {@code _disk0} with 16-entry queues, unless {@code extra} says otherwise. */
    private static DiskConfig config(Path image, String extra) {
        StringBuilder s = new StringBuilder("path=" + image + ",image_type=raw");
        if (!extra.contains("id=")) {
            s.append(",id=_disk0");
        }
        if (!extra.contains("queue_size=")) {
            s.append(",queue_size=16");
        }
        if (!extra.isEmpty()) {
            s.append(',').append(extra);
        }
        return DiskConfig.parse(s.toString());
    }

    private VirtioBlock device(Path image, String extra) throws IOException {
        return VirtioBlock.open(config(image, extra));
    }

    private static byte[] fileBytes(Path p, long offset, int len) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "r")) {
            byte[] b = new byte[len];
            f.seek(offset);
            f.readFully(b);
            return b;
        }
    }

    private static boolean threadNamed(String name) {
        return Thread.getAllStackTraces().keySet().stream()
                .anyMatch(t -> t.getName().equals(name) && t.isAlive());
    }

    // ---- identity, features, configuration ----

    @Test
    void offersTheFeaturesAndConfigurationOfADefaultDisk() throws Exception {
        Path img = image(MIB + 4096);
        try (VirtioBlock d = device(img, "")) {
            assertEquals("_disk0", d.id());
            assertEquals(Virtio.VIRTIO_ID_BLOCK, d.deviceType());
            long f = d.deviceFeatures();
            for (int bit : new int[] {VirtioBlock.VIRTIO_BLK_F_SEG_MAX,
                    VirtioBlock.VIRTIO_BLK_F_BLK_SIZE, VirtioBlock.VIRTIO_BLK_F_FLUSH,
                    VirtioBlock.VIRTIO_BLK_F_TOPOLOGY, VirtioBlock.VIRTIO_BLK_F_CONFIG_WCE,
                    VirtioBlock.VIRTIO_BLK_F_WRITE_ZEROES, VirtioBlock.VIRTIO_BLK_F_DISCARD}) {
                assertTrue(Virtio.has(f, bit), "feature bit " + bit);
            }
            assertFalse(Virtio.has(f, VirtioBlock.VIRTIO_BLK_F_RO));
            assertFalse(Virtio.has(f, VirtioBlock.VIRTIO_BLK_F_MQ));
            assertArrayEquals(new int[] {16}, d.queueMaxSizes());
            assertEquals(60, d.configSize());
            assertEquals((MIB + 4096) / 512, d.readConfig(VirtioBlockConfig.CAPACITY, 8));
            assertEquals(14, d.readConfig(VirtioBlockConfig.SEG_MAX, 4), "queue size - 2");
            assertEquals(512, d.readConfig(VirtioBlockConfig.BLK_SIZE, 4));
            assertEquals(0, d.readConfig(VirtioBlockConfig.PHYSICAL_BLOCK_EXP, 1));
            assertEquals(1, d.readConfig(VirtioBlockConfig.MIN_IO_SIZE, 2));
            assertEquals(1, d.readConfig(VirtioBlockConfig.WRITEBACK, 1));
            assertEquals(0, d.readConfig(VirtioBlockConfig.NUM_QUEUES, 2));
            assertEquals(0xFFFF_FFFFL, d.readConfig(VirtioBlockConfig.MAX_DISCARD_SECTORS, 4));
            assertEquals(1, d.readConfig(VirtioBlockConfig.MAX_DISCARD_SEG, 4));
            assertEquals(1, d.readConfig(VirtioBlockConfig.DISCARD_SECTOR_ALIGNMENT, 4));
            assertEquals(0xFFFF_FFFFL,
                    d.readConfig(VirtioBlockConfig.MAX_WRITE_ZEROES_SECTORS, 4));
            assertEquals(1, d.readConfig(VirtioBlockConfig.MAX_WRITE_ZEROES_SEG, 4));
            assertEquals(1, d.readConfig(VirtioBlockConfig.WRITE_ZEROES_MAY_UNMAP, 1));
        }
    }

    @Test
    void sparseOffKeepsWriteZeroesButWithdrawsDiscard() throws Exception {
        try (VirtioBlock d = device(image(MIB), "sparse=off")) {
            assertTrue(Virtio.has(d.deviceFeatures(), VirtioBlock.VIRTIO_BLK_F_WRITE_ZEROES));
            assertFalse(Virtio.has(d.deviceFeatures(), VirtioBlock.VIRTIO_BLK_F_DISCARD));
            assertEquals(0, d.readConfig(VirtioBlockConfig.WRITE_ZEROES_MAY_UNMAP, 1));
            assertEquals(0, d.readConfig(VirtioBlockConfig.MAX_DISCARD_SECTORS, 4));
        }
    }

    @Test
    void anImageThatIsNotWholeSectorsHidesItsTail() throws Exception {
        try (VirtioBlock d = device(image(MIB + 300), "")) {
            assertEquals(MIB / 512, d.capacitySectors());
            assertEquals(MIB / 512, d.readConfig(VirtioBlockConfig.CAPACITY, 8));
        }
    }

    @Test
    void onlyTheWritebackFieldIsWritable() throws Exception {
        try (VirtioBlock d = device(image(MIB), "")) {
            d.writeConfig(VirtioBlockConfig.CAPACITY, 8, 1);
            assertEquals(MIB / 512, d.readConfig(VirtioBlockConfig.CAPACITY, 8));
            d.writeConfig(VirtioBlockConfig.WRITEBACK, 1, 0);
            assertEquals(0, d.readConfig(VirtioBlockConfig.WRITEBACK, 1));
            assertFalse(d.writeback());
            d.writeConfig(VirtioBlockConfig.WRITEBACK, 1, 1);
            assertTrue(d.writeback());
        }
    }

    // ---- requests ----

    @Test
    void readCopiesImageBytesIntoGuestBuffers() throws Exception {
        Path img = image(MIB);
        try (VirtioBlock d = device(img, ""); DeviceHarness h = new DeviceHarness(d, 16)) {
            h.activate();
            BlockDriver drv = new BlockDriver(h, 0);
            BlockDriver.Completion c = drv.read(3, 4096);
            assertEquals(VIRTIO_BLK_S_OK, c.status());
            assertEquals(4096 + 1, c.usedLen(), "data plus the status byte");
            assertArrayEquals(pattern(3 * 512, 4096), c.data());
            assertTrue(h.interrupt().awaitQueueSignals(0, 1, TIMEOUT_MILLIS));
            assertEquals(4096, d.counters().readBytes());
            assertEquals(1, d.counters().readOps());
        }
    }

    @Test
    void readAcrossManyDescriptorsAndIndirectTables() throws Exception {
        Path img = image(MIB);
        try (VirtioBlock d = device(img, ""); DeviceHarness h = new DeviceHarness(d, 16)) {
            h.activate();
            BlockDriver drv = new BlockDriver(h, 0);
            VirtqueueBuilder r = drv.ring();
            // Header split in two, data in three odd pieces, status after the last.
            Buf a = r.writable(512);
            Buf b = r.writable(1024);
            Buf c = r.writable(512);
            Buf status = drv.status();
            byte[] hdr = BlockDriver.header(VIRTIO_BLK_T_IN, 10);
            int head = r.indirectChain(r.readable(Arrays.copyOf(hdr, 4)),
                    r.readable(Arrays.copyOfRange(hdr, 4, 16)), a, b, c, status);
            r.publish(head);
            h.kick(0);
            assertEquals(1, r.awaitUsed(1, TIMEOUT_MILLIS));
            assertEquals(2048 + 1, r.usedLen(0));
            GuestMemory m = drv.memory();
            assertEquals(VIRTIO_BLK_S_OK, m.readByte(status.gpa()));
            byte[] got = new byte[2048];
            m.read(a.gpa(), got, 0, 512);
            m.read(b.gpa(), got, 512, 1024);
            m.read(c.gpa(), got, 1536, 512);
            assertArrayEquals(pattern(10 * 512, 2048), got);
        }
    }

    @Test
    void writeReachesTheFile() throws Exception {
        Path img = image(MIB);
        try (VirtioBlock d = device(img, ""); DeviceHarness h = new DeviceHarness(d, 16)) {
            h.activate();
            BlockDriver drv = new BlockDriver(h, 0);
            byte[] data = new byte[1024];
            Arrays.fill(data, (byte) 0x5A);
            BlockDriver.Completion c = drv.write(7, data);
            assertEquals(VIRTIO_BLK_S_OK, c.status());
            assertEquals(1, c.usedLen(), "only the status byte was written");
            assertArrayEquals(data, fileBytes(img, 7 * 512, 1024));
            assertArrayEquals(pattern(6 * 512, 512), fileBytes(img, 6 * 512, 512));
            assertEquals(1024, d.counters().writeBytes());
            assertEquals(1, d.counters().writeOps());
            Map<String, Long> counters = d.counterValues();
            assertEquals(List.of("read_bytes", "write_bytes", "read_ops", "write_ops",
                    "write_latency_min", "write_latency_max", "write_latency_avg",
                    "read_latency_min", "read_latency_max", "read_latency_avg"),
                    List.copyOf(counters.keySet()));
            assertEquals(-1L, counters.get("read_latency_min"), "never measured: u64::MAX");
            assertTrue(counters.get("write_latency_max") >= 0);
        }
    }

    @Test
    void flushAndGetIdComplete() throws Exception {
        try (VirtioBlock d = device(image(MIB), "serial=nimbus-disk-1");
                DeviceHarness h = new DeviceHarness(d, 16)) {
            h.activate();
            BlockDriver drv = new BlockDriver(h, 0);
            BlockDriver.Completion flush = drv.simple(VIRTIO_BLK_T_FLUSH, 0);
            assertEquals(VIRTIO_BLK_S_OK, flush.status());
            assertEquals(1, flush.usedLen());
            BlockDriver.Completion id = drv.getId(20);
            assertEquals(VIRTIO_BLK_S_OK, id.status());
            assertEquals(21, id.usedLen());
            assertArrayEquals(Arrays.copyOf("nimbus-disk-1".getBytes(StandardCharsets.US_ASCII),
                    20), id.data());
        }
    }

    @Test
    void theDefaultSerialComesFromTheImagesDeviceAndInode() throws Exception {
        Path img = image(MIB);
        try (VirtioBlock d = device(img, ""); DeviceHarness h = new DeviceHarness(d, 16)) {
            h.activate();
            BlockDriver.Completion id = new BlockDriver(h, 0).getId(20);
            assertEquals(VIRTIO_BLK_S_OK, id.status());
            String ino = String.valueOf(Files.getAttribute(img, "unix:ino"));
            String s = new String(id.data(), StandardCharsets.US_ASCII);
            assertTrue(s.startsWith(String.valueOf(Files.getAttribute(img, "unix:dev"))), s);
            String expected = (String.valueOf(Files.getAttribute(img, "unix:dev"))
                    + Files.getAttribute(img, "unix:rdev") + ino);
            assertEquals(expected.substring(0, Math.min(20, expected.length())),
                    s.replace("\0", ""));
        }
    }

    @Test
    void getIdIntoABufferShorterThanTheSerialFails() throws Exception {
        try (VirtioBlock d = device(image(MIB), "serial=0123456789");
                DeviceHarness h = new DeviceHarness(d, 16)) {
            h.activate();
            assertEquals(VIRTIO_BLK_S_IOERR, new BlockDriver(h, 0).getId(8).status());
        }
    }

    @Test
    void unknownRequestTypesAreUnsupported() throws Exception {
        try (VirtioBlock d = device(image(MIB), ""); DeviceHarness h = new DeviceHarness(d, 16)) {
            h.activate();
            BlockDriver drv = new BlockDriver(h, 0);
            assertEquals(VIRTIO_BLK_S_UNSUPP,
                    drv.simple(BlockRequestHandler.VIRTIO_BLK_T_GET_LIFETIME, 0).status());
            assertEquals(VIRTIO_BLK_S_UNSUPP, drv.simple(0x7FFF_0000, 0).status());
        }
    }

    // ---- discard and write zeroes ----

    @Test
    void discardPunchesAHoleThatReadsAsZeroes() throws Exception {
        Path img = image(4 * MIB);
        try (VirtioBlock d = device(img, ""); DeviceHarness h = new DeviceHarness(d, 16)) {
            RawImage raw = (RawImage) d.image();
            long before = raw.allocatedBytes();
            h.activate();
            BlockDriver drv = new BlockDriver(h, 0);
            BlockDriver.Completion c = drv.discardOrZero(VIRTIO_BLK_T_DISCARD, 2048, 2048, 0);
            assertEquals(VIRTIO_BLK_S_OK, c.status());
            assertArrayEquals(new byte[MIB], fileBytes(img, MIB, MIB));
            assertArrayEquals(pattern(MIB - 512, 512), fileBytes(img, MIB - 512, 512));
            assertArrayEquals(pattern(2L * MIB, 512), fileBytes(img, 2L * MIB, 512));
            // A hole in the middle may cost the file system an extent block: allow for that.
            assertTrue(raw.allocatedBytes() <= before - MIB / 2,
                    "allocation shrank: before=" + before + " after=" + raw.allocatedBytes());
            assertEquals(4L * MIB, Files.size(img), "the file keeps its size");
        }
    }

    @Test
    void writeZeroesZeroesTheRangeAndUnmapsOnlyWhenAsked() throws Exception {
        Path img = image(4 * MIB);
        try (VirtioBlock d = device(img, ""); DeviceHarness h = new DeviceHarness(d, 16)) {
            RawImage raw = (RawImage) d.image();
            long before = raw.allocatedBytes();
            h.activate();
            BlockDriver drv = new BlockDriver(h, 0);
            assertEquals(VIRTIO_BLK_S_OK,
                    drv.discardOrZero(VIRTIO_BLK_T_WRITE_ZEROES, 0, 2048, 0).status());
            assertArrayEquals(new byte[MIB], fileBytes(img, 0, MIB));
            long zeroed = raw.allocatedBytes();
            assertTrue(zeroed >= before, "zeroing keeps the blocks");
            assertEquals(VIRTIO_BLK_S_OK, drv.discardOrZero(VIRTIO_BLK_T_WRITE_ZEROES, 4096,
                    2048, BlockRequestHandler.VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP).status());
            assertArrayEquals(new byte[MIB], fileBytes(img, 2L * MIB, MIB));
            assertTrue(raw.allocatedBytes() <= zeroed - MIB / 2, "UNMAP punched a hole: before="
                    + zeroed + " after=" + raw.allocatedBytes());
        }
    }

    @Test
    void discardAndWriteZeroesRejectBadSegments() throws Exception {
        Path img = image(MIB);
        try (VirtioBlock d = device(img, ""); DeviceHarness h = new DeviceHarness(d, 16)) {
            h.activate();
            BlockDriver drv = new BlockDriver(h, 0);
            assertEquals(VIRTIO_BLK_S_UNSUPP,
                    drv.discardOrZero(VIRTIO_BLK_T_DISCARD, 0, 8, 1).status(), "no discard flags");
            assertEquals(VIRTIO_BLK_S_UNSUPP,
                    drv.discardOrZero(VIRTIO_BLK_T_WRITE_ZEROES, 0, 8, 2).status());
            assertEquals(VIRTIO_BLK_S_IOERR,
                    drv.discardOrZero(VIRTIO_BLK_T_DISCARD, 2040, 16, 0).status(), "past end");
            assertEquals(VIRTIO_BLK_S_IOERR, drv.discardOrZero(VIRTIO_BLK_T_WRITE_ZEROES,
                    0xFFFF_FFFF_FFFF_FFF0L, 0x100, 0).status(), "sector overflow");
            // Two segments where the device allows one.
            Buf status = drv.status();
            byte[] two = new byte[32];
            System.arraycopy(BlockDriver.segment(0, 1, 0), 0, two, 0, 16);
            System.arraycopy(BlockDriver.segment(8, 1, 0), 0, two, 16, 16);
            assertEquals(VIRTIO_BLK_S_IOERR, drv.submit(null, status,
                    drv.ring().readable(BlockDriver.header(VIRTIO_BLK_T_DISCARD, 0)),
                    drv.ring().readable(two), status).status());
            assertArrayEquals(pattern(0, 4096), fileBytes(img, 0, 4096), "nothing discarded");
        }
    }

    @Test
    void discardWithoutTheFeatureIsUnsupported() throws Exception {
        Path img = image(MIB);
        try (VirtioBlock d = device(img, "sparse=off");
                DeviceHarness h = new DeviceHarness(d, 16)) {
            h.activate();
            BlockDriver drv = new BlockDriver(h, 0);
            assertEquals(VIRTIO_BLK_S_UNSUPP,
                    drv.discardOrZero(VIRTIO_BLK_T_DISCARD, 0, 8, 0).status());
            assertArrayEquals(pattern(0, 4096), fileBytes(img, 0, 4096));
        }
    }

    // ---- read-only, ranges, malformed requests ----

    @Test
    void aReadOnlyDiskRefusesEveryChangeWithIoerr() throws Exception {
        Path img = image(MIB);
        try (VirtioBlock d = device(img, "readonly=on");
                DeviceHarness h = new DeviceHarness(d, 16)) {
            assertTrue(Virtio.has(d.deviceFeatures(), VirtioBlock.VIRTIO_BLK_F_RO));
            assertFalse(Virtio.has(d.deviceFeatures(), VirtioBlock.VIRTIO_BLK_F_DISCARD));
            assertTrue(d.image().readOnly());
            h.activate();
            BlockDriver drv = new BlockDriver(h, 0);
            assertEquals(VIRTIO_BLK_S_IOERR, drv.write(0, new byte[512]).status());
            assertEquals(VIRTIO_BLK_S_IOERR,
                    drv.discardOrZero(VIRTIO_BLK_T_WRITE_ZEROES, 0, 8, 0).status());
            assertEquals(VIRTIO_BLK_S_IOERR, drv.simple(0x1234, 0).status(),
                    "unknown types too, before they are looked at");
            assertEquals(VIRTIO_BLK_S_OK, drv.simple(VIRTIO_BLK_T_FLUSH, 0).status());
            BlockDriver.Completion r = drv.read(0, 512);
            assertEquals(VIRTIO_BLK_S_OK, r.status());
            assertArrayEquals(pattern(0, 512), r.data());
            assertArrayEquals(pattern(0, 4096), fileBytes(img, 0, 4096));
            assertEquals(0, d.counters().writeOps());
        }
    }

    @Test
    void requestsPastTheEndFailWithIoerr() throws Exception {
        Path img = image(MIB);
        long sectors = MIB / 512;
        try (VirtioBlock d = device(img, ""); DeviceHarness h = new DeviceHarness(d, 16)) {
            h.activate();
            BlockDriver drv = new BlockDriver(h, 0);
            assertEquals(VIRTIO_BLK_S_OK, drv.read(sectors - 1, 512).status());
            assertEquals(VIRTIO_BLK_S_IOERR, drv.read(sectors - 1, 1024).status());
            assertEquals(VIRTIO_BLK_S_IOERR, drv.read(sectors, 512).status());
            assertEquals(VIRTIO_BLK_S_IOERR, drv.read(-1L, 512).status(), "sector 2^64-1");
            assertEquals(VIRTIO_BLK_S_IOERR, drv.read(1L << 55, 512).status(),
                    "sector * 512 overflows a signed offset");
            assertEquals(VIRTIO_BLK_S_IOERR, drv.write(sectors - 1, new byte[1024]).status());
            assertEquals(MIB, Files.size(img), "the image did not grow");
        }
    }

    @Test
    void malformedRequestsFailAloneAndTheDeviceCarriesOn() throws Exception {
        Path img = image(MIB);
        try (VirtioBlock d = device(img, ""); DeviceHarness h = new DeviceHarness(d, 16)) {
            h.activate();
            BlockDriver drv = new BlockDriver(h, 0);
            VirtqueueBuilder r = drv.ring();

            // Header shorter than 16 bytes.
            Buf status = drv.status();
            assertEquals(VIRTIO_BLK_S_IOERR, drv.submit(null, status,
                    r.readable(new byte[8]), status).status());
            // No writable byte at all: nothing can be reported, used length 0.
            BlockDriver.Completion none = drv.submit(null, null,
                    r.readable(BlockDriver.header(VIRTIO_BLK_T_IN, 0)));
            assertEquals(0, none.usedLen());
            // A read whose data buffer is device-readable (wrong direction).
            status = drv.status();
            assertEquals(VIRTIO_BLK_S_IOERR, drv.submit(null, status,
                    r.readable(BlockDriver.header(VIRTIO_BLK_T_IN, 0)), r.readable(new byte[512]),
                    status).status());
            // A write whose data buffer is device-writable (wrong direction).
            Buf data = r.writable(512);
            status = drv.status();
            BlockDriver.Completion wrongWrite = drv.submit(data, status,
                    r.readable(BlockDriver.header(VIRTIO_BLK_T_OUT, 0)), data, status);
            assertEquals(VIRTIO_BLK_S_IOERR, wrongWrite.status());
            assertArrayEquals(new byte[512], wrongWrite.data(), "nothing read into it");
            // A length that is not whole sectors.
            assertEquals(VIRTIO_BLK_S_IOERR, drv.read(0, 100).status());
            assertEquals(VIRTIO_BLK_S_IOERR, drv.write(0, new byte[700]).status());
            // A buffer outside guest memory and one of 4 GiB: the queue drops the chain itself.
            int head = r.chain(r.readable(BlockDriver.header(VIRTIO_BLK_T_IN, 0)),
                    new Buf(0x7FFF_0000_0000L, 4096, true), drv.status());
            r.publish(head);
            int huge = r.chain(r.readable(BlockDriver.header(VIRTIO_BLK_T_IN, 0)),
                    new Buf(0x1000, 0xFFFF_FFFFL, true), drv.status());
            r.publish(huge);
            h.kick(0);
            drv.expectCompleted(2);
            assertEquals(drv.completed(), r.awaitUsed(drv.completed(), TIMEOUT_MILLIS));
            assertEquals(0, r.usedLen(drv.completed() - 1));

            // Still serving, nothing written, no reset asked for.
            assertEquals(VIRTIO_BLK_S_OK, drv.read(1, 512).status());
            assertArrayEquals(pattern(0, 4096), fileBytes(img, 0, 4096));
            assertTrue(h.interrupt().resets().isEmpty());
        }
    }

    // ---- writeback, flush ordering ----

    /** Records, at each flush, whether the guest already saw the status byte. */
    private static final class FlushWitness implements DiskImage {
        final DiskImage inner;
        volatile GuestMemory memory;
        volatile long statusGpa = -1;
        final List<Integer> statusAtFlush = new ArrayList<>();
        final List<String> calls = new ArrayList<>();

        FlushWitness(DiskImage inner) {
            this.inner = inner;
        }

        @Override
        public long sizeBytes() {
            return inner.sizeBytes();
        }

        @Override
        public DiskTopology topology() {
            return inner.topology();
        }

        @Override
        public boolean readOnly() {
            return inner.readOnly();
        }

        @Override
        public boolean supportsSparse() {
            return inner.supportsSparse();
        }

        @Override
        public String identity() {
            return inner.identity();
        }

        @Override
        public int read(long offset, IoVec buffers) {
            return inner.read(offset, buffers);
        }

        @Override
        public synchronized int write(long offset, IoVec buffers) {
            calls.add("write");
            return inner.write(offset, buffers);
        }

        @Override
        public synchronized int flush() {
            calls.add("flush");
            if (statusGpa >= 0) {
                statusAtFlush.add(memory.readByte(statusGpa) & 0xFF);
            }
            return inner.flush();
        }

        @Override
        public int punchHole(long offset, long length) {
            return inner.punchHole(offset, length);
        }

        @Override
        public int writeZeroes(long offset, long length) {
            return inner.writeZeroes(offset, length);
        }

        @Override
        public void resize(long newSize) throws IOException {
            inner.resize(newSize);
        }

        @Override
        public void close() {
            inner.close();
        }
    }

    @Test
    void flushSyncsBeforeTheGuestHearsOfIt() throws Exception {
        Path img = image(MIB);
        FlushWitness w = new FlushWitness(RawImage.open(img, false, false));
        try (VirtioBlock d = new VirtioBlock(config(img, ""), w, false);
                DeviceHarness h = new DeviceHarness(d, 16)) {
            h.activate();
            w.memory = h.ram().memory();
            BlockDriver drv = new BlockDriver(h, 0);
            byte[] data = new byte[512];
            Arrays.fill(data, (byte) 0x33);
            assertEquals(VIRTIO_BLK_S_OK, drv.write(4, data).status());
            Buf status = drv.status();
            w.statusGpa = status.gpa();
            BlockDriver.Completion c = drv.submit(null, status,
                    drv.ring().readable(BlockDriver.header(VIRTIO_BLK_T_FLUSH, 0)), status);
            assertEquals(VIRTIO_BLK_S_OK, c.status());
            assertEquals(List.of(0xFF), w.statusAtFlush, "status unwritten while syncing");
            assertEquals(List.of("write", "flush"), w.calls);
            assertArrayEquals(data, fileBytes(img, 4 * 512, 512));
        }
    }

    @Test
    void writeThroughModeSyncsEveryWriteBeforeCompleting() throws Exception {
        Path img = image(MIB);
        FlushWitness w = new FlushWitness(RawImage.open(img, false, false));
        try (VirtioBlock d = new VirtioBlock(config(img, ""), w, false);
                DeviceHarness h = new DeviceHarness(d, 16)) {
            h.activate();
            w.memory = h.ram().memory();
            d.writeConfig(VirtioBlockConfig.WRITEBACK, 1, 0);
            BlockDriver drv = new BlockDriver(h, 0);
            Buf status = drv.status();
            w.statusGpa = status.gpa();
            byte[] data = new byte[512];
            Arrays.fill(data, (byte) 0x44);
            BlockDriver.Completion c = drv.submit(null, status,
                    drv.ring().readable(BlockDriver.header(VIRTIO_BLK_T_OUT, 9)),
                    drv.ring().readable(data), status);
            assertEquals(VIRTIO_BLK_S_OK, c.status());
            assertEquals(List.of("write", "flush"), w.calls);
            assertEquals(List.of(0xFF), w.statusAtFlush);
            assertArrayEquals(data, fileBytes(img, 9 * 512, 512));
        }
    }

    @Test
    void withoutFlushNegotiatedTheDiskIsWriteThrough() throws Exception {
        Path img = image(MIB);
        FlushWitness w = new FlushWitness(RawImage.open(img, false, false));
        try (VirtioBlock d = new VirtioBlock(config(img, ""), w, false);
                DeviceHarness h = new DeviceHarness(d, 16)) {
            h.activate(d.deviceFeatures() & ~Virtio.bit(VirtioBlock.VIRTIO_BLK_F_FLUSH));
            assertFalse(d.writeback());
            assertEquals(0, d.readConfig(VirtioBlockConfig.WRITEBACK, 1));
            assertEquals(VIRTIO_BLK_S_OK, new BlockDriver(h, 0).write(0, new byte[512]).status());
            assertEquals(List.of("write", "flush"), w.calls);
            d.reset();
            assertTrue(d.writeback(), "reset restores writeback");
        }
    }

    // ---- multi-queue ----

    @Test
    void eachQueueHasItsOwnThreadAndServesRequests() throws Exception {
        Path img = image(MIB);
        try (VirtioBlock d = device(img, "num_queues=2");
                DeviceHarness h = new DeviceHarness(d, 16)) {
            assertTrue(Virtio.has(d.deviceFeatures(), VirtioBlock.VIRTIO_BLK_F_MQ));
            assertEquals(2, d.readConfig(VirtioBlockConfig.NUM_QUEUES, 2));
            assertArrayEquals(new int[] {16, 16}, d.queueMaxSizes());
            h.activate();
            assertTrue(threadNamed("_disk0_q0"));
            assertTrue(threadNamed("_disk0_q1"));
            BlockDriver q0 = new BlockDriver(h, 0);
            BlockDriver q1 = new BlockDriver(h, 1);
            byte[] data = new byte[512];
            Arrays.fill(data, (byte) 0x77);
            assertEquals(VIRTIO_BLK_S_OK, q1.write(100, data).status());
            BlockDriver.Completion c = q0.read(100, 512);
            assertEquals(VIRTIO_BLK_S_OK, c.status());
            assertArrayEquals(data, c.data());
            assertTrue(h.interrupt().awaitQueueSignals(1, 1, TIMEOUT_MILLIS));
            assertEquals(1, d.counters().readOps());
            assertEquals(1, d.counters().writeOps());
            d.reset();
            assertFalse(threadNamed("_disk0_q1"));
        }
    }

    // ---- images ----

    @Test
    void aDetectedRawImageProtectsSector0() throws Exception {
        Path img = image(MIB);
        DiskConfig detect = DiskConfig.parse("path=" + img + ",id=_disk0,queue_size=16");
        try (VirtioBlock d = VirtioBlock.open(detect); DeviceHarness h = new DeviceHarness(d, 16)) {
            h.activate();
            BlockDriver drv = new BlockDriver(h, 0);
            assertEquals(VIRTIO_BLK_S_IOERR, drv.write(0, new byte[512]).status());
            assertEquals(VIRTIO_BLK_S_IOERR,
                    drv.discardOrZero(VIRTIO_BLK_T_DISCARD, 0, 1, 0).status());
            assertEquals(VIRTIO_BLK_S_OK, drv.write(1, new byte[512]).status());
            assertArrayEquals(pattern(0, 512), fileBytes(img, 0, 512));
        }
    }

    @Test
    void otherFormatsAreRecognisedAndRefused() throws Exception {
        Path img = image(MIB);
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            f.write(new byte[] {'Q', 'F', 'I', (byte) 0xfb});
        }
        DiskImageException e = assertThrows(DiskImageException.class,
                () -> DiskImages.open(DiskConfig.parse("path=" + img + ",id=_disk0")));
        assertTrue(e.getMessage().contains("type=qcow2"), e.getMessage());
        DiskImageException mismatch = assertThrows(DiskImageException.class,
                () -> DiskImages.open(config(img, "")));
        assertTrue(mismatch.getMessage().contains("specified=raw detected=qcow2"),
                mismatch.getMessage());
    }

    @Test
    void aSecondWriterCannotOpenALockedImage() throws Exception {
        Path img = image(MIB);
        try (VirtioBlock d = device(img, "")) {
            DiskImageException e = assertThrows(DiskImageException.class,
                    () -> device(img, "id=_disk1"));
            assertTrue(e.getMessage().startsWith("Disk image is locked by another process"),
                    e.getMessage());
        }
        device(img, "").close(); // the lock went with the first device
    }

    @Test
    void directIoServesAlignedAndUnalignedBuffers() throws Exception {
        Path img = image(MIB);
        try (VirtioBlock d = device(img, "direct=on"); DeviceHarness h = new DeviceHarness(d, 16)) {
            RawImage raw = (RawImage) d.image();
            int a = raw.directAlignment();
            assertTrue(a >= 512 && a <= 4096, "alignment " + a);
            assertEquals(a, d.readConfig(VirtioBlockConfig.BLK_SIZE, 4));
            h.activate();
            BlockDriver drv = new BlockDriver(h, 0);
            VirtqueueBuilder r = drv.ring();
            // Test RAM is page-aligned at gpa 0, so a gpa aligned to a is a host address too.
            long gpa = (r.alloc(2L * a) + a - 1) & -a;
            Buf aligned = new Buf(gpa, a, true);
            Buf status = drv.status();
            BlockDriver.Completion c = drv.submit(aligned, status,
                    r.readable(BlockDriver.header(VIRTIO_BLK_T_IN, a / 512)), aligned, status);
            assertEquals(VIRTIO_BLK_S_OK, c.status());
            assertArrayEquals(pattern(a, a), c.data());
            // A buffer 16 bytes off alignment goes through the buffered descriptor.
            Buf off = new Buf(r.alloc(a + 32L) | 16, a, true);
            status = drv.status();
            c = drv.submit(off, status,
                    r.readable(BlockDriver.header(VIRTIO_BLK_T_IN, 2L * a / 512)), off, status);
            assertEquals(VIRTIO_BLK_S_OK, c.status());
            assertArrayEquals(pattern(2L * a, a), c.data());
            byte[] data = new byte[a];
            Arrays.fill(data, (byte) 0x6C);
            assertEquals(VIRTIO_BLK_S_OK, drv.write(3L * a / 512, data).status());
            assertArrayEquals(data, fileBytes(img, 3L * a, a));
            // Sector-aligned but maybe not block-aligned offset.
            BlockDriver.Completion odd = drv.read(1, 512);
            assertEquals(VIRTIO_BLK_S_OK, odd.status());
            assertArrayEquals(pattern(512, 512), odd.data());
        }
    }

    @Test
    void resizeChangesCapacityAndTellsTheDriver() throws Exception {
        Path img = image(MIB);
        try (VirtioBlock d = device(img, ""); DeviceHarness h = new DeviceHarness(d, 16)) {
            h.activate();
            d.resize(2L * MIB);
            assertEquals(2L * MIB / 512, d.readConfig(VirtioBlockConfig.CAPACITY, 8));
            assertEquals(2L * MIB, Files.size(img));
            assertEquals(1, h.interrupt().configChanges());
            assertEquals(VIRTIO_BLK_S_OK, new BlockDriver(h, 0).read(3000, 512).status());
            assertThrows(IllegalArgumentException.class, () -> d.resize(1000));
        }
    }

    @Test
    void virtqueueSizeComesFromTheConfiguration() throws Exception {
        try (VirtioBlock d = device(image(MIB), "queue_size=256")) {
            assertArrayEquals(new int[] {256}, d.queueMaxSizes());
            assertEquals(254, d.readConfig(VirtioBlockConfig.SEG_MAX, 4));
            assertTrue(Virtqueue.MAX_QUEUE_SIZE >= 256);
        }
    }
}
