package org.mailproxy.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Collection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;

/**
 * The test CA that signed the test provider's certificate ({@code CN=localhost}, SAN {@code DNS:localhost},
 * {@code IP:127.0.0.1}), and JDK TLS objects that trust only it.
 */
public final class TestCa {

    private TestCa() {
    }

    /** The CA certificate (PEM) of the loopback {@link MailStack}, starting the stack if needed. */
    public static Path certFile() {
        return MailStack.get().caCertFile();
    }

    /** A key store holding the certificates of a PEM file as trusted entries. */
    public static KeyStore trustStore(Path caPem) {
        try (InputStream in = Files.newInputStream(caPem)) {
            Collection<? extends Certificate> certs = CertificateFactory.getInstance("X.509").generateCertificates(in);
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            int i = 0;
            for (Certificate cert : certs) {
                store.setCertificateEntry("test-ca-" + i++, cert);
            }
            return store;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + caPem, e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot load " + caPem, e);
        }
    }

    /** A TLS client context that trusts only the CA in {@code caPem} (TLS 1.2 and 1.3, JDK defaults otherwise). */
    public static SSLContext sslContext(Path caPem) {
        try {
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trustStore(caPem));
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, tmf.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot build a TLS context for " + caPem, e);
        }
    }

    /** A socket factory trusting only the CA in {@code caPem}. */
    public static SSLSocketFactory socketFactory(Path caPem) {
        return sslContext(caPem).getSocketFactory();
    }
}
