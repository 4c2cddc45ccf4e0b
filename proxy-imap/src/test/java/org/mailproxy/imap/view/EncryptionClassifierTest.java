package org.mailproxy.imap.view;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.Test;
import org.mailproxy.imap.codec.FetchEvent;
import org.mailproxy.imap.codec.FetchItemsParser;
import org.mailproxy.imap.codec.ImapResponseDecoder;
import org.mailproxy.imap.codec.ImapValue;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mailproxy.imap.view.EncryptionClassifier.Kind.INLINE_CANDIDATE;
import static org.mailproxy.imap.view.EncryptionClassifier.Kind.PGP_MIME;
import static org.mailproxy.imap.view.EncryptionClassifier.Kind.PARTLY_ENCRYPTED;
import static org.mailproxy.imap.view.EncryptionClassifier.Kind.PLAIN;

/** BODYSTRUCTUREs as Dovecot writes them, through the real response decoder and FETCH parser. */
class EncryptionClassifierTest {

    private static final String PGP_MIME_PARTS = "(\"application\" \"pgp-encrypted\" (\"name\" \"x\") NIL "
            + "\"PGP/MIME version identification\" \"7bit\" 12 NIL NIL NIL NIL)"
            + "(\"application\" \"octet-stream\" (\"name\" \"encrypted.asc\") NIL \"OpenPGP encrypted message\" "
            + "\"7bit\" 1834 NIL (\"inline\" (\"filename\" \"encrypted.asc\")) NIL NIL)";

    private static ImapValue bodystructure(String value) throws Exception {
        EmbeddedChannel ch = new EmbeddedChannel(new ImapResponseDecoder(1 << 20, 64));
        ch.writeInbound(Unpooled.copiedBuffer("* 1 FETCH (BODYSTRUCTURE " + value + ")\r\n",
                StandardCharsets.ISO_8859_1));
        FetchItemsParser parser = new FetchItemsParser(4096);
        ImapValue found = null;
        Object m;
        while ((m = ch.readInbound()) != null) {
            try {
                for (Object e : parser.feed(m)) {
                    if (e instanceof FetchEvent.Item item && item.name().equals("BODYSTRUCTURE")) {
                        found = item.value();
                    }
                }
            } finally {
                ReferenceCountUtil.release(m);
            }
        }
        ch.finishAndReleaseAll();
        assertThat(found).as(value).isNotNull();
        return found;
    }

    @Test
    void pgpMimeAtTheRoot() throws Exception {
        assertThat(EncryptionClassifier.classify(bodystructure("(" + PGP_MIME_PARTS
                + " \"encrypted\" (\"protocol\" \"application/pgp-encrypted\" \"boundary\" \"b1\") NIL NIL NIL)")))
                .isEqualTo(PGP_MIME);
        // parameter names and values compare without case
        assertThat(EncryptionClassifier.classify(bodystructure("(" + PGP_MIME_PARTS
                + " \"ENCRYPTED\" (\"PROTOCOL\" \"Application/PGP-Encrypted\" \"boundary\" \"b1\"))")))
                .isEqualTo(PGP_MIME);
    }

