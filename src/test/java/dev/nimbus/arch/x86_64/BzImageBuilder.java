package dev.nimbus.arch.x86_64;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Builds bzImage-shaped files: a boot sector and setup code of {@code setupSects} sectors with
 * a setup header at 0x1F1, then a protected-mode payload. Header defaults mirror a current
 * x86-64 Linux kernel (protocol 2.15, relocatable, 64-bit entry, pref_address 16 MiB).
 */
final class BzImageBuilder {
    int setupSects = 27;
    int version = 0x020F;
    int loadflags = BzImage.LOADED_HIGH;
    int xloadflags = 0x7F;
    long initrdAddrMax = 0x7FFF_FFFFL;
    int kernelAlignment = 0x20_0000;
    boolean relocatable = true;
    long cmdlineSize = 0x7FF;
    long prefAddress = 0x100_0000L;
    long initSize = 0x40_0000L;
    /** Jump offset at 0x201: the header ends at 0x202 plus this. */
    int jump = 0x6A;
    boolean hdrs = true;
    byte[] payload = pattern(0x3000, 0x5A);

    static byte[] pattern(int len, int seed) {
        byte[] b = new byte[len];
        for (int i = 0; i < len; i++) {
            b[i] = (byte) (i * 31 + seed);
        }
        return b;
    }

    byte[] build() {
        int setupBytes = (setupSects == 0 ? 5 : setupSects + 1) * BzImage.SECTOR_SIZE;
        ByteBuffer b = ByteBuffer.allocate(setupBytes + payload.length)
                .order(ByteOrder.LITTLE_ENDIAN);
        // Setup code filler, so a loader copying more than the header would be noticed.
        for (int i = 0; i < setupBytes; i++) {
            b.put(i, (byte) 0xCC);
        }
        b.put(ZeroPage.OFFSETOF_SENTINEL, (byte) 0xFF);
        b.put(BzImage.OFFSETOF_SETUP_SECTS, (byte) setupSects);
        b.putShort(0x1F2, (short) 1); // root_flags
        b.putInt(0x1F4, payload.length / 16); // syssize
        b.putShort(0x1FA, (short) 0xFFFF); // vid_mode
        b.putShort(BzImage.OFFSETOF_BOOT_FLAG, (short) BzImage.BOOT_FLAG_MAGIC);
        b.put(BzImage.OFFSETOF_JUMP, (byte) 0xEB);
        b.put(BzImage.OFFSETOF_JUMP + 1, (byte) jump);
        b.putInt(BzImage.OFFSETOF_HEADER, hdrs ? BzImage.HDRS_MAGIC : 0);
        b.putShort(BzImage.OFFSETOF_VERSION, (short) version);
        b.putShort(0x20E, (short) 0x3A00); // kernel_version
        b.put(BzImage.OFFSETOF_TYPE_OF_LOADER, (byte) 0);
        b.put(BzImage.OFFSETOF_LOADFLAGS, (byte) loadflags);
        b.putInt(BzImage.OFFSETOF_CODE32_START, 0x100000);
        b.putShort(BzImage.OFFSETOF_HEAP_END_PTR, (short) 0x5020);
        b.putInt(BzImage.OFFSETOF_INITRD_ADDR_MAX, (int) initrdAddrMax);
        b.putInt(BzImage.OFFSETOF_KERNEL_ALIGNMENT, kernelAlignment);
        b.put(BzImage.OFFSETOF_RELOCATABLE_KERNEL, (byte) (relocatable ? 1 : 0));
        b.put(0x235, (byte) 21); // min_alignment
        b.putShort(BzImage.OFFSETOF_XLOADFLAGS, (short) xloadflags);
        b.putInt(BzImage.OFFSETOF_CMDLINE_SIZE, (int) cmdlineSize);
        b.putInt(0x248, 0x3A0); // payload_offset
        b.putInt(0x24C, payload.length - 0x3A0); // payload_length
        b.putLong(BzImage.OFFSETOF_PREF_ADDRESS, prefAddress);
        b.putInt(BzImage.OFFSETOF_INIT_SIZE, (int) initSize);
        b.putInt(0x264, 0x190); // handover_offset
        b.putInt(0x268, 0x1234); // kernel_info_offset
        b.put(setupBytes, payload);
        return b.array();
    }
}
