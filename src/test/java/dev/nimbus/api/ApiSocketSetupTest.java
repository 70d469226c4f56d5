package dev.nimbus.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nimbus.sys.FileControl;
import dev.nimbus.sys.Linux;
import dev.nimbus.sys.UnixSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.LinkOption;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@code --api-socket} may be given: the path checks made before anything is created there,
 * what is done with a file already at the path, and the checks on an inherited descriptor.
 */
class ApiSocketSetupTest {
    @TempDir
    Path dir;
    ApiFixture api;

    @BeforeEach
    void start() throws Exception {
        api = new ApiFixture(dir);
    }

    @AfterEach
    void stop() {
        api.close();
    }

    private ApiServer.ApiServerException refusedBind(String path) {
        return assertThrows(ApiServer.ApiServerException.class,
                () -> ApiServer.bind(path, new Endpoints(api.vmm)));
    }

    private ApiServer.ApiServerException refusedFd(int fd) {
        return assertThrows(ApiServer.ApiServerException.class,
                () -> ApiServer.onFd(fd, new Endpoints(api.vmm)));
    }

    /**
     * The bug: an empty path ({@code --api-socket ""} or {@code path=}) went on to create the
     * lock file {@code .lock} in the current directory and then failed with only "Invalid
     * argument". It is now refused first, with a message that says what to give.
     */
    @Test
    void emptyPathIsRefusedBeforeAnythingIsCreated() {
        boolean lockBefore = Files.exists(Path.of(".lock"));
        ApiServer.ApiServerException e = refusedBind("");
        assertEquals("API socket path is empty: give --api-socket path=<socket path> or "
                + "fd=<listening socket>", e.getMessage());
        assertNull(e.getCause());
        assertEquals(lockBefore, Files.exists(Path.of(".lock")));
    }

    @Test
    void pathTooLongForASocketIsRefusedBeforeAnythingIsCreated() {
        String name = "s".repeat(UnixSocket.UNIX_PATH_MAX);
        String path = dir.resolve(name).toString();
        ApiServer.ApiServerException e = refusedBind(path);
        assertTrue(e.getMessage().startsWith("API socket path is too long: length="
                + path.length() + ", a Unix socket path takes at most 107 bytes"), e.getMessage());
        assertFalse(Files.exists(Path.of(path + ".lock")));
    }

    /**
     * The bug: the leftover removal deleted an empty directory at the path (the reference VMM's
     * unlink(2) cannot) and then bound the socket in its place. A directory is now refused, left
     * as it is, and the lock is let go.
     */
    @Test
    void directoryAtThePathIsRefusedAndKept() throws Exception {
        Path d = Files.createDirectory(dir.resolve("a-directory"));
        ApiServer.ApiServerException e = refusedBind(d.toString());
        assertEquals("API socket path " + d + " is a directory", e.getMessage());
        assertTrue(Files.isDirectory(d));
        int lock = FileControl.tryLockExclusive(d + ".lock");
        assertTrue(lock >= 0, "the refused server let go of its lock");
        Linux.close(lock);
    }

    /**
     * A regular file at the path is replaced by the socket, as the reference VMM, which unlinks
     * whatever is at the path, does: scripts hand it a placeholder made by mktemp(1). The
     * server warns that it did so.
     */
    @Test
    void emptyPlaceholderFileAtThePathIsReplacedAsTheReferenceVmmDoes() throws Exception {
        Path file = Files.writeString(dir.resolve("placeholder"), "");
        ApiServer second = ApiServer.bind(file.toString(), new Endpoints(api.vmm));
        try {
            second.start();
            PosixFileAttributes a = Files.readAttributes(file, PosixFileAttributes.class,
                    LinkOption.NOFOLLOW_LINKS);
            assertTrue(a.isOther(), "a socket now");
            try (ApiClient c = ApiClient.connect(file.toString())) {
                assertEquals(200, c.request("GET", "vmm.ping", null, new int[0]).status());
            }
        } finally {
            second.close();
        }
        assertFalse(Files.exists(file));
    }

    /**
     * The bug: {@code --api-socket} at a path that held a user's file deleted the file and
     * bound the socket there. A file with data in it is now refused and kept.
     */
    @Test
    void regularFileWithDataAtThePathIsRefusedAndKept() throws Exception {
        Path file = Files.writeString(dir.resolve("notes.txt"), "precious");
        ApiServer.ApiServerException e = assertThrows(ApiServer.ApiServerException.class,
                () -> ApiServer.bind(file.toString(), new Endpoints(api.vmm)));
        assertEquals("API socket path " + file + " is a regular file with 8 bytes in it;"
                + " refusing to replace it with a socket", e.getMessage());
        assertEquals("precious", Files.readString(file));
    }

    /**
     * The bug: {@code --api-socket fd=N} took any number, and a descriptor that was not open or
     * not a listening socket made the accept loop fail at once (EBADF, ENOTSOCK, EINVAL) and
     * leave the VMM running without its API. It is now checked up front.
     */
    @Test
    void descriptorThatIsNotOpenIsRefused() {
        ApiServer.ApiServerException e = refusedFd(99_999);
        assertEquals("API socket fd=99999 is not an open file descriptor", e.getMessage());
    }

    @Test
    void descriptorThatIsNotASocketIsRefused() throws Exception {
        int fd = Linux.open(Files.writeString(dir.resolve("file"), "x").toString(),
                Linux.O_RDONLY, 0);
        try {
            assertEquals("API socket fd=" + fd + " is not a socket", refusedFd(fd).getMessage());
        } finally {
            Linux.close(fd);
        }
    }

    @Test
    void socketThatIsNotListeningIsRefused() throws Exception {
        try (UnixSocket connected = UnixSocket.connect(api.socket.toString())) {
            assertEquals("API socket fd=" + connected.fd() + " is not a listening socket: "
                    + "call listen(2) on it before passing it",
                    refusedFd(connected.fd()).getMessage());
        }
    }

    @Test
    void listeningSocketIsServed() throws Exception {
        Path path = dir.resolve("inherited.sock");
        UnixSocket listener = UnixSocket.listen(path.toString(), 4);
        ApiServer server = ApiServer.onFd(listener.fd(), new Endpoints(api.vmm));
        try {
            server.start();
            try (ApiClient c = ApiClient.connect(path.toString())) {
                assertEquals(200, c.request("GET", "vmm.ping", null, new int[0]).status());
            }
        } finally {
            server.close();
        }
    }
}
