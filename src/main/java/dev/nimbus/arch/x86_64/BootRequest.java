package dev.nimbus.arch.x86_64;

import java.nio.file.Path;

/**
 * What to boot.
 *
 * @param kernel ELF (PVH) or bzImage kernel, or PVH firmware such as rust-hypervisor-fw
 * @param initramfs initramfs image, or null for none
 * @param cmdline kernel command line, or null for an empty one
 * @param rsdpAddr guest address of the ACPI RSDP the caller writes, or 0 for none
 */
public record BootRequest(Path kernel, Path initramfs, String cmdline, long rsdpAddr) {
    public BootRequest {
        if (kernel == null) {
            throw new IllegalArgumentException("Boot request needs a kernel");
        }
    }
}
