package org.mailproxy.e2e;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.StackTraceElementProxy;
import ch.qos.logback.core.read.ListAppender;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;

/**
 * Every log event of the JVM at TRACE while open, for the log canary tests (SECURITY.md 24); closing restores the
 * levels. Event-loop threads append while a test reads, so {@link #events()} copies under the appender's lock.
 */
final class CapturedLogs implements AutoCloseable {
    private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    private final Logger project = (Logger) LoggerFactory.getLogger("org.mailproxy");
    private final ListAppender<ILoggingEvent> captured = new ListAppender<>();
    private final Level rootLevel;
    private final Level projectLevel;

    private CapturedLogs() {
        rootLevel = root.getLevel();
        projectLevel = project.getLevel();
        root.setLevel(Level.TRACE);
        project.setLevel(Level.TRACE);
        captured.start();
        root.addAppender(captured);
    }

    static CapturedLogs atTrace() {
        return new CapturedLogs();
    }

    List<ILoggingEvent> events() {
        synchronized (captured) {
            return List.copyOf(captured.list);
        }
    }

    /** Everything an event could carry to a log file: message, arguments, MDC, exceptions with their frames. */
    static String everything(ILoggingEvent e) {
        StringBuilder sb = new StringBuilder();
        sb.append(e.getLoggerName()).append(' ').append(e.getMessage()).append(' ').append(e.getFormattedMessage());
        if (e.getArgumentArray() != null) {
            for (Object a : e.getArgumentArray()) {
                sb.append(' ').append(a);
            }
        }
        for (Map.Entry<String, String> m : e.getMDCPropertyMap().entrySet()) {
            sb.append(' ').append(m.getKey()).append('=').append(m.getValue());
        }
        for (IThrowableProxy t = e.getThrowableProxy(); t != null; t = t.getCause()) {
            sb.append(' ').append(t.getClassName()).append(": ").append(t.getMessage());
            for (StackTraceElementProxy frame : t.getStackTraceElementProxyArray()) {
                sb.append(' ').append(frame.getSTEAsString());
            }
        }
        return sb.toString();
    }

    @Override
    public void close() {
        root.detachAppender(captured);
        captured.stop();
        root.setLevel(rootLevel);
        project.setLevel(projectLevel);
    }
}
