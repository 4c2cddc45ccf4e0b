package org.mailproxy.core.cache;

import java.io.IOException;

/**
 * A cache file failed authentication or is malformed: tampered with, truncated, cut off by a crash or written
 * under another key. The entry has been removed; the caller fetches the message from upstream again.
 */
public final class CorruptEntryException extends IOException {
    public CorruptEntryException(String message) {
        super(message);
    }

    public CorruptEntryException(String message, Throwable cause) {
        super(message, cause);
    }
}
