package dev.nimbus.devices.virtio.block;

import dev.nimbus.block.DiskImage;
import dev.nimbus.devices.virtio.DescriptorChain;
import dev.nimbus.log.RateLimitedLog;
import dev.nimbus.sys.Errno;
import dev.nimbus.sys.IoVec;
import java.lang.System.Logger.Level;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.List;

/**
 * Runs the requests of one block queue (virtio 1.2, 5.2.6), on that queue's thread.
 *
 * <p>A request is a header the device reads, data, and a status byte the device writes last:
 * <pre>
 * struct virtio_blk_req {
 *     le32 type;        // VIRTIO_BLK_T_*
 *     le32 reserved;
 *     le64 sector;      // in 512-byte units
 *     u8 data[];        // device-readable for OUT, device-writable for IN
 *     u8 status;        // VIRTIO_BLK_S_*
 * };
 * </pre>
 * 2.6.4 forbids the device to assume how the driver split this over descriptors, so the
 * handler takes the readable buffers as one stream (header, then OUT data) and the writable
 * ones as another (IN data, then the status byte at the very end).
 *
 * <p>A request the guest got wrong fails on its own: VIRTIO_BLK_S_IOERR for a short header,
 * data in the wrong direction, a length that is not whole sectors, a range past the end, a write
 * to a read-only disk; VIRTIO_BLK_S_UNSUPP for an unknown type or flag. Without even a status
 * byte to write, the request is returned with nothing written. Each such event is logged at a
 * limited rate.
 */
final class BlockRequestHandler implements AutoCloseable {
    private static final RateLimitedLog REQUEST_ERRORS =
            new RateLimitedLog(System.getLogger(BlockRequestHandler.class.getName()));

    // Request types, 5.2.6.
    static final int VIRTIO_BLK_T_IN = 0;
    static final int VIRTIO_BLK_T_OUT = 1;
    static final int VIRTIO_BLK_T_FLUSH = 4;
    static final int VIRTIO_BLK_T_GET_ID = 8;
    static final int VIRTIO_BLK_T_GET_LIFETIME = 10;
    static final int VIRTIO_BLK_T_DISCARD = 11;
    static final int VIRTIO_BLK_T_WRITE_ZEROES = 13;
    static final int VIRTIO_BLK_T_SECURE_ERASE = 14;

    // Status values, 5.2.6.
    static final int VIRTIO_BLK_S_OK = 0;
    static final int VIRTIO_BLK_S_IOERR = 1;
    static final int VIRTIO_BLK_S_UNSUPP = 2;

    static final int VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP = 1;

    /** type, reserved and sector. */
    static final int HEADER_SIZE = 16;
    /** struct virtio_blk_discard_write_zeroes: le64 sector, le32 num_sectors, le32 flags. */
    static final int DISCARD_SEGMENT_SIZE = 16;

    private static final ValueLayout.OfInt U32 =
            ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final VirtioBlock device;
    private final DiskImage image;
    private final boolean discard;
    private final boolean writeZeroes;
    private final IoVec iov = new IoVec(16);
    private final byte[] header = new byte[HEADER_SIZE];
    private final MemorySegment headerView = MemorySegment.ofArray(header);
    private final byte[] segment = new byte[DISCARD_SEGMENT_SIZE];
    private final MemorySegment segmentView = MemorySegment.ofArray(segment);
    private final byte[] status = new byte[1];

    /**
     * @param discard whether VIRTIO_BLK_F_DISCARD was negotiated
     * @param writeZeroes whether VIRTIO_BLK_F_WRITE_ZEROES was negotiated
     */
    BlockRequestHandler(VirtioBlock device, boolean discard,
            boolean writeZeroes) {
        this.device = device;
        this.image = device.image();
        this.discard = discard;
        this.writeZeroes = writeZeroes;
    }

