package org.mailproxy.core.net;

import java.util.concurrent.atomic.AtomicLong;

/** Short ids that tie a session's log lines together: {@code imap-1f}, {@code smtp-20}. */
public final class SessionIds {
    private static final AtomicLong NEXT = new AtomicLong(1);

    private SessionIds() {
    }

    public static String next(String protocol) {
        return protocol + "-" + Long.toHexString(NEXT.getAndIncrement());
    }
}
