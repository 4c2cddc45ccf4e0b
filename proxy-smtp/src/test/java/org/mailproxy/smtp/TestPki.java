package org.mailproxy.smtp;

import org.mailproxy.core.crypto.SelfSignedCertificate;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.List;

/** Certificates for test upstreams: one the proxy trusts (its PEM is the trusted-ca-file), one it does not. */
final class TestPki {

    static final char[] PASSWORD = "changeit".toCharArray();
    static final Path DIR;
    static final Path TRUSTED_P12;
    static final Path TRUSTED_PEM;
    static final Path UNTRUSTED_P12;

    static {
        try {
            DIR = Files.createTempDirectory("smtp-test-pki");
            TRUSTED_P12 = DIR.resolve("trusted.p12");
            TRUSTED_PEM = DIR.resolve("trusted.pem");
            UNTRUSTED_P12 = DIR.resolve("untrusted.p12");
            SelfSignedCertificate.generateKeyStore(List.of("localhost", "127.0.0.1"), TRUSTED_P12, PASSWORD, TRUSTED_PEM);
            SelfSignedCertificate.generateKeyStore(List.of("localhost", "127.0.0.1"), UNTRUSTED_P12, PASSWORD, DIR.resolve("untrusted.pem"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private TestPki() {
    }

    static SSLContext serverContext(Path p12) {
        try (InputStream in = Files.newInputStream(p12)) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(in, PASSWORD);
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, PASSWORD);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf.getKeyManagers(), null, null);
            return ctx;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A client context trusting exactly the certificate in {@code pem} (the proxy's generated local certificate). */
    static SSLContext clientTrusting(Path pem) {
        try (InputStream in = Files.newInputStream(pem)) {
            KeyStore ts = KeyStore.getInstance(KeyStore.getDefaultType());
            ts.load(null, null);
            int i = 0;
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                ts.setCertificateEntry("c" + i++, c);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ts);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