    /** Runs the request in {@code chain}; returns the bytes written into its writable buffers. */
    int handle(DescriptorChain chain) {
        long readable = chain.readableLength();
        long writable = chain.writableLength();
        if (writable == 0) {
            fail(chain, "no device-writable status byte");
            return 0;
        }
        if (readable < HEADER_SIZE) {
            fail(chain, "request header shorter than 16 bytes: len=" + readable);
            return complete(chain, VIRTIO_BLK_S_IOERR, 0);
        }
        chain.read(0, header, 0, HEADER_SIZE);
        int type = headerView.get(U32, 0);
        long sector = headerView.get(U64, 8);

        // 5.2.6.2: a read-only device fails every request that could change the disk.
        if (device.readOnly() && type != VIRTIO_BLK_T_IN && type != VIRTIO_BLK_T_GET_ID
                && type != VIRTIO_BLK_T_FLUSH) {
            fail(chain, "request type=" + type + " on a read-only disk");
            return complete(chain, VIRTIO_BLK_S_IOERR, 0);
        }
        return switch (type) {
            case VIRTIO_BLK_T_IN -> read(chain, sector, readable, writable);
            case VIRTIO_BLK_T_OUT -> write(chain, sector, readable, writable);
            case VIRTIO_BLK_T_FLUSH -> flush(chain);
            case VIRTIO_BLK_T_GET_ID -> getId(chain, readable, writable);
            case VIRTIO_BLK_T_DISCARD, VIRTIO_BLK_T_WRITE_ZEROES ->
                    discardOrZero(chain, type, readable, writable);
            default -> {
                fail(chain, "unsupported request type=" + Integer.toUnsignedString(type));
                yield complete(chain, VIRTIO_BLK_S_UNSUPP, 0);
            }
        };
    }

    private int read(DescriptorChain chain, long sector, long readable, long writable) {
        long start = System.nanoTime();
        long len = writable - 1;
        if (readable != HEADER_SIZE) {
            fail(chain, "read request with device-readable data: len=" + (readable - HEADER_SIZE));
            return complete(chain, VIRTIO_BLK_S_IOERR, 0);
        }
        if (!checkRange(chain, sector, len)) {
            return complete(chain, VIRTIO_BLK_S_IOERR, 0);
        }
        iov.clear();
        addRange(chain.writable(), 0, len);
        int ret = image.read(sector << VirtioBlock.SECTOR_SHIFT, iov);
        if (ret < 0) {
            ioError(chain, "read", sector, len, ret);
            return complete(chain, VIRTIO_BLK_S_IOERR, 0);
        }
        device.counters().read(len, (System.nanoTime() - start) / 1000);
        return complete(chain, VIRTIO_BLK_S_OK, len);
    }

    private int write(DescriptorChain chain, long sector, long readable, long writable) {
        long start = System.nanoTime();
        long len = readable - HEADER_SIZE;
        if (writable != 1) {
            fail(chain, "write request with device-writable data: len=" + (writable - 1));
            return complete(chain, VIRTIO_BLK_S_IOERR, 0);
        }
        if (!checkRange(chain, sector, len)) {
            return complete(chain, VIRTIO_BLK_S_IOERR, 0);
        }
        if (sector == 0 && device.sector0Protected()) {
            fail(chain, "write to sector 0 of an image whose format was detected");
            return complete(chain, VIRTIO_BLK_S_IOERR, 0);
        }
        iov.clear();
        addRange(chain.readable(), HEADER_SIZE, readable);
        int ret = image.write(sector << VirtioBlock.SECTOR_SHIFT, iov);
        if (ret == 0 && !device.writeback()) {
            // Write-through: the guest hears of the write only once it is durable.
            ret = image.flush();
        }
        if (ret < 0) {
            ioError(chain, "write", sector, len, ret);
            return complete(chain, VIRTIO_BLK_S_IOERR, 0);
        }
        device.counters().write(len, (System.nanoTime() - start) / 1000);
        return complete(chain, VIRTIO_BLK_S_OK, 0);
    }

    private int flush(DescriptorChain chain) {
        // 5.2.6.2: completed writes must be durable before the flush completes; the status
        // byte is written only after fdatasync returned.
        int ret = image.flush();
        if (ret < 0) {
            ioError(chain, "flush", 0, 0, ret);
            return complete(chain, VIRTIO_BLK_S_IOERR, 0);
        }
        return complete(chain, VIRTIO_BLK_S_OK, 0);
    }

    private int getId(DescriptorChain chain, long readable, long writable) {
        byte[] serial = device.serialBytes();
        long room = writable - 1;
        if (readable != HEADER_SIZE || room < serial.length) {
            fail(chain, "GET_ID buffer too small or misdirected: writable=" + room
                    + " serial=" + serial.length);
            return complete(chain, VIRTIO_BLK_S_IOERR, 0);
        }
        // The ID string is NUL-padded to 20 bytes (5.2.6), as far as the buffer goes.
        int len = (int) Math.min(room, VirtioBlock.VIRTIO_BLK_ID_BYTES);
        byte[] id = new byte[len];
        System.arraycopy(serial, 0, id, 0, serial.length);
        chain.write(0, id, 0, len);
        return complete(chain, VIRTIO_BLK_S_OK, len);
    }

