package org.mailproxy.app;

import jakarta.mail.Session;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.Properties;

/** Angus Mail sessions that trust exactly one certificate and check the host name, as a careful client would. */
final class MailClients {

    private MailClients() {
    }

    static SSLSocketFactory trusting(Path pem) throws Exception {
        KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
        ks.load(null, null);
        try (InputStream in = Files.newInputStream(pem)) {
            ks.setCertificateEntry("only", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx.getSocketFactory();
    }

    /** IMAPS or SMTPS: TLS from the first byte. */
    static Session implicitTls(Path pem) throws Exception {
        Properties p = new Properties();
        for (String proto : new String[]{"imap", "smtp"}) {
            p.put("mail." + proto + ".ssl.enable", "true");
            p.put("mail." + proto + ".ssl.socketFactory", trusting(pem));
            p.put("mail." + proto + ".ssl.checkserveridentity", "true");
            p.put("mail." + proto + ".connectiontimeout", "10000");
            p.put("mail." + proto + ".timeout", "10000");
        }
        p.put("mail.smtp.auth", "true");
        return Session.getInstance(p);
    }

    /** Plain IMAP/SMTP upgraded with a STARTTLS the client insists on, as Thunderbird does with "STARTTLS". */
    static Session startTls(Path pem) throws Exception {
        Properties p = new Properties();
        for (String proto : new String[]{"imap", "smtp"}) {
            p.put("mail." + proto + ".starttls.enable", "true");
            p.put("mail." + proto + ".starttls.required", "true");
            p.put("mail." + proto + ".ssl.socketFactory", trusting(pem));
            p.put("mail." + proto + ".ssl.checkserveridentity", "true");
            p.put("mail." + proto + ".connectiontimeout", "10000");
            p.put("mail." + proto + ".timeout", "10000");
        }
        p.put("mail.smtp.auth", "true");
        return Session.getInstance(p);
    }
}
