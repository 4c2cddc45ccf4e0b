package org.mailproxy.smtp;

import org.mailproxy.config.MailproxyConfig;
import org.mailproxy.core.auth.LocalAuth;
import org.mailproxy.core.metrics.ProxyMetrics;
import org.mailproxy.core.tls.LocalTls;
import org.mailproxy.smtp.transform.MessageTransform;
import org.mailproxy.smtp.upstream.UpstreamConnector;

/** What every session of one listener shares. */
record SessionSettings(MailproxyConfig config, LocalTls localTls, UpstreamConnector connector,
                       MessageTransform transform, ProxyMetrics metrics, SessionRegistry registry,
                       LocalAuth localAuth) {

    /** RFC 5321 4.5.3.1.6: at most 998 octets of text per line, on both sides of the proxy. */
    static final int MAX_DATA_LINE = 998;

    /** Tracks open sessions for {@link SmtpProxy#drainAndClose}. */
    interface SessionRegistry {
        void opened(SmtpSession session);

        void closed(SmtpSession session);
    }
}
