package dev.nimbus.block;

import dev.nimbus.vmm.config.DiskConfig;
import dev.nimbus.vmm.config.ImageType;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Path;

/** Opens the image a {@code --disk} option names, the way the VMM does at boot or hot-plug. */
public final class DiskImages {
    private static final Logger LOG = System.getLogger(DiskImages.class.getName());

    private DiskImages() {}

    /**
     * An open image with what opening it decided.
     *
     * @param image the image, locked against other writers
     * @param type the format, given or detected; the VMM should store it in the disk's
     *     configuration so a reboot or migration does not detect again
     * @param sector0Protected whether writes to sector 0 must fail: the format was detected,
     *     not given, and is raw, so a guest writing a qcow2 header there could otherwise make
     *     the next detection misread the disk
     */
    public record OpenedImage(DiskImage image, ImageType type, boolean sector0Protected) {}

    /**
     * Opens {@code config}'s image: detects or checks its format, opens it read-only or
     * read-write, with {@code O_DIRECT} if asked, preallocates a writable image when
     * {@code sparse=off}, and takes the advisory lock.
     *
     * @throws DiskImageException for a vhost-user disk, a format mismatch, a format not
     *     supported yet or a locked image
     */
    public static OpenedImage open(DiskConfig config) throws IOException {
        if (config.vhostUser() || config.path() == null) {
            throw new DiskImageException("Disk has no image to open: id=" + config.id());
        }
        Path path = Path.of(config.path());
        ImageType detected = ImageFormats.detect(path);
        boolean sector0Protected = false;
        if (config.imageType() == ImageType.UNKNOWN) {
            LOG.log(Level.WARNING, () -> "No image_type given for disk " + path
                    + ": detected " + detected.cliName() + "; detection is deprecated,"
                    + " give image_type explicitly");
            if (detected == ImageType.RAW) {
                LOG.log(Level.WARNING, () -> "Disk " + path + " detected as raw: writes to"
                        + " sector 0 are refused");
                sector0Protected = true;
            }
        } else if (config.imageType() != detected) {
            throw new DiskImageException("Disk image type mismatch: path=" + path
                    + " specified=" + config.imageType().cliName() + " detected="
                    + detected.cliName());
        }
        if (detected != ImageType.RAW) {
            // TODO: only raw images are read; qcow2, VHD, VHDX and VMDK need their own
            // DiskImage that maps guest offsets through the format's metadata.
            throw new DiskImageException("Disk image format is not supported yet: path=" + path
                    + " type=" + detected.cliName());
        }
        RawImage image = RawImage.open(path, config.readonly(), config.direct());
        try {
            if (!config.sparse()) {
                image.preallocate();
            }
            image.lock(config.lockGranularity());
        } catch (IOException | RuntimeException e) {
            image.close();
            throw e;
        }
        return new OpenedImage(image, detected, sector0Protected);
    }
}
