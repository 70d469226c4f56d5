package dev.nimbus.acpi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs the ACPICA tools from Debian's acpica-tools package: {@code iasl} (compiler and
 * disassembler) and {@code acpiexec} (AML interpreter). A missing tool fails the test: these
 * checks are the point of the tests that use them.
 */
final class Acpica {
    private static final long TIMEOUT_SECONDS = 120;

    /** A finished tool run. */
    record Run(int exitCode, String output) {
        /** Fails unless the tool exited 0 and reported no ACPICA error or warning. */
        Run assertClean() {
            assertEquals(0, exitCode, () -> "tool failed:\n" + output);
            for (String bad : List.of("ACPI Error", "ACPI Warning", "ACPI Exception",
                    "Could not", "Incorrect checksum")) {
                if (output.contains(bad)) {
                    fail("tool reported \"" + bad + "\":\n" + output);
                }
            }
            return this;
        }
    }

    private Acpica() {
    }

    /** Disassembles {@code table} with {@code iasl -d}; returns the run and the .dsl text. */
    static String disassemble(Path dir, String name, byte[] table) throws IOException {
        Path aml = dir.resolve(name + ".dat");
        Files.write(aml, table);
        run(dir, List.of("iasl", "-d", aml.getFileName().toString())).assertClean();
        String dsl = Files.readString(dir.resolve(name + ".dsl"), StandardCharsets.ISO_8859_1);
        if (dsl.contains("Incorrect checksum")) {
            fail("iasl found a bad checksum in " + name + ":\n" + dsl);
        }
        return dsl;
    }

    /**
     * Compiles ASL source with {@code iasl} and returns the AML file. Name path optimization is
     * off ({@code -on}) so that paths stay as written; integers are still encoded in their
     * smallest form.
     */
    static byte[] compile(Path dir, String name, String asl) throws IOException {
        Path src = dir.resolve(name + ".asl");
        Files.writeString(src, asl);
        run(dir, List.of("iasl", "-on", "-p", name, src.getFileName().toString()))
                .assertClean();
        return Files.readAllBytes(dir.resolve(name + ".aml"));
    }

    /**
     * Loads {@code tables} into {@code acpiexec} and runs debugger {@code commands} (separated
     * by ';') in batch mode; returns the output.
     */
    static String exec(Path dir, List<byte[]> tables, String commands) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("acpiexec", "-b", commands));
        for (int i = 0; i < tables.size(); i++) {
            Path f = dir.resolve("exec" + i + ".dat");
            Files.write(f, tables.get(i));
            cmd.add(f.getFileName().toString());
        }
        return run(dir, cmd).assertClean().output();
    }

    private static Run run(Path dir, List<String> command) throws IOException {
        // Output goes to a file so that a hung tool cannot block the read past the timeout.
        Path log = Files.createTempFile(dir, command.getFirst(), ".log");
        Process p;
        try {
            p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(log.toFile()).start();
        } catch (IOException e) {
            throw new AssertionError(command.getFirst() + " is missing: install the Debian "
                    + "package acpica-tools (apt-get install acpica-tools)", e);
        }
        p.getOutputStream().close();
        try {
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                fail(command.getFirst() + " timed out:\n" + Files.readString(log));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted waiting for " + command.getFirst(), e);
        }
        return new Run(p.exitValue(), Files.readString(log, StandardCharsets.ISO_8859_1));
    }
}
