package org.mailproxy.core.tls;

import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import java.security.cert.CertPathValidatorException;

import static org.assertj.core.api.Assertions.assertThat;

class CertificateFailuresTest {

    @Test
    void findsACertificateProblemAnywhereInTheCauseChain() {
        CertPathValidatorException root = new CertPathValidatorException("validity check failed");
        SSLHandshakeException handshake = new SSLHandshakeException("handshake failed");
        handshake.initCause(root);
        assertThat(CertificateFailures.cause(new RuntimeException(handshake))).isSameAs(root);
        SSLHandshakeException pkix = new SSLHandshakeException("PKIX path building failed: unable to find valid certification path");
        assertThat(CertificateFailures.cause(pkix)).isSameAs(pkix);
    }

    @Test
    void otherTlsFailuresAreNotCertificateProblems() {
        assertThat(CertificateFailures.cause(new SSLHandshakeException("Received fatal alert: protocol_version"))).isNull();
        assertThat(CertificateFailures.cause(new SSLException("closed"))).isNull();
        assertThat(CertificateFailures.cause(null)).isNull();
    }
}
