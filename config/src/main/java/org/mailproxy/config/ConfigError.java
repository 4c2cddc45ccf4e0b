package org.mailproxy.config;

/**
 * A configuration the daemon refuses to start with. The message names the file, the line and the key, so that a
 * person can fix it without reading code: {@code mailproxy.conf:12: mailproxy.imap.listen: port 99999 is out of range}.
 */
public final class ConfigError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ConfigError(String message) {
        super(message);
    }

    public ConfigError(String message, Throwable cause) {
        super(message, cause);
    }
}
