package org.mailproxy.core.tls;

import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLPeerUnverifiedException;
import java.security.GeneralSecurityException;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;

/**
 * Tells a certificate that did not verify (unknown CA, expired, wrong host name) apart from other TLS failures, so
 * that {@code mailproxy check} and the relays can say which it was. One place for both protocols.
 */
public final class CertificateFailures {

    private CertificateFailures() {
    }

    /** The exception in {@code t}'s cause chain that says the peer's certificate did not verify, or null. */
    public static Throwable cause(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof CertificateException || c instanceof CertPathValidatorException
                    || c instanceof CertPathBuilderException || c instanceof SSLPeerUnverifiedException) {
                return c;
            }
            // The JDK wraps PKIX and host name failures in exceptions whose only mark is the message.
            if ((c instanceof SSLHandshakeException || c instanceof GeneralSecurityException) && c.getMessage() != null
                    && (c.getMessage().contains("PKIX") || c.getMessage().contains("certificate"))) {
                return c;
            }
        }
        return null;
    }
}
