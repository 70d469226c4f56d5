package dev.nimbus.devices.virtio.block;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The block device's configuration space, {@code struct virtio_blk_config} (virtio 1.2, 5.2.4),
 * little-endian, up to the write zeroes fields:
 *
 * <pre>
 * le64 capacity;                  // 0, in 512-byte sectors
 * le32 size_max;                  // 8
 * le32 seg_max;                   // 12
 * struct { le16 cylinders; u8 heads; u8 sectors; } geometry;   // 16
 * le32 blk_size;                  // 20
 * u8 physical_block_exp;          // 24  topology
 * u8 alignment_offset;            // 25
 * le16 min_io_size;               // 26
 * le32 opt_io_size;               // 28
 * u8 writeback;                   // 32
 * u8 unused0;                     // 33
 * le16 num_queues;                // 34
 * le32 max_discard_sectors;       // 36
 * le32 max_discard_seg;           // 40
 * le32 discard_sector_alignment;  // 44
 * le32 max_write_zeroes_sectors;  // 48
 * le32 max_write_zeroes_seg;      // 52
 * u8 write_zeroes_may_unmap;      // 56
 * u8 unused1[3];                  // 57; 60 bytes in all
 * </pre>
 *
 * Not thread-safe; the device guards it.
 */
final class VirtioBlockConfig {
    static final int CAPACITY = 0;
    static final int SIZE_MAX = 8;
    static final int SEG_MAX = 12;
    static final int BLK_SIZE = 20;
    static final int PHYSICAL_BLOCK_EXP = 24;
    static final int ALIGNMENT_OFFSET = 25;
    static final int MIN_IO_SIZE = 26;
    static final int OPT_IO_SIZE = 28;
    static final int WRITEBACK = 32;
    static final int NUM_QUEUES = 34;
    static final int MAX_DISCARD_SECTORS = 36;
    static final int MAX_DISCARD_SEG = 40;
    static final int DISCARD_SECTOR_ALIGNMENT = 44;
    static final int MAX_WRITE_ZEROES_SECTORS = 48;
    static final int MAX_WRITE_ZEROES_SEG = 52;
    static final int WRITE_ZEROES_MAY_UNMAP = 56;
    static final int SIZE = 60;

    private static final ValueLayout.OfShort U16 =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 =
            ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final byte[] bytes = new byte[SIZE];
    private final MemorySegment view = MemorySegment.ofArray(bytes);

    void putU8(int offset, int value) {
        bytes[offset] = (byte) value;
    }

    void putU16(int offset, int value) {
        view.set(U16, offset, (short) value);
    }

    void putU32(int offset, long value) {
        view.set(U32, offset, (int) value);
    }

    void putU64(int offset, long value) {
        view.set(U64, offset, value);
    }

    int u8(int offset) {
        return bytes[offset] & 0xFF;
    }

    int u16(int offset) {
        return Short.toUnsignedInt(view.get(U16, offset));
    }

    long u32(int offset) {
        return Integer.toUnsignedLong(view.get(U32, offset));
    }

    long u64(int offset) {
        return view.get(U64, offset);
    }

    /** {@code size} bytes at {@code offset}, little-endian; bytes past the end read as 0. */
    long read(int offset, int size) {
        long value = 0;
        for (int i = size - 1; i >= 0; i--) {
            int o = offset + i;
            value = value << 8 | (o >= 0 && o < SIZE ? bytes[o] & 0xFF : 0);
        }
        return value;
    }
}
