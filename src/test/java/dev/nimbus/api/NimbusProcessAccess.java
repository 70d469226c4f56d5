package dev.nimbus.api;

import dev.nimbus.sys.SyscallException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** The process test helpers of this package, for the launcher's tests in other packages. */
public final class NimbusProcessAccess {
    private NimbusProcessAccess() {}

    /** A non-persistent tap named {@code name}; see {@code NimbusProcess.openTap}. */
    public static int openTap(String name) throws SyscallException {
        return NimbusProcess.openTap(name);
    }

    /** An event monitor file's events as {@code source/event}, its format checked. */
    public static List<String> events(Path file) throws IOException {
        return KataFlowIT.events(file);
    }
}
