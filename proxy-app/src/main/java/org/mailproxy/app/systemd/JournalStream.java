package org.mailproxy.app.systemd;

import ch.qos.logback.core.PropertyDefinerBase;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * Whether standard error is connected to the systemd journal, and so which log format {@code logback.xml} uses:
 * {@code JOURNAL} (no timestamp, the journal adds its own; the level as a {@code <N>} syslog priority prefix that
 * journald turns into the entry's PRIORITY with {@code SyslogLevelPrefix=}) or {@code STDERR} (the timestamped
 * line of a terminal or a container log).
 *
 * <p>systemd.exec(5), {@code $JOURNAL_STREAM}: the manager sets it to the device and inode numbers of the stream it
 * connected; a process checks them against its own standard error, because the variable is inherited by children
 * whose standard error was redirected elsewhere (a shell pipeline in the unit, {@code mailproxy check > file}).
 */
public final class JournalStream extends PropertyDefinerBase {

    static final String JOURNAL = "JOURNAL";
    static final String STDERR = "STDERR";

    /** Used by logback's {@code <define>}; looks at this process's environment and standard error. */
    @Override
    public String getPropertyValue() {
        return format(System.getenv(), identity(Path.of("/proc/self/fd/2")));
    }

    /**
     * {@code <3>} (err) when this process's standard error is the journal, else nothing: for the one line a command
     * prints to stderr itself when it fails (a configuration error that stops the daemon's start).
     */
    public static String errorPrefix() {
        return JOURNAL.equals(format(System.getenv(), identity(Path.of("/proc/self/fd/2")))) ? "<3>" : "";
    }

    /** {@code JOURNAL} when {@code JOURNAL_STREAM} names {@code stderr} ({@code device:inode}), else {@code STDERR}. */
    static String format(Map<String, String> environment, Optional<String> stderr) {
        String stream = environment.get("JOURNAL_STREAM");
        if (stream == null || stream.isEmpty()) {
            return STDERR;
        }
        return stderr.map(stream::equals).orElse(false) ? JOURNAL : STDERR;
    }

    /** {@code st_dev:st_ino} of what {@code path} refers to (a {@code /proc/self/fd} link is followed to the socket). */
    static Optional<String> identity(Path path) {
        try {
            Object dev = Files.getAttribute(path, "unix:dev");
            Object ino = Files.getAttribute(path, "unix:ino");
            return Optional.of(Long.toUnsignedString((Long) dev) + ":" + Long.toUnsignedString((Long) ino));
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException | ClassCastException e) {
            return Optional.empty();
        }
    }
}
