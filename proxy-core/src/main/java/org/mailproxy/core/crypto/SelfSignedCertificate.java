package org.mailproxy.core.crypto;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;

/**
 * Makes the certificate local clients see: ECDSA P-256, self-signed, valid for the configured names for ten years.
 * The key file is written owner-only (SECURITY.md 23).
 */
public final class SelfSignedCertificate {

    private SelfSignedCertificate() {
    }

    /** Writes a new certificate and its private key as PEM files (key owner-only). */
    public static void generate(List<String> hostnames, Path certFile, Path keyFile) throws IOException {
        Generated g = create(hostnames);
        Files.createDirectories(certFile.toAbsolutePath().getParent());
        Files.createDirectories(keyFile.toAbsolutePath().getParent());
        writeOwnerOnly(keyFile, pem("PRIVATE KEY", g.keyPair.getPrivate().getEncoded()));
        Files.writeString(certFile, g.certificatePem(), StandardCharsets.US_ASCII);
    }

    /**
     * Writes a new certificate and key as a PKCS#12 key store (owner-only) and the certificate alone as PEM, for
     * servers that take a key store (the demo's embedded upstream, test servers); the PEM is what clients trust.
     */
    public static void generateKeyStore(List<String> hostnames, Path p12File, char[] password, Path certFile) throws IOException {
        Generated g = create(hostnames);
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("server", g.keyPair.getPrivate(), password, new java.security.cert.Certificate[]{g.certificate});
            Files.createDirectories(p12File.toAbsolutePath().getParent());
            Files.deleteIfExists(p12File);
            createOwnerOnly(p12File);
            try (var out = Files.newOutputStream(p12File)) {
                ks.store(out, password);
            }
            Files.writeString(certFile, g.certificatePem(), StandardCharsets.US_ASCII);
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot write the key store: " + e.getMessage(), e);
        }
    }

    private record Generated(KeyPair keyPair, X509Certificate certificate) {
        String certificatePem() {
            try {
                return pem("CERTIFICATE", certificate.getEncoded());
            } catch (java.security.cert.CertificateEncodingException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    private static Generated create(List<String> hostnames) throws IOException {
        try {
            KeyPairGenerator kpg = KeyPairGenerator.getInstance("EC");
            kpg.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
            KeyPair kp = kpg.generateKeyPair();
            X500Name subject = new X500Name("CN=mailproxy local (" + hostnames.get(0) + ")");
            Instant now = Instant.now();
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject,
                    new BigInteger(127, new SecureRandom()), Date.from(now.minus(Duration.ofDays(1))),
                    Date.from(now.plus(Duration.ofDays(3650))), subject, kp.getPublic());
            List<GeneralName> names = new ArrayList<>();
            for (String h : hostnames) {
                names.add(isIpLiteral(h) ? new GeneralName(GeneralName.iPAddress, h) : new GeneralName(GeneralName.dNSName, h));
            }
            b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names.toArray(GeneralName[]::new)));
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
            X509Certificate cert = new JcaX509CertificateConverter()
                    .getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate())));
            return new Generated(kp, cert);
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new IOException("cannot generate the local certificate: " + e.getMessage(), e);
        }
    }

    private static boolean isIpLiteral(String h) {
        if (h.contains(":")) {
            return true;
        }
        if (!h.matches("[0-9.]+")) {
            return false;
        }
        try {
            InetAddress.getByName(h);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, new byte[]{'\n'}).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    private static void writeOwnerOnly(Path file, String content) throws IOException {
        Files.deleteIfExists(file);
        createOwnerOnly(file);
        Files.writeString(file, content, StandardCharsets.US_ASCII);
    }

    private static void createOwnerOnly(Path file) throws IOException {
        try {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException e) {
            Files.createFile(file);
        }
    }
}
