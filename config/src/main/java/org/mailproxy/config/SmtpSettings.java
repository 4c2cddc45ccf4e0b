package org.mailproxy.config;

import java.time.Duration;

/** The local SMTP submission listener, its limits and timeouts; defaults in reference.conf. */
public record SmtpSettings(ListenAddress listen, Limits limits, Duration upstreamConnectTimeout,
                           Duration clientIdleTimeout, Duration upstreamReplyTimeout) {

    /**
     * @param maxHeaderSection octets of a message's header section read whole before it is encrypted or signed
     */
    public record Limits(int maxCommandLine, long maxMessageSize, int maxRecipients, int maxHeaderSection) {
        public Limits(int maxCommandLine, long maxMessageSize, int maxRecipients) {
            this(maxCommandLine, maxMessageSize, maxRecipients, 262144);
        }

        public Limits {
            if (maxHeaderSection < 4096) throw new IllegalArgumentException("max-header-section must be at least 4096");
            if (maxCommandLine < 512) throw new IllegalArgumentException("max-command-line must be at least 512 (RFC 5321 4.5.3.1.4)");
            if (maxMessageSize < 1024) throw new IllegalArgumentException("max-message-size must be at least 1024");
            if (maxRecipients < 100) throw new IllegalArgumentException("max-recipients must be at least 100 (RFC 5321 4.5.3.1.8)");
        }
    }
}
