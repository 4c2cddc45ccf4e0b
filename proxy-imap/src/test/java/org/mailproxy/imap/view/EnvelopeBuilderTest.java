package org.mailproxy.imap.view;

import org.junit.jupiter.api.Test;
import org.mailproxy.core.mime.HeaderField;
import org.mailproxy.core.mime.Headers;
import org.mailproxy.imap.codec.ImapValue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** ENVELOPEs as RFC 9051 7.5.2 describes them (and Dovecot writes them) for typical and awkward headers. */
class EnvelopeBuilderTest {

    private static String envelope(String header) throws IOException {
        List<HeaderField> fields = Headers.read(new ByteArrayInputStream(header.getBytes(StandardCharsets.UTF_8)),
                1 << 16, 1000);
        return render(EnvelopeBuilder.envelope(fields));
    }

    @Test
    void aTypicalMessage() throws IOException {
        assertThat(envelope("Date: Sun, 29 Nov 2026 08:00:00 +0000\r\nFrom: Alice Liddell <alice@example.org>\r\n"
                + "To: bob@example.org, \"Carol, C.\" <carol@example.net>\r\nSubject: Plans\r\n"
                + "Message-ID: <m1@example.org>\r\n\r\n")).isEqualTo(
                "(\"Sun, 29 Nov 2026 08:00:00 +0000\" \"Plans\" ((\"Alice Liddell\" NIL \"alice\" \"example.org\")) "
                        + "((\"Alice Liddell\" NIL \"alice\" \"example.org\")) "
                        + "((\"Alice Liddell\" NIL \"alice\" \"example.org\")) "
                        + "((NIL NIL \"bob\" \"example.org\") (\"Carol, C.\" NIL \"carol\" \"example.net\")) "
                        + "NIL NIL NIL \"<m1@example.org>\")");
    }

    @Test
    void senderAndReplyToWhenGivenAndFieldsFoldedOrEncoded() throws IOException {
        String e = envelope("From: =?utf-8?q?Gr=C3=BC=C3=9Fe?= <a@x.test>\r\nSender: list@x.test\r\n"
                + "Reply-To: <reply@x.test> (the list)\r\nSubject: a long\r\n subject\r\n"
                + "In-Reply-To: <prev@x.test>\r\n\r\n");
        assertThat(e).isEqualTo("(NIL \"a long subject\" ((\"=?utf-8?q?Gr=C3=BC=C3=9Fe?=\" NIL \"a\" \"x.test\")) "
                + "((NIL NIL \"list\" \"x.test\")) ((NIL NIL \"reply\" \"x.test\")) NIL NIL NIL \"<prev@x.test>\" NIL)");
    }

    @Test
    void groupsAndEmptyGroups() throws IOException {
        assertThat(envelope("From: a@x.test\r\nTo: undisclosed-recipients:;\r\n"
                + "Cc: Team: b@x.test, C <c@x.test>;, d@x.test\r\n\r\n")).isEqualTo(
                "(NIL NIL ((NIL NIL \"a\" \"x.test\")) ((NIL NIL \"a\" \"x.test\")) ((NIL NIL \"a\" \"x.test\")) "
                        + "((NIL NIL \"undisclosed-recipients\" NIL) (NIL NIL NIL NIL)) "
                        + "((NIL NIL \"Team\" NIL) (NIL NIL \"b\" \"x.test\") (\"C\" NIL \"c\" \"x.test\") "
                        + "(NIL NIL NIL NIL) (NIL NIL \"d\" \"x.test\")) NIL NIL NIL)");
    }

    @Test
    void eightBitTextGoesAsALiteralAndAMissingHeaderIsAllNil() throws IOException {
        ImapValue e = EnvelopeBuilder.envelope(Headers.read(new ByteArrayInputStream(
                "Subject: Grüße\r\n\r\n".getBytes(StandardCharsets.UTF_8)), 1 << 16, 100));
        assertThat(((ImapValue.ListValue) e).items().get(1)).isInstanceOf(ImapValue.Literal.class);
        assertThat(envelope("\r\n")).isEqualTo("(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
    }

    /** The envelope as IMAP text, literals shown inline. */
    private static String render(ImapValue v) {
        if (v instanceof ImapValue.Atom a) {
            return a.text();
        }
        if (v instanceof ImapValue.Quoted q) {
            return '"' + q.text().replace("\\", "\\\\").replace("\"", "\\\"") + '"';
        }
        if (v instanceof ImapValue.Literal l) {
            return "{" + l.octets().length + "}" + new String(l.octets(), StandardCharsets.UTF_8);
        }
        ImapValue.ListValue list = (ImapValue.ListValue) v;
        StringBuilder b = new StringBuilder("(");
        for (int k = 0; k < list.items().size(); k++) {
            if (k > 0) {
                b.append(' ');
            }
            b.append(render(list.items().get(k)));
        }
        return b.append(')').toString();
    }
}
