package org.mailproxy.app.systemd;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.pattern.ClassicConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;

/**
 * The {@code <N>} prefix sd-daemon(3) defines for a line written to the journal's stream: the syslog priority of
 * the event's level (RFC 5424 6.2.1), which journald stores as the entry's PRIORITY and strips from the message.
 * ERROR is err (3), WARN warning (4), INFO info (6), DEBUG and TRACE debug (7); notice (5) has no logback level.
 */
public final class JournalPriority extends ClassicConverter {

    @Override
    public String convert(ILoggingEvent event) {
        return prefix(event.getLevel());
    }

    static String prefix(Level level) {
        return switch (level.toInt()) {
            case Level.ERROR_INT -> "<3>";
            case Level.WARN_INT -> "<4>";
            case Level.INFO_INT -> "<6>";
            default -> "<7>";
        };
    }
}
