package dev.nimbus.vhost;

import dev.nimbus.devices.virtio.QueueDriverGuest;
import dev.nimbus.devices.virtio.VirtioDevice;
import dev.nimbus.devices.virtio.Virtqueue;
import dev.nimbus.memory.GuestMemory;
import java.util.List;
import java.util.function.Function;

/**
 * One virtio-blk request driven by a tiny guest on real KVM through the VMM's virtio-pci
 * transport ({@link QueueDriverGuest}). The request (a header, one 512-byte data buffer and a
 * status byte) is in guest memory before the guest starts. With a vhost-user front-end, the
 * notify is a kick the back-end reads straight from KVM's ioeventfd, and the MSI comes from the
 * back-end's call.
 */
final class BlockDriverGuest {
    static final long BAR0 = QueueDriverGuest.BAR0;
    static final long HEADER = QueueDriverGuest.BUFFERS;
    static final long DATA = HEADER + 0x200;
    static final long STATUS = HEADER + 0x400;
    static final int SECTOR = 512;
    static final int VIRTIO_BLK_T_IN = 0;
    static final int VIRTIO_BLK_T_OUT = 1;

    /** What a run saw. */
    record Result(String uart, List<Long> mmioWrites, int usedIdx, int usedLen, int status,
            byte[] data) {}

    private BlockDriverGuest() {}

    /**
     * Runs one request of {@code type} for {@code sector}; {@code data} is what an OUT request
     * writes (ignored for IN). {@code device} makes the engine for the guest's memory.
     */
    static Result run(Function<GuestMemory, VirtioDevice> device, int type, long sector,
            byte[] data) throws Exception {
        return QueueDriverGuest.run(device::apply, mem -> request(mem, type, sector, data), run -> {
            GuestMemory mem = run.mem();
            long used = QueueDriverGuest.USED;
            return new Result(run.uart(), run.mmioWrites(),
                    Short.toUnsignedInt(mem.readShort(used + 2)), mem.readInt(used + 8),
                    mem.readByte(STATUS) & 0xFF, mem.read(DATA, SECTOR));
        });
    }

    /** struct virtio_blk_req (virtio 1.2, 5.2.6): header, data, status, in three descriptors. */
    private static void request(GuestMemory mem, int type, long sector, byte[] data) {
        mem.writeInt(HEADER, type);
        mem.writeInt(HEADER + 4, 0);
        mem.writeLong(HEADER + 8, sector);
        if (type == VIRTIO_BLK_T_OUT) {
            mem.write(DATA, data);
        }
        mem.writeByte(STATUS, (byte) 0xFF);
        int next = Virtqueue.VIRTQ_DESC_F_NEXT;
        int write = Virtqueue.VIRTQ_DESC_F_WRITE;
        QueueDriverGuest.desc(mem, 0, HEADER, 16, next, 1);
        QueueDriverGuest.desc(mem, 1, DATA, SECTOR, next | (type == VIRTIO_BLK_T_IN ? write : 0),
                2);
        QueueDriverGuest.desc(mem, 2, STATUS, 1, write, 0);
        QueueDriverGuest.offerFirstChain(mem);
    }
}
