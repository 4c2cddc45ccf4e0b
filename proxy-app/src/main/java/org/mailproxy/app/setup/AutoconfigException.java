package org.mailproxy.app.setup;

/** An autoconfig document that could not be fetched or is not one mailproxy accepts (too large, malformed, a DTD). */
public final class AutoconfigException extends Exception {
    public AutoconfigException(String message) {
        super(message);
    }

    public AutoconfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
