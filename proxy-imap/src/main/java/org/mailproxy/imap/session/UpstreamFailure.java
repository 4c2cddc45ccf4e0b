package org.mailproxy.imap.session;

import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.DecoderException;
import org.mailproxy.core.net.ProbeResult.Outcome;

import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.security.GeneralSecurityException;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;

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
            if (certificateProblem(e)) {
                return new UpstreamFailure(Outcome.BAD_CERTIFICATE, "the certificate of " + where + " did not verify", e);
            }
            return new UpstreamFailure(Outcome.TLS_FAILED, "TLS with " + where + " failed", e);
        }
        return new UpstreamFailure(Outcome.PROTOCOL_ERROR, "connection to " + where + " failed", e);
    }

    private static boolean certificateProblem(Throwable e) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof CertificateException || c instanceof CertPathValidatorException
                    || c instanceof CertPathBuilderException) {
                return true;
            }
            if (c instanceof SSLHandshakeException && c.getMessage() != null
                    && (c.getMessage().contains("certificate") || c.getMessage().contains("PKIX"))) {
                return true;
            }
            if (c instanceof GeneralSecurityException && c.getMessage() != null && c.getMessage().contains("PKIX")) {
                return true;
            }
        }
        return false;
    }
}
