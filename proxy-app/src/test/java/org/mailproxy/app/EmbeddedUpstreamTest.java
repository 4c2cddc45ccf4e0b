package org.mailproxy.app;

import jakarta.mail.Folder;
import jakarta.mail.Message;
import jakarta.mail.Store;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The demo's provider on its own: IMAPS and SMTPS with a certificate a host-name-checking client accepts once it
 * trusts {@link EmbeddedUpstream#caCertificate()}, and real passwords.
 */
class EmbeddedUpstreamTest {

    @Test
    void servesImapsAndSmtpsWithItsOwnCertificate() throws Exception {
        try (EmbeddedUpstream up = EmbeddedUpstream.start(Map.of("dave@up.test", "dave-pw", "erin@up.test", "erin-pw"))) {
            var session = MailClients.implicitTls(up.caCertificate());
            MimeMessage m = new MimeMessage(session);
            m.setFrom(new InternetAddress("dave@up.test"));
            m.setRecipients(Message.RecipientType.TO, "erin@up.test");
            m.setSubject("hello erin");
            m.setText("body\r\n");
            try (Transport t = session.getTransport("smtp")) {
                t.connect("localhost", up.smtpsPort(), "dave@up.test", "dave-pw");
                t.sendMessage(m, m.getAllRecipients());
            }
            try (Store store = session.getStore("imap")) {
                store.connect("localhost", up.imapsPort(), "erin@up.test", "erin-pw");
                Folder inbox = store.getFolder("INBOX");
                inbox.open(Folder.READ_ONLY);
                assertThat(inbox.getMessages()).extracting(Message::getSubject).containsExactly("hello erin");
                inbox.close();
            }
            try (Store store = session.getStore("imap")) {
                assertThatThrownBy(() -> store.connect("localhost", up.imapsPort(), "erin@up.test", "wrong"))
                        .isInstanceOf(jakarta.mail.AuthenticationFailedException.class);
            }
        }
    }
}
