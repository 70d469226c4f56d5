package dev.nimbus.sys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class EventFdEpollTest {
    @Test
    void writesAddUpAndReadClearsTheCounter() throws Exception {
        try (EventFd e = EventFd.create()) {
            assertEquals(0, e.read(), "a fresh eventfd reads as empty, not as an error");
            e.write(2);
            assertTrue(e.signal());
            assertEquals(3, e.read());
            assertEquals(0, e.read());
        }
    }

    @Test
    void signalOnAClosedEventFdFailsQuietly() throws Exception {
        EventFd e = EventFd.create();
        e.close();
        assertFalse(e.signal());
    }

    @Test
    void epollReportsWhichDescriptorBecameReadable() throws Exception {
        try (Epoll epoll = Epoll.create(); EventFd a = EventFd.create();
                EventFd b = EventFd.create();
                Epoll.Events events = new Epoll.Events(4)) {
            epoll.add(a.fd(), Epoll.EPOLLIN, 11);
            epoll.add(b.fd(), Epoll.EPOLLIN, 22);
            assertEquals(0, epoll.wait(events, 0));

            b.signal();
            assertEquals(1, epoll.wait(events, 1000));
            assertEquals(22, events.data(0));
            assertEquals(Epoll.EPOLLIN, events.events(0) & Epoll.EPOLLIN);

            // Level-triggered: still readable until consumed.
            assertEquals(1, epoll.wait(events, 0));
            b.read();
            assertEquals(0, epoll.wait(events, 0));

            epoll.delete(b.fd());
            b.signal();
            assertEquals(0, epoll.wait(events, 0));
        }
    }

    @Test
    void aWaitingThreadWakesOnAnotherThreadsSignal() throws Exception {
        try (Epoll epoll = Epoll.create(); EventFd e = EventFd.create()) {
            epoll.add(e.fd(), Epoll.EPOLLIN, 7);
            long[] seen = new long[1];
            Thread waiter = Thread.ofPlatform().start(() -> {
                try (Epoll.Events events = new Epoll.Events(1)) {
                    if (epoll.wait(events, 5000) == 1) {
                        seen[0] = events.data(0);
                    }
                } catch (SyscallException ex) {
                    seen[0] = -1;
                }
            });
            Thread.sleep(20);
            e.signal();
            waiter.join(5000);
            assertEquals(7, seen[0]);
        }
    }
}