    private int discardOrZero(DescriptorChain chain, int type, long readable, long writable) {
        boolean isDiscard = type == VIRTIO_BLK_T_DISCARD;
        if (isDiscard ? !discard : !writeZeroes) {
            fail(chain, (isDiscard ? "DISCARD" : "WRITE_ZEROES") + " without its feature");
            return complete(chain, VIRTIO_BLK_S_UNSUPP, 0);
        }
        long payload = readable - HEADER_SIZE;
        long maxPayload = (long) DISCARD_SEGMENT_SIZE * VirtioBlock.MAX_DISCARD_WRITE_ZEROES_SEG;
        if (writable != 1 || payload < DISCARD_SEGMENT_SIZE || payload > maxPayload) {
            fail(chain, "discard/write zeroes request needs one 16-byte segment: len=" + payload
                    + " writable=" + writable);
            return complete(chain, VIRTIO_BLK_S_IOERR, 0);
        }
        chain.read(HEADER_SIZE, segment, 0, DISCARD_SEGMENT_SIZE);
        long sector = segmentView.get(U64, 0);
        long sectors = Integer.toUnsignedLong(segmentView.get(U32, 8));
        int flags = segmentView.get(U32, 12);
        int allowed = isDiscard ? 0 : VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;
        if ((flags & ~allowed) != 0) {
            fail(chain, "unsupported flags=0x" + Integer.toHexString(flags) + " type=" + type);
            return complete(chain, VIRTIO_BLK_S_UNSUPP, 0);
        }
        if (!checkRange(chain, sector, sectors << VirtioBlock.SECTOR_SHIFT)) {
            return complete(chain, VIRTIO_BLK_S_IOERR, 0);
        }
        if (sector == 0 && device.sector0Protected()) {
            fail(chain, "discard or zeroing of sector 0 of an image whose format was detected");
            return complete(chain, VIRTIO_BLK_S_IOERR, 0);
        }
        long offset = sector << VirtioBlock.SECTOR_SHIFT;
        long length = sectors << VirtioBlock.SECTOR_SHIFT;
        // Unmapping zeroes is allowed only where the device said it may (write_zeroes_may_unmap
        // follows DISCARD, i.e. sparse=on).
        boolean unmap = isDiscard
                || ((flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) != 0 && discard);
        int ret = length == 0 ? 0
                : unmap ? image.punchHole(offset, length) : image.writeZeroes(offset, length);
        if (ret < 0) {
            ioError(chain, isDiscard ? "discard" : "write zeroes", sector, length, ret);
            return complete(chain, VIRTIO_BLK_S_IOERR, 0);
        }
        return complete(chain, VIRTIO_BLK_S_OK, 0);
    }

    /**
     * Whether {@code len} bytes from {@code sector} are whole sectors inside the disk; logs
     * when not. The sector is unsigned and may be anything the guest wrote.
     */
    private boolean checkRange(DescriptorChain chain, long sector, long len) {
        long capacity = device.capacitySectors();
        if (len % VirtioBlock.SECTOR_SIZE != 0) {
            fail(chain, "data length is not a whole number of sectors: len=" + len);
            return false;
        }
        long sectors = len >>> VirtioBlock.SECTOR_SHIFT;
        if (Long.compareUnsigned(sector, capacity) > 0 || sectors > capacity - sector) {
            fail(chain, "request past the end of the disk: sector="
                    + Long.toUnsignedString(sector) + " sectors=" + sectors
                    + " capacity=" + capacity);
            return false;
        }
        return true;
    }

    /** Adds the bytes {@code [from, to)} of the buffers, taken as one stream, to the iovec. */
    private void addRange(List<MemorySegment> buffers, long from, long to) {
        long position = 0;
        for (MemorySegment s : buffers) {
            long size = s.byteSize();
            long start = Math.max(from, position);
            long end = Math.min(to, position + size);
            if (start < end) {
                iov.add(s, start - position, end - start);
            }
            position += size;
            if (position >= to) {
                break;
            }
        }
    }

    /** Writes the status as the last writable byte; returns the used length. */
    private int complete(DescriptorChain chain, int statusValue, long dataWritten) {
        status[0] = (byte) statusValue;
        chain.write(chain.writableLength() - 1, status, 0, 1);
        return (int) (dataWritten + 1);
    }

    private void fail(DescriptorChain chain, String why) {
        REQUEST_ERRORS.log(Level.WARNING, () -> String.format("%s: request head=%d failed: %s",
                device.id(), chain.head(), why));
    }

    private void ioError(DescriptorChain chain, String op, long sector, long len, int ret) {
        REQUEST_ERRORS.log(Level.WARNING, () -> String.format(
                "%s: %s failed: sector=%s len=%d error=%s head=%d", device.id(), op,
                Long.toUnsignedString(sector), len, Errno.name(-ret), chain.head()));
    }

    @Override
    public void close() {
        iov.close();
    }
}
