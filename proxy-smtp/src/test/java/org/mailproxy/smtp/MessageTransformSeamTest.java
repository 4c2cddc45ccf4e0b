package org.mailproxy.smtp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.smtp.codec.SmtpException;
import org.mailproxy.smtp.codec.SmtpReply;
import org.mailproxy.smtp.transform.ContentSink;
import org.mailproxy.smtp.transform.Envelope;
import org.mailproxy.smtp.transform.MessageStream;
import org.mailproxy.smtp.transform.MessageTransform;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/** The seam where encryption will sit: what a transform sees, what it may write, and how it refuses. */
class MessageTransformSeamTest {

    @TempDir
    Path dir;

    private final List<Envelope> envelopes = new CopyOnWriteArrayList<>();

    /** Prepends a header and a line starting with a dot; refuses recipients at "nokey.example". */
    private final MessageTransform prepending = (envelope, out) -> {
        envelopes.add(envelope);
        for (String r : envelope.recipients()) {
            if (r.endsWith("@nokey.example>")) {
                throw new SmtpException(SmtpReply.of(550, "5.7.1", "No key for " + r + "; not sent unencrypted"));
            }
        }
        return new MessageStream() {
            private boolean first = true;

            @Override
            public void write(ByteBuf content) throws SmtpException {
                if (first) {
                    first = false;
                    out.write(Unpooled.copiedBuffer("X-Transformed: yes\r\n", StandardCharsets.US_ASCII));
                }
                if (content.toString(StandardCharsets.ISO_8859_1).contains("POISON")) {
                    content.release();
                    throw new SmtpException(SmtpReply.of(554, "5.7.1", "Refused by policy"));
                }
                out.write(content);
            }

            @Override
            public void end() {
                out.write(Unpooled.copiedBuffer(".signature line\r\n", StandardCharsets.US_ASCII));
            }

            @Override
            public void abort() {
            }
        };
    };

    private TestClient send(ProxyFixture p, String rcpt) throws Exception {
        TestClient c = new TestClient(p.port());
        c.reply();
        c.cmd("AUTH PLAIN " + TestClient.plain("alice", "secret"));
        assertThat(c.cmd("MAIL FROM:<alice@example.com>")).startsWith("250");
        assertThat(c.cmd("RCPT TO:<" + rcpt + ">")).startsWith("250");
        return c;
    }

    @Test
    void transformOutputIsStuffedAndSent() throws Exception {
        try (FakeSmtpServer up = new FakeSmtpServer(new FakeSmtpServer.Options());
             ProxyFixture p = new ProxyFixture(dir, ProxyFixture.one("alice", up.url()), "", TestPki.TRUSTED_PEM, prepending);
             TestClient c = send(p, "bob@example.org")) {
            assertThat(c.cmd("DATA")).startsWith("354");
            c.send("Subject: s\r\n\r\n..dot\r\n.\r\n");
            assertThat(c.reply()).startsWith("250");
            assertThat(up.messageText(0)).isEqualTo("X-Transformed: yes\r\nSubject: s\r\n\r\n..dot\r\n..signature line\r\n");
            assertThat(envelopes).containsExactly(new Envelope("alice@example.com", "<alice@example.com>", List.of("<bob@example.org>")));
        }
    }

    @Test
    void aRefusalAtOpenComesBeforeDataGoesUpstream() throws Exception {
        try (FakeSmtpServer up = new FakeSmtpServer(new FakeSmtpServer.Options());
             ProxyFixture p = new ProxyFixture(dir, ProxyFixture.one("alice", up.url()), "", TestPki.TRUSTED_PEM, prepending);
             TestClient c = send(p, "carol@nokey.example")) {
            assertThat(c.cmd("DATA")).isEqualTo("550 5.7.1 No key for <carol@nokey.example>; not sent unencrypted");
            assertThat(c.cmd("RSET")).startsWith("250");
            assertThat(up.commands).doesNotContain("DATA");
        }
    }

    @Test
    void aRefusalMidStreamSendsNothing() throws Exception {
        try (FakeSmtpServer up = new FakeSmtpServer(new FakeSmtpServer.Options());
             ProxyFixture p = new ProxyFixture(dir, ProxyFixture.one("alice", up.url()), "", TestPki.TRUSTED_PEM, prepending);
             TestClient c = send(p, "bob@example.org")) {
            assertThat(c.cmd("DATA")).startsWith("354");
            c.send("Subject: s\r\n\r\nPOISON\r\n.\r\n");
            assertThat(c.reply()).isEqualTo("554 5.7.1 Refused by policy");
            org.awaitility.Awaitility.await().until(() -> up.events.contains("dropped mid-DATA"));
            assertThat(up.messages).isEmpty();
        }
    }
}
