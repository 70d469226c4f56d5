package dev.nimbus.block;

/**
 * The block sizes a disk reports to the guest (virtio 1.2, 5.2.4: {@code blk_size} and the
 * {@code topology} fields), in bytes.
 *
 * @param logicalBlockSize the smallest unit the guest should address
 * @param physicalBlockSize the unit the storage writes without read-modify-write
 * @param minimumIoSize the smallest I/O the storage handles well
 * @param optimalIoSize the I/O size the storage prefers, or 0 if it has none
 */
public record DiskTopology(int logicalBlockSize, int physicalBlockSize, int minimumIoSize,
        int optimalIoSize) {
    /** A regular file: 512-byte sectors, no preference. */
    public static final DiskTopology DEFAULT = new DiskTopology(512, 512, 512, 0);

    /** Every size {@code alignment}: a file opened for direct I/O that needs that alignment. */
    public static DiskTopology aligned(int alignment) {
        return new DiskTopology(alignment, alignment, alignment, 0);
    }
}
