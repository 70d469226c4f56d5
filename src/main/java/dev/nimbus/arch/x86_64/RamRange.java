package dev.nimbus.arch.x86_64;

/**
 * One contiguous range of guest RAM to map.
 *
 * @param gpa guest physical address of the first byte
 * @param size length in bytes
 */
public record RamRange(long gpa, long size) {
    /** First address past the range. */
    public long end() {
        return gpa + size;
    }
}
