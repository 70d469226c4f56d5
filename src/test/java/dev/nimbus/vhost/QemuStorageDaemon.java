package dev.nimbus.vhost;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** QEMU's {@code qemu-storage-daemon} exporting a raw image as a vhost-user-blk back-end. */
final class QemuStorageDaemon implements AutoCloseable {
    static final String BINARY = "qemu-storage-daemon";

    private final Process process;
    private final Path log;

    private QemuStorageDaemon(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    static QemuStorageDaemon export(Path image, Path socket, Path log) throws Exception {
        List<String> cmd = List.of(BINARY,
                "--blockdev", "driver=file,node-name=file0,filename=" + image,
                "--blockdev", "driver=raw,node-name=disk0,file=file0",
                "--export", "type=vhost-user-blk,id=exp0,node-name=disk0,writable=on,"
                        + "addr.type=unix,addr.path=" + socket);
        Process p = new ProcessBuilder(cmd)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(log.toFile()).redirectErrorStream(true).start();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!Files.exists(socket) && p.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        if (!Files.exists(socket)) {
            p.destroyForcibly();
            throw new AssertionError("qemu-storage-daemon did not create its socket: "
                    + Files.readString(log));
        }
        return new QemuStorageDaemon(p, log);
    }

    String log() throws IOException {
        return Files.readString(log);
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(5, TimeUnit.SECONDS);
        }
    }
}
