package org.mailproxy.imap;

import org.mailproxy.core.crypto.SelfSignedCertificate;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.List;

/** Key stores for fake providers: one whose certificate the proxy trusts, one it has never seen. */
public final class TestCertificates {

    static final char[] PASSWORD = "test-store".toCharArray();
    public static final Path TRUSTED_PEM;
    static final Path TRUSTED_P12;
    static final Path UNTRUSTED_P12;
    /** Trusted (its PEM is in {@link #TRUSTED_PEM}) but issued for mail.example.org, not localhost. */
    static final Path WRONG_NAME_P12;

    static {
        try {
            Path dir = Files.createTempDirectory("imap-test-certs");
            TRUSTED_P12 = dir.resolve("trusted.p12");
            TRUSTED_PEM = dir.resolve("trusted.pem");
            UNTRUSTED_P12 = dir.resolve("untrusted.p12");
            WRONG_NAME_P12 = dir.resolve("wrong-name.p12");
            Path good = dir.resolve("good.pem");
            Path wrongName = dir.resolve("wrong-name.pem");
            SelfSignedCertificate.generateKeyStore(List.of("localhost", "127.0.0.1"), TRUSTED_P12, PASSWORD, good);
            SelfSignedCertificate.generateKeyStore(List.of("mail.example.org"), WRONG_NAME_P12, PASSWORD, wrongName);
            Files.writeString(TRUSTED_PEM, Files.readString(good) + Files.readString(wrongName));
            SelfSignedCertificate.generateKeyStore(List.of("localhost", "127.0.0.1"), UNTRUSTED_P12, PASSWORD,
                    dir.resolve("untrusted.pem"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private TestCertificates() {
    }

    static SSLContext server(Path p12) {
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
}
