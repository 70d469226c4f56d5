package dev.nimbus.devices.virtio;

import dev.nimbus.sys.EventFd;

/**
 * An enabled queue as a device sees it at activation: its index, the ring, and the eventfd that
 * becomes readable when the driver notifies it (an ioeventfd on the PCI transport, the kick fd in
 * vhost-user). The device reads {@code notifier} to clear it before draining the queue.
 */
public record VirtioQueue(int index, Virtqueue queue, EventFd notifier) {}