    @Test
    void lookalikesAreNotPgpMime() throws Exception {
        // no protocol parameter, S/MIME's protocol, a third part, the parts swapped: not decrypted, but an encrypted
        // part among others is what EFAIL sends, so the view stands in for them (shown with the notice)
        assertThat(EncryptionClassifier.classify(bodystructure("(" + PGP_MIME_PARTS + " \"encrypted\")")))
                .isEqualTo(PARTLY_ENCRYPTED);
        assertThat(EncryptionClassifier.classify(bodystructure("(" + PGP_MIME_PARTS
                + " \"encrypted\" (\"protocol\" \"application/pkcs7-mime\"))"))).isEqualTo(PARTLY_ENCRYPTED);
        assertThat(EncryptionClassifier.classify(bodystructure("(" + PGP_MIME_PARTS
                + "(\"text\" \"plain\" NIL NIL NIL \"7bit\" 3 1) \"encrypted\" (\"protocol\" \"application/pgp-encrypted\"))")))
                .isEqualTo(PARTLY_ENCRYPTED);
        String swapped = PGP_MIME_PARTS.substring(PGP_MIME_PARTS.indexOf(")(") + 1)
                + PGP_MIME_PARTS.substring(0, PGP_MIME_PARTS.indexOf(")(") + 1);
        assertThat(EncryptionClassifier.classify(bodystructure("(" + swapped
                + " \"encrypted\" (\"protocol\" \"application/pgp-encrypted\"))"))).isEqualTo(PARTLY_ENCRYPTED);
    }

    @Test
    void anEncryptedPartAmongOthersIsPartlyEncrypted() throws Exception {
        // EFAIL: attacker text, the encrypted part, attacker text
        assertThat(EncryptionClassifier.classify(bodystructure("((\"text\" \"plain\" NIL NIL NIL \"7bit\" 3 1)("
                + PGP_MIME_PARTS + " \"encrypted\" (\"protocol\" \"application/pgp-encrypted\"))"
                + "(\"text\" \"html\" NIL NIL NIL \"7bit\" 3 1) \"mixed\")"))).isEqualTo(PARTLY_ENCRYPTED);
        // a forwarded encrypted message inside a message/rfc822 part
        assertThat(EncryptionClassifier.classify(bodystructure("((\"text\" \"plain\" NIL NIL NIL \"7bit\" 3 1)"
                + "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 900 NIL (" + PGP_MIME_PARTS
                + " \"encrypted\" (\"protocol\" \"application/pgp-encrypted\")) 20) \"mixed\")")))
                .isEqualTo(PARTLY_ENCRYPTED);
        // plain multiparts stay plain
        assertThat(EncryptionClassifier.classify(bodystructure("((\"text\" \"plain\" NIL NIL NIL \"7bit\" 3 1)"
                + "((\"text\" \"plain\" NIL NIL NIL \"7bit\" 3 1)(\"text\" \"html\" NIL NIL NIL \"7bit\" 3 1) "
                + "\"alternative\") \"mixed\")"))).isEqualTo(PLAIN);
    }

    @Test
    void singleParts() throws Exception {
        assertThat(EncryptionClassifier.classify(bodystructure(
                "(\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 900 20 NIL NIL NIL NIL)")))
                .isEqualTo(INLINE_CANDIDATE);
        assertThat(EncryptionClassifier.classify(bodystructure(
                "(\"text\" \"html\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 900 20)"))).isEqualTo(PLAIN);
        assertThat(EncryptionClassifier.classify(bodystructure(
                "(\"application\" \"pgp-encrypted\" NIL NIL NIL \"7bit\" 12)"))).isEqualTo(PLAIN);
    }

    @Test
    void inlinePgpIsTheArmorAtTheStartOfTheBody() {
        assertThat(EncryptionClassifier.isInlinePgp("\r\n  -----BEGIN PGP MESSAGE-----\r\n\r\nhQ".getBytes(
                StandardCharsets.US_ASCII))).isTrue();
        assertThat(EncryptionClassifier.isInlinePgp("Hi,\r\n-----BEGIN PGP MESSAGE-----\r\n".getBytes(
                StandardCharsets.US_ASCII))).as("quoted in a reply").isFalse();
        assertThat(EncryptionClassifier.isInlinePgp("-----BEGIN PGP SIGNED MESSAGE-----\r\n".getBytes(
                StandardCharsets.US_ASCII))).as("clear-signed, not encrypted").isFalse();
        assertThat(EncryptionClassifier.isInlinePgp("-----BEGIN PGP MESS".getBytes(StandardCharsets.US_ASCII)))
                .isFalse();
    }
}
