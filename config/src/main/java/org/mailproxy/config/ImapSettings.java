package org.mailproxy.config;

import java.time.Duration;

/** The local IMAP listener, its limits (SECURITY.md 17-18) and timeouts; defaults in reference.conf. */
public record ImapSettings(ListenAddress listen, Limits limits, Duration upstreamConnectTimeout, Duration clientIdleTimeout,
                           Duration upstreamReplyTimeout) {

    public record Limits(int maxCommandLine, long maxLiteral, int maxNonSyncLiteral, int maxResponseLine, int maxParenDepth) {
        public Limits {
            if (maxCommandLine < 1024) throw new IllegalArgumentException("max-command-line must be at least 1024");
            if (maxNonSyncLiteral < 0 || maxNonSyncLiteral > maxLiteral) throw new IllegalArgumentException("max-non-sync-literal must be between 0 and max-literal");
            if (maxResponseLine < 1024) throw new IllegalArgumentException("max-response-line must be at least 1024");
            if (maxParenDepth < 8) throw new IllegalArgumentException("max-paren-depth must be at least 8");
        }
    }
}
