package dev.nimbus.devices.virtio;

import dev.nimbus.memory.GuestMemory;
import java.util.List;

/**
 * Everything a device engine gets when the driver sets DRIVER_OK: guest memory, the negotiated
 * features, the queues the driver enabled (already checked against 2.7) and the way back to the
 * driver.
 *
 * @param memory the guest's RAM, where all rings and buffers live
 * @param features the feature bits both sides agreed on
 * @param queues the enabled queues, in index order; a queue the driver left disabled is absent
 * @param interrupt used-buffer and configuration notifications, and DEVICE_NEEDS_RESET
 */
public record VirtioActivation(GuestMemory memory, long features, List<VirtioQueue> queues,
        VirtioInterrupt interrupt) {
    public VirtioActivation {
        queues = List.copyOf(queues);
    }

    /** The queue with index {@code index}, or null if the driver did not enable it. */
    public VirtioQueue queue(int index) {
        for (VirtioQueue q : queues) {
            if (q.index() == index) {
                return q;
            }
        }
        return null;
    }

    /** Whether feature bit {@code bit} was negotiated. */
    public boolean has(int bit) {
        return Virtio.has(features, bit);
    }
}
