package dev.nimbus.devices.virtio;

import static dev.nimbus.devices.virtio.Virtqueue.VIRTQ_DESC_F_INDIRECT;
import static dev.nimbus.devices.virtio.Virtqueue.VIRTQ_DESC_F_NEXT;
import static dev.nimbus.devices.virtio.Virtqueue.VIRTQ_DESC_F_WRITE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nimbus.devices.virtio.VirtqueueBuilder.Buf;
import dev.nimbus.memory.GuestMemory;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class VirtqueueTest {
    private static final long RAM = 1 << 20;
    private static final long ALL = Virtio.RING_FEATURES;
    private static final long NO_RING_FEATURES = Virtio.bit(Virtio.VIRTIO_F_VERSION_1);

    private final TestGuestMemory ram = TestGuestMemory.confined(RAM);
    private final GuestMemory mem = ram.memory();
    private final VirtqueueBuilder driver = new VirtqueueBuilder(mem, 16, 0x10000);

    @AfterEach
    void closeMemory() {
        ram.close();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    // ---- well-formed chains ----

    @Test
    void popReturnsNullWhenNothingIsAvailable() throws Exception {
        Virtqueue q = driver.create(ALL);
        assertNull(q.pop());
        assertFalse(q.hasAvailable());
    }

    @Test
    void chainExposesReadableThenWritableBuffersInPlace() throws Exception {
        Virtqueue q = driver.create(ALL);
        Buf header = driver.readable(bytes("hello"));
        Buf out = driver.writable(8);
        int head = driver.add(header, out);

        DescriptorChain c = q.pop();
        assertNotNull(c);
        assertEquals(head, c.head());
        assertEquals(1, c.readable().size());
        assertEquals(1, c.writable().size());
        assertEquals(5, c.readableLength());
        assertEquals(8, c.writableLength());
        byte[] got = new byte[5];
        assertEquals(5, c.read(0, got, 0, 5));
        assertArrayEquals(bytes("hello"), got);

        // Writing through the slice lands in guest memory: no copy in between.
        c.writable().get(0).set(ValueLayout.JAVA_BYTE, 3, (byte) 0x5A);
        assertEquals(0x5A, mem.readByte(out.gpa() + 3));
        assertNull(q.pop());
    }

    @Test
    void readAndWriteSpanBufferBoundaries() throws Exception {
        Virtqueue q = driver.create(ALL);
        driver.add(driver.readable(bytes("ab")), driver.readable(bytes("cdef")),
                driver.writable(3), driver.writable(3));
        DescriptorChain c = q.pop();

        byte[] got = new byte[4];
        assertEquals(4, c.read(1, got, 0, 4));
        assertArrayEquals(bytes("bcde"), got);
        assertEquals(5, c.write(1, bytes("VWXYZ"), 0, 5));
        byte[] whole = new byte[6];
        c.writable().get(0).asByteBuffer().get(whole, 0, 3);
        c.writable().get(1).asByteBuffer().get(whole, 3, 3);
        assertArrayEquals(new byte[] {0, 'V', 'W', 'X', 'Y', 'Z'}, whole);
        assertEquals(0, c.write(6, bytes("!"), 0, 1));
    }

    @Test
    void addUsedPublishesIdAndLengthThenIndex() throws Exception {
        Virtqueue q = driver.create(ALL);
        int first = driver.add(driver.writable(4));
        int second = driver.add(driver.writable(4));
        DescriptorChain a = q.pop();
        DescriptorChain b = q.pop();
        q.addUsed(b.head(), 3);
        q.addUsed(a.head(), 4);

        assertEquals(2, driver.usedIdx());
        assertEquals(second, driver.usedId(0));
        assertEquals(3, driver.usedLen(0));
        assertEquals(first, driver.usedId(1));
        assertEquals(4, driver.usedLen(1));
    }

    @Test
    void indicesWrapAroundSixteenBits() throws Exception {
        Virtqueue q = driver.create(ALL);
        Buf empty = driver.readable(new byte[0]);
        for (int i = 0; i < 70_000; i++) {
            int head = driver.add(empty);
            DescriptorChain c = q.pop();
            assertEquals(head, c.head());
            q.addUsed(c.head(), 0);
        }
        assertEquals(70_000 & 0xFFFF, driver.usedIdx());
        assertEquals(70_000 & 0xFFFF, q.nextAvail());
        assertEquals(70_000 & 0xFFFF, q.nextUsed());
    }

    @Test
    void indirectTableIsFollowedWhenNegotiated() throws Exception {
        Virtqueue q = driver.create(ALL);
        int head = driver.indirectChain(driver.readable(bytes("req")), driver.writable(2));
        driver.publish(head);

        DescriptorChain c = q.pop();
        assertEquals(head, c.head());
        assertEquals(3, c.readableLength());
        assertEquals(2, c.writableLength());
    }

    @Test
    void directDescriptorsMayLeadIntoAnIndirectTable() throws Exception {
        Virtqueue q = driver.create(ALL);
        Buf first = driver.readable(bytes("x"));
        long table = driver.indirectTable(driver.readable(bytes("yz")), driver.writable(1));
        driver.writeDesc(0, first.gpa(), first.len(), VIRTQ_DESC_F_NEXT, 1);
        driver.writeDesc(1, table, 32, VIRTQ_DESC_F_INDIRECT, 0);
        driver.publish(0);

        DescriptorChain c = q.pop();
        assertEquals(2, c.readable().size());
        assertEquals(3, c.readableLength());
        assertEquals(1, c.writableLength());
    }

    // ---- malformed chains fail alone, counted, and the queue goes on ----

    /** Publishes a chain at descriptor 0 written by {@code setup}, then a good one; pops. */
    private Virtqueue expectDropped(long features, Runnable setup) throws Exception {
        Virtqueue q = driver.create(features);
        setup.run();
        Buf ok = driver.writable(4);
        driver.writeDesc(15, ok.gpa(), ok.len(), VIRTQ_DESC_F_WRITE, 0);
        driver.publish(15);

        DescriptorChain c = q.pop();
        assertNotNull(c, "the good chain after the malformed one still arrives");
        assertEquals(15, c.head());
        assertEquals(1, q.malformedChains());
        assertEquals(1, driver.usedIdx(), "the malformed chain is completed");
        assertEquals(0, driver.usedLen(0));
        return q;
    }

    @Test
    void bufferOutsideGuestMemoryFailsTheRequest() throws Exception {
        expectDropped(ALL, () -> {
            driver.writeDesc(0, RAM - 8, 16, 0, 0);
            driver.publish(0);
        });
        assertEquals(0, driver.usedId(0));
    }

    @Test
    void bufferAddressBeyondAnyRegionFailsTheRequest() throws Exception {
        expectDropped(ALL, () -> {
            driver.writeDesc(0, 0xFFFF_FFFF_FFFF_F000L, 0x2000, VIRTQ_DESC_F_WRITE, 0);
            driver.publish(0);
        });
    }

    @Test
    void loopInTheChainFailsTheRequest() throws Exception {
        expectDropped(ALL, () -> {
            Buf b = driver.readable(bytes("a"));
            driver.writeDesc(0, b.gpa(), 1, VIRTQ_DESC_F_NEXT, 1);
            driver.writeDesc(1, b.gpa(), 1, VIRTQ_DESC_F_NEXT, 0);
            driver.publish(0);
        });
    }

    @Test
    void chainLongerThanTheQueueFailsTheRequest() throws Exception {
        Virtqueue q = driver.create(ALL);
        // 17 buffers in an indirect table exceed a queue of 16 (2.7.5.3.1).
        Buf[] bufs = new Buf[17];
        for (int i = 0; i < bufs.length; i++) {
            bufs[i] = driver.readable(new byte[] {(byte) i});
        }
        int head = driver.indirectChain(bufs);
        driver.publish(head);
        assertNull(q.pop());
        assertEquals(1, q.malformedChains());

        // Sixteen are fine.
        head = driver.indirectChain(java.util.Arrays.copyOf(bufs, 16));
        driver.publish(head);
        assertEquals(16, q.pop().readable().size());
    }

    @Test
    void nestedIndirectTableFailsTheRequest() throws Exception {
        expectDropped(ALL, () -> {
            long inner = driver.indirectTable(driver.readable(bytes("a")));
            long outer = driver.alloc(16);
            driver.writeDesc(outer, 0, inner, 16, VIRTQ_DESC_F_INDIRECT, 0);
            driver.writeDesc(0, outer, 16, VIRTQ_DESC_F_INDIRECT, 0);
            driver.publish(0);
        });
    }

    @Test
    void indirectTableWithBadLengthFailsTheRequest() throws Exception {
        for (long len : new long[] {0, 24, 17}) {
            TestGuestMemory other = TestGuestMemory.confined(RAM);
            try (other) {
                VirtqueueBuilder d = new VirtqueueBuilder(other.memory(), 16, 0x10000);
                Virtqueue q = d.create(ALL);
                long table = d.indirectTable(d.readable(bytes("a")), d.readable(bytes("b")));
                d.writeDesc(0, table, len, VIRTQ_DESC_F_INDIRECT, 0);
                d.publish(0);
                assertNull(q.pop(), "len=" + len);
                assertEquals(1, q.malformedChains(), "len=" + len);
                assertEquals(1, d.usedIdx());
            }
        }
    }

    @Test
    void indirectTableOutsideGuestMemoryFailsTheRequest() throws Exception {
        expectDropped(ALL, () -> {
            driver.writeDesc(0, RAM - 16, 32, VIRTQ_DESC_F_INDIRECT, 0);
            driver.publish(0);
        });
    }

    @Test
    void indirectDescriptorWithNextFailsTheRequest() throws Exception {
        expectDropped(ALL, () -> {
            long table = driver.indirectTable(driver.readable(bytes("a")));
            driver.writeDesc(0, table, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
            driver.publish(0);
        });
    }

    @Test
    void indirectDescriptorWithoutTheFeatureFailsTheRequest() throws Exception {
        expectDropped(NO_RING_FEATURES, () -> {
            long table = driver.indirectTable(driver.readable(bytes("a")));
            driver.writeDesc(0, table, 16, VIRTQ_DESC_F_INDIRECT, 0);
            driver.publish(0);
        });
    }

    @Test
    void nextIndexOutsideTheIndirectTableFailsTheRequest() throws Exception {
        expectDropped(ALL, () -> {
            Buf b = driver.readable(bytes("a"));
            long table = driver.alloc(32);
            driver.writeDesc(table, 0, b.gpa(), 1, VIRTQ_DESC_F_NEXT, 2);
            driver.writeDesc(table, 1, b.gpa(), 1, 0, 0);
            driver.writeDesc(0, table, 32, VIRTQ_DESC_F_INDIRECT, 0);
            driver.publish(0);
        });
    }

    @Test
    void nextIndexOutsideTheQueueFailsTheRequest() throws Exception {
        expectDropped(ALL, () -> {
            Buf b = driver.readable(bytes("a"));
            driver.writeDesc(0, b.gpa(), 1, VIRTQ_DESC_F_NEXT, 16);
            driver.publish(0);
        });
    }

    @Test
    void readableBufferAfterAWritableOneFailsTheRequest() throws Exception {
        expectDropped(ALL, () -> {
            Buf w = driver.writable(4);
            Buf r = driver.readable(bytes("late"));
            driver.writeDesc(0, w.gpa(), w.len(), VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
            driver.writeDesc(1, r.gpa(), r.len(), 0, 0);
            driver.publish(0);
        });
    }

    @Test
    void headIndexOutOfRangeIsSkippedWithoutAUsedEntry() throws Exception {
        Virtqueue q = driver.create(ALL);
        driver.publish(16);
        driver.publish(0xFFFF);
        int good = driver.add(driver.writable(1));
        DescriptorChain c = q.pop();
        assertEquals(good, c.head());
        assertEquals(2, q.malformedChains());
        assertEquals(0, driver.usedIdx(), "an id the driver never gave cannot be returned");
    }

    @Test
    void chainOfMoreThanFourGibibytesFailsTheRequest() throws Exception {
        TestGuestMemory big = TestGuestMemory.confined(4 << 20);
        try (big) {
            // 4097 buffers of 1 MiB, all over the same RAM: each is valid, the sum is not.
            VirtqueueBuilder d = new VirtqueueBuilder(big.memory(), 8192, 0x100000, 0x200000);
            Virtqueue q = d.create(ALL);
            Buf[] bufs = new Buf[4097];
            java.util.Arrays.fill(bufs, new Buf(0, 1 << 20, false));
            d.publish(d.indirectChain(bufs));
            assertNull(q.pop());
            assertEquals(1, q.malformedChains());

            d.publish(d.indirectChain(java.util.Arrays.copyOf(bufs, 4095)));
            assertEquals(4095L << 20, q.pop().readableLength());
        }
    }

    @Test
    void bufferCrossingARegionBoundaryFailsTheRequest() throws Exception {
        TestGuestMemory split = TestGuestMemory.confined(new long[] {0, RAM},
                new long[] {RAM, RAM});
        try (split) {
            VirtqueueBuilder d = new VirtqueueBuilder(split.memory(), 16, 0x10000);
            Virtqueue q = d.create(ALL);
            d.writeDesc(0, RAM - 8, 16, 0, 0);
            d.publish(0);
            assertNull(q.pop());
            assertEquals(1, q.malformedChains());
        }
    }

    // ---- a broken ring needs a reset ----

    @Test
    void availableIndexRunningAheadOfTheRingBreaksTheQueue() throws Exception {
        Virtqueue q = driver.create(ALL);
        driver.setAvailIdx(17);
        VirtqueueException e = assertThrows(VirtqueueException.class, q::pop);
        assertTrue(e.getMessage().contains("avail_idx=17"), e.getMessage());
        assertNull(q.pop(), "a broken queue yields nothing until reset");
        assertFalse(q.hasAvailable());
    }

    @Test
    void queueSizeMustBeAPowerOfTwoWithinTheMaximum() {
        for (int size : new int[] {0, 3, 24, 32}) {
            assertThrows(VirtqueueException.class, () -> Virtqueue.create("q", mem, size, 16,
                    0x10000, 0x20000, 0x30000, ALL), "size=" + size);
        }
    }

    @Test
    void misalignedRingsAreRefused() {
        assertThrows(VirtqueueException.class,
                () -> Virtqueue.create("q", mem, 16, 16, 0x10008, 0x20000, 0x30000, ALL));
        assertThrows(VirtqueueException.class,
                () -> Virtqueue.create("q", mem, 16, 16, 0x10000, 0x20001, 0x30000, ALL));
        assertThrows(VirtqueueException.class,
                () -> Virtqueue.create("q", mem, 16, 16, 0x10000, 0x20000, 0x30002, ALL));
    }

    @Test
    void ringsOutsideGuestMemoryAreRefused() {
        VirtqueueException e = assertThrows(VirtqueueException.class,
                () -> Virtqueue.create("q", mem, 16, 16, RAM - 16, 0x20000, 0x30000, ALL));
        assertTrue(e.getMessage().contains("descriptor table"), e.getMessage());
        assertThrows(VirtqueueException.class,
                () -> Virtqueue.create("q", mem, 16, 16, 0x10000, RAM - 8, 0x30000, ALL));
        assertThrows(VirtqueueException.class,
                () -> Virtqueue.create("q", mem, 16, 16, 0x10000, 0x20000, RAM - 64, ALL));
    }

    // ---- notification suppression ----

    @Test
    void withoutEventIndexTheDriverFlagSuppressesInterrupts() throws Exception {
        Virtqueue q = driver.create(NO_RING_FEATURES);
        driver.add(driver.writable(1));
        q.addUsed(q.pop().head(), 1);
        assertTrue(q.needsNotification());
        assertFalse(q.needsNotification(), "nothing new was used");

        driver.setAvailFlags(Virtqueue.VIRTQ_AVAIL_F_NO_INTERRUPT);
        driver.add(driver.writable(1));
        q.addUsed(q.pop().head(), 1);
        assertFalse(q.needsNotification());
    }

    @Test
    void withEventIndexOnlyPassingUsedEventInterrupts() throws Exception {
        Virtqueue q = driver.create(ALL);
        for (int i = 0; i < 5; i++) {
            driver.add(driver.writable(1));
        }
        driver.setUsedEvent(2); // interrupt once the used idx passes 2, i.e. reaches 3
        q.addUsed(q.pop().head(), 1);
        assertTrue(q.needsNotification(), "the first check always notifies");
        q.addUsed(q.pop().head(), 1);
        assertFalse(q.needsNotification(), "used idx 2 has not passed used_event 2");
        q.addUsed(q.pop().head(), 1);
        assertTrue(q.needsNotification(), "used idx 3 passed used_event 2");
        q.addUsed(q.pop().head(), 1);
        assertFalse(q.needsNotification(), "used_event was not moved on");

        driver.setUsedEvent(4);
        q.addUsed(q.pop().head(), 1);
        assertTrue(q.needsNotification());
    }

    @Test
    void enableNotificationPublishesAvailEventAndReportsLateBuffers() throws Exception {
        Virtqueue q = driver.create(ALL);
        driver.add(driver.writable(1));
        driver.add(driver.writable(1));
        q.pop();
        assertTrue(q.enableNotification(), "one buffer is still waiting");
        assertEquals(1, driver.availEvent());
        q.pop();
        assertFalse(q.enableNotification());
        assertEquals(2, driver.availEvent());
    }

    @Test
    void withoutEventIndexNotificationsAreToggledByTheUsedFlag() throws Exception {
        Virtqueue q = driver.create(NO_RING_FEATURES);
        q.disableNotification();
        assertEquals(Virtqueue.VIRTQ_USED_F_NO_NOTIFY, driver.usedFlags());
        assertFalse(q.enableNotification());
        assertEquals(0, driver.usedFlags());
    }

    @Test
    void chainSlicesAreBoundedToTheirBuffer() throws Exception {
        Virtqueue q = driver.create(ALL);
        driver.add(driver.writable(4));
        MemorySegment w = q.pop().writable().get(0);
        assertEquals(4, w.byteSize());
        assertThrows(IndexOutOfBoundsException.class,
                () -> w.set(ValueLayout.JAVA_BYTE, 4, (byte) 1));
    }
}
