package dev.nimbus.log;

import java.lang.System.Logger;
import java.util.ResourceBundle;
import java.util.function.Supplier;

/**
 * Backs {@link System#getLogger} with Nimbus's own small logger, so logging needs neither
 * java.util.logging (slow to start) nor a dependency.
 */
public final class NimbusLoggerFinder extends System.LoggerFinder {
    @Override
    public Logger getLogger(String name, Module module) {
        return new NimbusLogger(shorten(name), name.startsWith("dev.nimbus."));
    }

    /** {@code dev.nimbus.devices.legacy.Serial16550} becomes {@code devices.legacy.Serial16550}. */
    private static String shorten(String name) {
        return name.startsWith("dev.nimbus.") ? name.substring("dev.nimbus.".length()) : name;
    }

    /** A logger; the JDK's own ({@code own} false) speak only at WARNING and above. */
    private record NimbusLogger(String name, boolean own) implements Logger {
        @Override
        public String getName() {
            return name;
        }

        @Override
        public boolean isLoggable(Level level) {
            return Logging.enabled(level)
                    && (own || level.getSeverity() >= Level.WARNING.getSeverity());
        }

        @Override
        public void log(Level level, ResourceBundle bundle, String msg, Throwable thrown) {
            if (isLoggable(level)) {
                Logging.emit(level, name, String.valueOf(msg), thrown);
            }
        }

        @Override
        public void log(Level level, ResourceBundle bundle, String format, Object... params) {
            if (isLoggable(level)) {
                String msg = params == null || params.length == 0
                        ? format
                        : java.text.MessageFormat.format(format, params);
                Logging.emit(level, name, msg, null);
            }
        }

        @Override
        public void log(Level level, Supplier<String> msgSupplier) {
            if (isLoggable(level)) {
                Logging.emit(level, name, msgSupplier.get(), null);
            }
        }
    }
}
