package org.mailproxy.smtp.upstream;

import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.DecoderException;
import org.mailproxy.config.UpstreamEndpoint;
import org.mailproxy.core.net.ProbeResult.Outcome;
import org.mailproxy.core.tls.CertificateFailures;

import javax.net.ssl.SSLException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;

/**
 * Why the upstream could not be used, sorted the way {@code mailproxy check} reports it, with a text a person can
 * act on. The text names the endpoint and the kind of failure; it never contains what the upstream said before TLS
 * (SECURITY.md 12).
 */
public final class UpstreamFailure extends Exception {

    private static final long serialVersionUID = 1L;

    private final Outcome outcome;

    public UpstreamFailure(Outcome outcome, String message) {
        super(message, null, false, false);
        this.outcome = outcome;
    }

    public UpstreamFailure(Outcome outcome, String message, Throwable cause) {
        super(message, cause, false, false);
        this.outcome = outcome;
    }

    public Outcome outcome() {
        return outcome;
    }

    /** Sorts a low-level exception from connecting or the TLS handshake. */
    public static UpstreamFailure classify(UpstreamEndpoint endpoint, Throwable t) {
        if (t instanceof UpstreamFailure f) {
            return f;
        }
        String where = endpoint.host() + ":" + endpoint.port();
        if (t instanceof ConnectTimeoutException) {
            return new UpstreamFailure(Outcome.UNREACHABLE, "cannot connect to " + where + ": no answer in time", t);
        }
        if (t instanceof UnknownHostException) {
            return new UpstreamFailure(Outcome.UNREACHABLE, "cannot connect to " + where + ": unknown host", t);
        }
        if (t instanceof NoRouteToHostException) {
            return new UpstreamFailure(Outcome.UNREACHABLE, "cannot connect to " + where + ": no route to host", t);
        }
        if (t instanceof ConnectException) {
            return new UpstreamFailure(Outcome.CONNECTION_REFUSED, "cannot connect to " + where + ": connection refused", t);
        }
        Throwable cert = CertificateFailures.cause(t);
        if (cert != null) {
            return new UpstreamFailure(Outcome.BAD_CERTIFICATE, where + " presented a certificate that does not verify ("
                    + brief(cert) + ")", t);
        }
        if (t instanceof SSLException || t instanceof DecoderException && t.getCause() instanceof SSLException) {
            Throwable ssl = t instanceof SSLException ? t : t.getCause();
            return new UpstreamFailure(Outcome.TLS_FAILED, "TLS with " + where + " failed (" + brief(ssl) + ")", t);
        }
        if (t instanceof DecoderException) {
            return new UpstreamFailure(Outcome.PROTOCOL_ERROR, where + " does not speak SMTP", t);
        }
        if (t instanceof java.io.IOException) {
            return new UpstreamFailure(Outcome.UNREACHABLE, where + " closed the connection", t);
        }
        return new UpstreamFailure(Outcome.UNREACHABLE, "connection to " + where + " failed (" + t.getClass().getSimpleName() + ")", t);
    }


    private static String brief(Throwable t) {
        String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        // The JDK's PKIX messages are long; the first clause says enough.
        int colon = m.indexOf(": ");
        if (m.startsWith("PKIX") && colon > 0) {
            m = m.substring(colon + 2);
        }
        return m.length() > 160 ? m.substring(0, 160) : m;
    }
}
