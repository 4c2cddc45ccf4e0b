package org.mailproxy.app;

import com.icegreen.greenmail.user.GreenMailUser;
import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import org.mailproxy.core.crypto.SelfSignedCertificate;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * A throw-away mail provider on loopback for the demo and for tests: GreenMail with IMAPS and SMTPS on free ports,
 * serving a certificate for {@code localhost}/{@code 127.0.0.1} that the proxy is told to trust.
 *
 * <p>GreenMail reads its key store once per JVM, from the system properties {@code greenmail.tls.keystore.file} and
 * {@code greenmail.tls.keystore.password}, when its first TLS server socket is made
 * ({@code DummySSLServerSocketFactory} keeps it in a static holder). So the key store is made once per JVM, and
 * every embedded upstream in that JVM serves the same certificate. It lives in an owner-only temporary directory
 * that is removed when the JVM exits.
 */
public final class EmbeddedUpstream implements AutoCloseable {

    static final List<String> HOSTNAMES = List.of("localhost", "127.0.0.1", "::1");
    private static final String KEYSTORE_FILE = "greenmail.tls.keystore.file";
    private static final String KEYSTORE_PASSWORD = "greenmail.tls.keystore.password";
    private static Path certificate;

    private final GreenMail greenMail;
    private final Path caCertificate;

    private EmbeddedUpstream(GreenMail greenMail, Path caCertificate) {
        this.greenMail = greenMail;
        this.caCertificate = caCertificate;
    }

    /** Starts IMAPS and SMTPS on free loopback ports with the given users (address and login are the same). */
    public static EmbeddedUpstream start(Map<String, String> passwordsByAddress) throws IOException {
        Path ca = tlsIdentity();
        GreenMail gm = new GreenMail(new ServerSetup[]{
                new ServerSetup(0, "127.0.0.1", ServerSetup.PROTOCOL_IMAPS),
                new ServerSetup(0, "127.0.0.1", ServerSetup.PROTOCOL_SMTPS)});
        gm.start();
        passwordsByAddress.forEach((address, password) -> gm.setUser(address, address, password));
        return new EmbeddedUpstream(gm, ca);
    }

    private static synchronized Path tlsIdentity() throws IOException {
        if (certificate != null) {
            return certificate;
        }
        if (System.getProperty(KEYSTORE_FILE) != null) {
            throw new IllegalStateException(KEYSTORE_FILE + " is already set in this JVM; the embedded upstream "
                    + "cannot know which certificate it serves");
        }
        Path dir = Files.createTempDirectory("mailproxy-upstream-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path p12 = dir.resolve("upstream.p12");
        Path pem = dir.resolve("upstream-ca.pem");
        // Deleted in reverse order of registration: the files, then the directory.
        dir.toFile().deleteOnExit();
        p12.toFile().deleteOnExit();
        pem.toFile().deleteOnExit();
        char[] password = randomHex(16);
        SelfSignedCertificate.generateKeyStore(HOSTNAMES, p12, password, pem);
        System.setProperty(KEYSTORE_FILE, p12.toString());
        System.setProperty(KEYSTORE_PASSWORD, new String(password));
        certificate = pem;
        return pem;
    }

    static char[] randomHex(int bytes) {
        byte[] b = new byte[bytes];
        new SecureRandom().nextBytes(b);
        return HexFormat.of().formatHex(b).toCharArray();
    }

    public int imapsPort() {
        return greenMail.getImaps().getPort();
    }

    public int smtpsPort() {
        return greenMail.getSmtps().getPort();
    }

    /** {@code imaps://localhost:port}: the name the certificate is made for. */
    public String imapUrl() {
        return "imaps://localhost:" + imapsPort();
    }

    public String smtpUrl() {
        return "smtps://localhost:" + smtpsPort();
    }

    /** The PEM certificate to trust for this upstream ({@code mailproxy.tls.trusted-ca-file}). */
    public Path caCertificate() {
        return caCertificate;
    }

    public GreenMail greenMail() {
        return greenMail;
    }

    public GreenMailUser user(String address) {
        return greenMail.getUserManager().getUserByEmail(address);
    }

    @Override
    public void close() {
        greenMail.stop();
    }
}
