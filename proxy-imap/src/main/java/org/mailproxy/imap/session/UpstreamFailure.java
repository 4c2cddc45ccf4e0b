package org.mailproxy.imap.session;

import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.DecoderException;
import org.mailproxy.core.net.ProbeResult.Outcome;
import org.mailproxy.core.tls.CertificateFailures;

import javax.net.ssl.SSLException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;

/**
 * Why a connection to the provider could not be set up, as a verdict a person can act on ({@link Outcome}) and a
 * short reason that is safe to show a client (no provider text from before TLS, SECURITY.md 12).
 */
public final class UpstreamFailure extends Exception {
    private final Outcome outcome;

    public UpstreamFailure(Outcome outcome, String reason) {
        super(reason, null, false, false);
        this.outcome = outcome;
    }

    public UpstreamFailure(Outcome outcome, String reason, Throwable cause) {
        super(reason, cause, false, false);
        this.outcome = outcome;
    }

    public Outcome outcome() {
        return outcome;
    }

    /** Classifies a connect or TLS exception. */
    public static UpstreamFailure from(Throwable t, String where) {
        if (t instanceof UpstreamFailure f) {
            return f;
        }
        Throwable e = t instanceof DecoderException && t.getCause() != null ? t.getCause() : t;
        if (e instanceof ConnectTimeoutException) {
            return new UpstreamFailure(Outcome.UNREACHABLE, where + " did not answer in time", e);
        }
        if (e instanceof UnknownHostException) {
            return new UpstreamFailure(Outcome.UNREACHABLE, "cannot resolve " + where, e);
        }
        if (e instanceof NoRouteToHostException) {
            return new UpstreamFailure(Outcome.UNREACHABLE, "no route to " + where, e);
        }
        if (e instanceof ConnectException) {
            String m = String.valueOf(e.getMessage()).toLowerCase(java.util.Locale.ROOT);
            return m.contains("refused")
                    ? new UpstreamFailure(Outcome.CONNECTION_REFUSED, where + " refused the connection", e)
                    : new UpstreamFailure(Outcome.UNREACHABLE, "cannot connect to " + where, e);
        }
        if (e instanceof SSLException) {
            if (CertificateFailures.cause(e) != null) {
                return new UpstreamFailure(Outcome.BAD_CERTIFICATE, "the certificate of " + where + " did not verify", e);
            }
            return new UpstreamFailure(Outcome.TLS_FAILED, "TLS with " + where + " failed", e);
        }
        return new UpstreamFailure(Outcome.PROTOCOL_ERROR, "connection to " + where + " failed", e);
    }

}
