package org.mailproxy.core.tls;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;

import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.Optional;

/**
 * TLS towards the provider. Certificates are verified against the system's CAs plus an optional extra CA file,
 * with hostname checking (endpoint identification "HTTPS", RFC 6125) and TLS 1.2 as the floor (RFC 8997,
 * SECURITY.md 11). There is no switch to turn any of this off.
 */
public final class UpstreamTls {

    /** The protocols offered upstream, strongest first. */
    public static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

    private final SslContext context;

    private UpstreamTls(SslContext context) {
        this.context = context;
    }

    public static UpstreamTls create(Optional<Path> extraCaFile) {
        try {
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trustStore(extraCaFile));
            SslContext ctx = SslContextBuilder.forClient()
                    .sslProvider(SslProvider.JDK)
                    .protocols(PROTOCOLS)
                    .trustManager(tmf)
                    .endpointIdentificationAlgorithm("HTTPS")
                    .build();
            return new UpstreamTls(ctx);
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot set up upstream TLS: " + e.getMessage(), e);
        }
    }

    /** A handler that verifies the peer's certificate against {@code host} (passed for SNI and hostname checks). */
    public SslHandler newHandler(ByteBufAllocator alloc, String host, int port) {
        return context.newHandler(alloc, host, port);
    }

    private static KeyStore trustStore(Optional<Path> extraCaFile) throws GeneralSecurityException, IOException {
        KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
        ks.load(null, null);
        TrustManagerFactory defaults = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        defaults.init((KeyStore) null);
        int i = 0;
        for (var tm : defaults.getTrustManagers()) {
            if (tm instanceof X509TrustManager x509) {
                for (X509Certificate ca : x509.getAcceptedIssuers()) {
                    ks.setCertificateEntry("system-" + i++, ca);
                }
            }
        }
        if (extraCaFile.isPresent()) {
            for (Certificate ca : readCertificates(extraCaFile.get())) {
                ks.setCertificateEntry("extra-" + i++, ca);
            }
        }
        return ks;
    }

    public static Collection<? extends Certificate> readCertificates(Path pem) throws IOException, GeneralSecurityException {
        try (InputStream in = Files.newInputStream(pem)) {
            Collection<? extends Certificate> certs = CertificateFactory.getInstance("X.509").generateCertificates(in);
            if (certs.isEmpty()) {
                throw new SSLException(pem + " holds no certificate");
            }
            return certs;
        }
    }
}
