package org.mailproxy.imap;

import jakarta.mail.Flags;
import jakarta.mail.Folder;
import jakarta.mail.Message;
import jakarta.mail.Session;
import jakarta.mail.Store;
import jakarta.mail.internet.MimeMessage;
import org.eclipse.angus.mail.imap.IMAPFolder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

/** A real IMAP client library (Angus Mail) through the proxy to the scripted provider. */
class AngusMailClientTest {

    @TempDir
    Path dir;

    private FakeImapServer upstream;
    private ImapProxyFixture proxy;

    @BeforeEach
    void setUp() throws Exception {
        upstream = new FakeImapServer();
        proxy = new ImapProxyFixture(dir, Map.of("alice", upstream.url()), "");
    }

    @AfterEach
    void tearDown() throws Exception {
        proxy.close();
        upstream.close();
    }

    private Store connect() throws Exception {
        Properties props = new Properties();
        props.put("mail.imap.host", "127.0.0.1");
        props.put("mail.imap.port", Integer.toString(proxy.port()));
        props.put("mail.imap.connectiontimeout", "5000");
        props.put("mail.imap.timeout", "10000");
        Store store = Session.getInstance(props).getStore("imap");
        store.connect("alice", "s3cret");
        return store;
    }

    @Test
    void loginFetchAndAppend() throws Exception {
        byte[] body = "Subject: via angus\r\nFrom: a@example.com\r\n\r\nhello through the proxy\r\n".getBytes(StandardCharsets.US_ASCII);
        upstream.script.body = body;
        Store store = connect();
        try {
            IMAPFolder inbox = (IMAPFolder) store.getFolder("INBOX");
            inbox.open(Folder.READ_WRITE);
            assertThat(inbox.getMessageCount()).isEqualTo(1);
            MimeMessage m = new MimeMessage(jakarta.mail.Session.getInstance(new Properties()),
                    new ByteArrayInputStream(body));
            m.setFlag(Flags.Flag.SEEN, true);
            inbox.appendMessages(new Message[]{m});
            assertThat(((org.eclipse.angus.mail.imap.IMAPStore) store).hasCapability("LITERAL-")).isTrue();
            assertThat(((org.eclipse.angus.mail.imap.IMAPStore) store).hasCapability("COMPRESS=DEFLATE")).isFalse();
            inbox.close(false);
        } finally {
            store.close();
        }
        assertThat(upstream.appended).hasSize(1);
        assertThat(new String(upstream.appended.get(0), StandardCharsets.US_ASCII)).contains("hello through the proxy");
        assertThat(upstream.received).allMatch(l -> !l.matches("^[A-Z]\\d+ .*"), "client tags never reach the provider");
    }
}
