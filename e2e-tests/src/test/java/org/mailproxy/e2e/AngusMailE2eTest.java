package org.mailproxy.e2e;

import jakarta.activation.DataHandler;
import jakarta.mail.Folder;
import jakarta.mail.Message;
import jakarta.mail.Session;
import jakarta.mail.Store;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import jakarta.mail.search.HeaderTerm;
import jakarta.mail.util.ByteArrayDataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.e2e.RunningProxy.Local;
import org.mailproxy.e2e.RunningProxy.Upstream;
import org.mailproxy.testing.MailStack;
import org.mailproxy.testing.MailUser;
import org.mailproxy.testing.RequiresMailStack;
import org.mailproxy.testing.StoredMessage;
import org.mailproxy.testing.UpstreamStack;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.Properties;
import java.util.Random;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Angus Mail (the Jakarta Mail implementation Java mail clients use) sends through the proxy's SMTP port and reads
 * back through its IMAP port. The message reaches Dovecot with exactly the octets Angus wrote (Postfix only adds
 * trace headers on top), and BODY[] read back through the proxy equals Dovecot's file octet for octet.
 */
@RequiresMailStack
class AngusMailE2eTest {

    @TempDir
    Path dir;

    /** A client that trusts exactly the proxy's generated certificate and checks the host name. */
    static SSLSocketFactory trusting(Path pem) throws Exception {
        KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
        ks.load(null, null);
        try (InputStream in = Files.newInputStream(pem)) {
            ks.setCertificateEntry("proxy", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx.getSocketFactory();
    }

    static Session session(RunningProxy proxy, Local local) throws Exception {
        Properties p = new Properties();
        for (String proto : new String[]{"imap", "smtp"}) {
            String k = "mail." + proto + ".";
            if (local == Local.STARTTLS) {
                p.put(k + "starttls.enable", "true");
                p.put(k + "starttls.required", "true");
            } else if (local == Local.IMPLICIT) {
                p.put(k + "ssl.enable", "true");
            }
            if (local != Local.OFF) {
                p.put(k + "ssl.socketFactory", trusting(proxy.localCert()));
                p.put(k + "ssl.checkserveridentity", "true");
            }
            p.put(k + "host", "127.0.0.1");
            p.put(k + "connectiontimeout", "20000");
            p.put(k + "timeout", "30000");
        }
        p.put("mail.imap.port", Integer.toString(proxy.imapPort()));
        p.put("mail.smtp.port", Integer.toString(proxy.smtpPort()));
        p.put("mail.smtp.auth", "true");
        p.put("mail.smtp.localhost", "client.example.test");
        return Session.getInstance(p);
    }

    static void sendAndReadBack(UpstreamStack stack, Path dir, Local local, Upstream upstream) throws Exception {
        MailUser alice = stack.alice();
        MailUser bob = stack.bob();
        String marker = UUID.randomUUID().toString();
        try (RunningProxy proxy = RunningProxy.start(stack, dir, local, upstream)) {
            Session session = session(proxy, local);
            MimeMessage message = new MimeMessage(session);
            message.setFrom(new InternetAddress(alice.email()));
            message.setRecipient(Message.RecipientType.TO, new InternetAddress(bob.email()));
            message.setSubject("Angus " + marker + " Grüße", "UTF-8");
            message.setHeader("X-Marker", marker);
            MimeBodyPart text = new MimeBodyPart();
            text.setText("Hello Bob,\n.a line with a leading dot\nGrüße\n", "UTF-8");
            MimeBodyPart attachment = new MimeBodyPart();
            byte[] binary = new byte[200_000];
            new Random(3).nextBytes(binary);
            attachment.setDataHandler(new DataHandler(new ByteArrayDataSource(binary, "application/octet-stream")));
            attachment.setFileName("data.bin");
            message.setContent(new MimeMultipart(text, attachment));
            // Fix Message-ID and boundaries now, so the octets written here are the octets sent.
            message.saveChanges();
            ByteArrayOutputStream sent = new ByteArrayOutputStream();
            message.writeTo(sent);

            try (Transport transport = session.getTransport("smtp")) {
                transport.connect(alice.login(), alice.password());
                transport.sendMessage(message, message.getAllRecipients());
            }
            StoredMessage stored = Mailboxes.awaitDelivered(stack, bob, marker);
            assertThat(stored.content()).as("Dovecot's copy ends with what Angus sent").endsWith(sent.toByteArray());

            try (Store store = session.getStore("imap")) {
                store.connect(bob.login(), bob.password());
                Folder inbox = store.getFolder("INBOX");
                inbox.open(Folder.READ_ONLY);
                try {
                    Message[] found = inbox.search(new HeaderTerm("X-Marker", marker));
                    assertThat(found).hasSize(1);
                    ByteArrayOutputStream read = new ByteArrayOutputStream();
                    found[0].writeTo(read);
                    assertThat(read.toByteArray()).as("BODY[] through the proxy vs Dovecot's file")
                            .isEqualTo(stored.content());
                    assertThat(found[0].getSize()).as("RFC822.SIZE").isEqualTo(stored.content().length);
                } finally {
                    inbox.close(false);
                }
            }
        }
    }

    @Test
    void sendsAndReadsBackWithStarttls(MailStack stack) throws Exception {
        sendAndReadBack(stack, dir, Local.STARTTLS, Upstream.IMPLICIT);
    }

    @Test
    void sendsAndReadsBackWithImplicitTls(MailStack stack) throws Exception {
        sendAndReadBack(stack, dir, Local.IMPLICIT, Upstream.STARTTLS);
    }
}
