package org.mailproxy.smtp;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.GreenMailUtil;
import com.icegreen.greenmail.util.ServerSetup;
import jakarta.mail.AuthenticationFailedException;
import jakarta.mail.Message;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.core.net.ProbeResult;
import org.mailproxy.core.net.UpstreamProbe;

import java.nio.file.Path;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Angus Mail through the proxy to GreenMail's SMTPS, the way a mail client would send. */
class SmtpRelayGreenMailTest {

    private static GreenMail greenMail;

    @TempDir
    Path dir;

    private ProxyFixture proxy;

    @BeforeAll
    static void startGreenMail() {
        // GreenMail's SMTPS takes its key store from these properties (DummySSLServerSocketFactory).
        System.setProperty("greenmail.tls.keystore.file", TestPki.TRUSTED_P12.toString());
        System.setProperty("greenmail.tls.keystore.password", new String(TestPki.PASSWORD));
        System.setProperty("greenmail.tls.key.password", new String(TestPki.PASSWORD));
        greenMail = new GreenMail(new ServerSetup(0, "127.0.0.1", ServerSetup.PROTOCOL_SMTPS).dynamicPort());
        greenMail.setUser("alice@example.com", "alice", "secret");
        greenMail.start();
    }

    @AfterAll
    static void stopGreenMail() {
        greenMail.stop();
    }

    @BeforeEach
    void startProxy() throws Exception {
        greenMail.purgeEmailFromAllMailboxes();
        proxy = new ProxyFixture(dir, ProxyFixture.one("alice", "smtps://127.0.0.1:" + greenMail.getSmtps().getPort()), "");
    }

    @AfterEach
    void stopProxy() throws Exception {
        proxy.close();
    }

    private Session session(String mechanism) {
        Properties p = new Properties();
        p.put("mail.smtp.host", "127.0.0.1");
        p.put("mail.smtp.port", String.valueOf(proxy.port()));
        p.put("mail.smtp.auth", "true");
        p.put("mail.smtp.auth.mechanisms", mechanism);
        p.put("mail.smtp.connectiontimeout", "10000");
        p.put("mail.smtp.timeout", "10000");
        return Session.getInstance(p);
    }

    private static MimeMessage message(Session s, String body) throws Exception {
        MimeMessage m = new MimeMessage(s);
        m.setFrom(new InternetAddress("alice@example.com"));
        m.setRecipient(Message.RecipientType.TO, new InternetAddress("bob@example.org"));
        m.setSubject("Through the proxy");
        m.setText(body, "UTF-8");
        m.saveChanges();
        return m;
    }

    private void sendsAndArrives(String mechanism) throws Exception {
        Session s = session(mechanism);
        String body = "Hello Bob,\r\n.\r\n..two dots\r\n. leading dot and space\r\nGr\u00fc\u00dfe\r\n";
        MimeMessage sent = message(s, body);
        Transport.send(sent, "alice", "secret");
        assertThat(greenMail.waitForIncomingEmail(5000, 1)).isTrue();
        MimeMessage got = greenMail.getReceivedMessages()[0];
        assertThat(got.getSubject()).isEqualTo("Through the proxy");
        assertThat(got.getMessageID()).isEqualTo(sent.getMessageID());
        assertThat(GreenMailUtil.getBody(got)).isEqualTo(GreenMailUtil.getBody(sent));
        // GreenMail stores the message without the CRLF that precedes the final dot; the byte-exact check is in
        // SmtpRelayTest against a server that keeps every octet.
        assertThat(got.getContent()).isEqualTo(body.substring(0, body.length() - 2));
    }

    @Test
    void sendsWithAuthPlain() throws Exception {
        sendsAndArrives("PLAIN");
    }

    @Test
    void sendsWithAuthLogin() throws Exception {
        sendsAndArrives("LOGIN");
    }

    @Test
    void wrongPasswordIsRelayedAs535() throws Exception {
        Session s = session("PLAIN");
        assertThatThrownBy(() -> Transport.send(message(s, "x"), "alice", "wrong"))
                .isInstanceOf(AuthenticationFailedException.class)
                .hasMessageContaining("535");
        assertThat(proxy.counter("mailproxy.auth.failures")).isEqualTo(1);
        assertThat(greenMail.getReceivedMessages()).isEmpty();
    }

    @Test
    void probeReportsOkAndAuthFailed() throws Exception {
        SmtpUpstreamProbe probe = new SmtpUpstreamProbe(proxy.context);
        var account = proxy.config.accounts().get(0);
        ProbeResult ok = probe.probe(account, Optional.empty()).toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertThat(ok.outcome()).isEqualTo(ProbeResult.Outcome.OK);
        assertThat(ok.capabilities()).anyMatch(c -> c.startsWith("AUTH"));
        ProbeResult login = probe.probe(account, Optional.of(new UpstreamProbe.Credentials("alice", "secret".toCharArray())))
                .toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertThat(login.outcome()).isEqualTo(ProbeResult.Outcome.OK);
        ProbeResult wrong = probe.probe(account, Optional.of(new UpstreamProbe.Credentials("alice", "nope".toCharArray())))
                .toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertThat(wrong.outcome()).isEqualTo(ProbeResult.Outcome.AUTH_FAILED);
        assertThat(wrong.detail()).contains("535");
    }
}
