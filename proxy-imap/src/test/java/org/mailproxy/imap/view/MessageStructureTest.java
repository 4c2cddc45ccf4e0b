package org.mailproxy.imap.view;

import org.junit.jupiter.api.Test;
import org.mailproxy.imap.codec.ImapValue;

import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mailproxy.imap.view.StructureSamples.crlf;

/**
 * BODYSTRUCTURE, BODY and section ranges for the shapes a decrypted message takes (the expected texts are what
 * Dovecot answers for the same octets, see {@link MessageStructureMailStackTest}), the parser's limits, and the
 * serialized form kept in the cache.
 */
class MessageStructureTest {

    private static MessageStructure parse(byte[] message) throws IOException {
        return MessageStructure.parse(new ByteArrayInputStream(message));
    }

    private static String bodyStructure(byte[] message) throws IOException {
        return WireText.value(parse(message).bodyStructure());
    }

    private static String body(byte[] message) throws IOException {
        return WireText.value(parse(message).body());
    }

    /** The octets of a section, or null when it does not exist. */
    private static String cut(byte[] message, String spec) throws IOException {
        Optional<MessageStructure.Range> r = parse(message).section(spec);
        return r.map(range -> new String(message, (int) range.offset(), (int) range.length(), StandardCharsets.UTF_8))
                .orElse(null);
    }

    @Test
    void singlePartText() throws IOException {
        byte[] m = crlf(StructureSamples.SINGLE);
        assertThat(bodyStructure(m)).isEqualTo("(\"text\" \"plain\" (\"charset\" \"utf-8\" \"format\" \"flowed\") NIL NIL "
                + "\"quoted-printable\" 40 3 NIL NIL NIL NIL)");
        assertThat(body(m)).isEqualTo("(\"text\" \"plain\" (\"charset\" \"utf-8\" \"format\" \"flowed\") NIL NIL "
                + "\"quoted-printable\" 40 3)");
        assertThat(parse(m).size()).isEqualTo(m.length);
        assertThat(cut(m, "")).isEqualTo(new String(m, StandardCharsets.UTF_8));
        assertThat(cut(m, "TEXT")).isEqualTo("Hello Bob,\r\ntwo lines=20\r\nand a third.\r\n");
        assertThat(cut(m, "1")).isEqualTo(cut(m, "TEXT"));
        assertThat(cut(m, "HEADER")).startsWith("From: Alice").endsWith("quoted-printable\r\n\r\n");
        assertThat(cut(m, "1.MIME")).isEqualTo(cut(m, "HEADER"));
        assertThat(cut(m, "HEADER.FIELDS (Subject)")).isEqualTo(cut(m, "HEADER"));
        assertThat(cut(m, "2")).isNull();
        assertThat(cut(m, "1.HEADER")).as("HEADER only of message/rfc822 parts").isNull();
        assertThat(cut(m, "MIME")).isNull();
    }

    @Test
    void anEmptyMessage() throws IOException {
        MessageStructure s = parse(new byte[0]);
        assertThat(WireText.value(s.bodyStructure()))
                .isEqualTo("(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL)");
        assertThat(s.section("")).contains(new MessageStructure.Range(0, 0));
        assertThat(s.section("1")).contains(new MessageStructure.Range(0, 0));
    }

    @Test
    void multipartMixedWithAttachments() throws IOException {
        byte[] m = crlf(StructureSamples.MIXED);
        assertThat(bodyStructure(m)).isEqualTo("((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 13 0 NIL NIL NIL NIL)"
                + "(\"application\" \"pdf\" (\"name\" \"report.pdf\") \"<pdf1@example.test>\" \"the report\" \"base64\" 16 NIL "
                + "(\"attachment\" (\"filename\" \"report.pdf\" \"size\" \"12\")) NIL NIL)"
                + "(\"image\" \"png\" NIL NIL NIL \"base64\" 12 NIL (\"inline\" NIL) NIL NIL) \"mixed\" (\"boundary\" \"b1\") NIL NIL NIL)");
        assertThat(body(m)).isEqualTo("((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 13 0)"
                + "(\"application\" \"pdf\" (\"name\" \"report.pdf\") \"<pdf1@example.test>\" \"the report\" \"base64\" 16)"
                + "(\"image\" \"png\" NIL NIL NIL \"base64\" 12) \"mixed\")");
        assertThat(cut(m, "1")).isEqualTo("See attached.");
        assertThat(cut(m, "2")).isEqualTo("SGVsbG8gd29ybGQh");
        assertThat(cut(m, "2.MIME")).startsWith("Content-Type: application/pdf").endsWith("the report\r\n\r\n");
        assertThat(cut(m, "3")).isEqualTo("iVBORw0KGgo=");
        assertThat(cut(m, "4")).isNull();
        assertThat(cut(m, "1.1")).as("a leaf has one part, itself").isEqualTo("See attached.");
        assertThat(cut(m, "1.2")).isNull();
        assertThat(cut(m, "TEXT")).startsWith("--b1\r\n").endsWith("--b1--\r\n");
    }

    @Test
    void alternativeNestedInMixed() throws IOException {
        byte[] m = crlf(StructureSamples.NESTED);
        assertThat(bodyStructure(m)).isEqualTo("(((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 10 0 NIL NIL NIL NIL)"
                + "(\"text\" \"html\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 11 0 NIL NIL NIL NIL) \"alternative\" "
                + "(\"boundary\" \"inner\") NIL NIL NIL)(\"text\" \"csv\" (\"name\" \"data.csv\" \"charset\" \"us-ascii\") NIL NIL "
                + "\"7bit\" 8 1 NIL (\"attachment\" (\"filename\" \"data.csv\")) NIL NIL) \"mixed\" (\"boundary\" \"outer\") NIL NIL NIL)");
        assertThat(cut(m, "1.1")).isEqualTo("plain text");
        assertThat(cut(m, "1.2")).isEqualTo("<p>html</p>");
        assertThat(cut(m, "1.2.MIME")).isEqualTo("Content-Type: text/html; charset=utf-8\r\n\r\n");
        assertThat(cut(m, "1.MIME")).isEqualTo("Content-Type: multipart/alternative; boundary=\"inner\"\r\n\r\n");
        // The close delimiter's line break stays in the multipart: no epilogue is there to give it to the delimiter.
        assertThat(cut(m, "1")).startsWith("--inner\r\n").endsWith("--inner--\r\n");
        assertThat(cut(m, "2")).isEqualTo("a,b\r\n1,2");
        assertThat(cut(m, "1.3")).isNull();
    }

    @Test
    void messageRfc822Attachment() throws IOException {
        byte[] m = crlf(StructureSamples.RFC822);
        assertThat(bodyStructure(m)).isEqualTo("((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 16 0 NIL NIL NIL NIL)"
                + "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 362 (\"Sat, 28 Nov 2026 10:00:00 +0000\" \"original\" "
                + "((\"Carol\" NIL \"carol\" \"example.test\")) ((\"Carol\" NIL \"carol\" \"example.test\")) "
                + "((\"Carol\" NIL \"carol\" \"example.test\")) ((NIL NIL \"alice\" \"example.test\")(\"Dan D.\" NIL \"dan\" "
                + "\"example.test\")) NIL NIL NIL \"<orig@example.test>\") ((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL "
                + "\"7bit\" 13 0 NIL NIL NIL NIL)(\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 15 0 NIL NIL NIL NIL) "
                + "\"alternative\" (\"boundary\" \"alt\") NIL NIL NIL) 17 NIL (\"attachment\" NIL) NIL NIL)"
                + "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 73 (NIL \"plain inner\" ((NIL NIL \"eve\" \"example.test\")) "
                + "((NIL NIL \"eve\" \"example.test\")) ((NIL NIL \"eve\" \"example.test\")) NIL NIL NIL NIL NIL) "
                + "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 25 1 NIL NIL NIL NIL) 4 NIL NIL NIL NIL) "
                + "\"mixed\" (\"boundary\" \"fw\") NIL NIL NIL)");
        assertThat(cut(m, "2")).startsWith("Date: Sat, 28 Nov 2026").endsWith("--alt--\r\n");
        assertThat(cut(m, "2.MIME")).isEqualTo("Content-Type: message/rfc822\r\nContent-Disposition: attachment\r\n\r\n");
        assertThat(cut(m, "2.HEADER")).startsWith("Date: ").endsWith("boundary=\"alt\"\r\n\r\n");
        assertThat(cut(m, "2.HEADER.FIELDS (From)")).isEqualTo(cut(m, "2.HEADER"));
        assertThat(cut(m, "2.TEXT")).startsWith("--alt\r\n").endsWith("--alt--\r\n");
        assertThat(cut(m, "2.1")).isEqualTo("original text");
        assertThat(cut(m, "2.2")).isEqualTo("<b>original</b>");
        assertThat(cut(m, "2.2.MIME")).isEqualTo("Content-Type: text/html\r\n\r\n");
        assertThat(cut(m, "2.3")).isNull();
        assertThat(cut(m, "3.HEADER")).isEqualTo("From: eve@example.test\r\nSubject: plain inner\r\n\r\n");
        assertThat(cut(m, "3.TEXT")).isEqualTo("just a body\r\nof two lines");
        assertThat(cut(m, "3.1")).as("part 1 of a non-multipart message is its body").isEqualTo(cut(m, "3.TEXT"));
        assertThat(cut(m, "3.2")).isNull();
    }

    @Test
    void topLevelMessageRfc822() throws IOException {
        byte[] m = crlf(StructureSamples.TOP_RFC822);
        assertThat(cut(m, "1")).startsWith("From: inner@example.test").endsWith("--t--\r\n");
        assertThat(cut(m, "1.MIME")).isEqualTo(cut(m, "HEADER"));
        assertThat(cut(m, "1.HEADER")).startsWith("From: inner@").endsWith("boundary=\"t\"\r\n\r\n");
        assertThat(cut(m, "1.1")).isEqualTo("inner one");
        assertThat(cut(m, "1.2")).isEqualTo("inner two");
    }

    @Test
    void multipartSignedKeepsTheSignedOctets() throws IOException {
        byte[] m = crlf(StructureSamples.SIGNED);
        assertThat(bodyStructure(m)).isEqualTo("((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 11 0 NIL NIL NIL NIL)"
                + "(\"application\" \"pgp-signature\" (\"name\" \"signature.asc\") NIL \"OpenPGP digital signature\" \"7bit\" 87 "
                + "NIL (\"attachment\" (\"filename\" \"signature.asc\")) NIL NIL) \"signed\" (\"micalg\" \"pgp-sha256\" "
                + "\"protocol\" \"application/pgp-signature\" \"boundary\" \"sig\") NIL NIL NIL)");
        // RFC 3156 §5: the signed data is the first part's MIME header and body, exactly.
        assertThat(cut(m, "1.MIME") + cut(m, "1"))
                .isEqualTo("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\nsigned text");
        assertThat(cut(m, "2")).startsWith("-----BEGIN PGP SIGNATURE-----").endsWith("-----END PGP SIGNATURE-----\r\n");
        assertThat(cut(m, "TEXT")).startsWith("This is an OpenPGP/MIME signed message");
    }

    @Test
    void missingContentTypeIsTextPlainUsAscii() throws IOException {
        byte[] m = crlf(StructureSamples.NO_CONTENT_TYPE);
        assertThat(bodyStructure(m)).isEqualTo("(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 30 2 NIL NIL NIL NIL)");
        assertThat(body(crlf(StructureSamples.PLAIN_NO_NEWLINE_HEADER)))
                .isEqualTo("(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)");
        assertThat(cut(crlf(StructureSamples.PLAIN_NO_NEWLINE_HEADER), "HEADER")).isEqualTo(StructureSamples.PLAIN_NO_NEWLINE_HEADER);
    }

    @Test
    void rfc2231ContinuationsAreJoinedNotDecoded() throws IOException {
        assertThat(bodyStructure(crlf(StructureSamples.RFC2231))).isEqualTo(
                "((\"application\" \"octet-stream\" (\"name\" \"long file name.bin\") NIL NIL \"base64\" 4 NIL "
                        + "(\"attachment\" (\"filename*\" \"utf-8''%E2%82%AC%20rates%20and%20more.txt\")) NIL NIL)"
                        + "(\"text\" \"plain\" (\"charset*\" \"utf-8''%E2%82%AC\" \"title*\" \"us-ascii'en'This%20is\" "
                        + "\"charset\" \"us-ascii\") NIL NIL \"7bit\" 1 0 NIL (\"inline\" (\"filename\" "
                        + "\"=?utf-8?q?na=C3=AFve?=.txt\")) NIL NIL) \"mixed\" (\"boundary\" \"r\") NIL NIL NIL)");
    }

    @Test
    void awkwardFieldValues() throws IOException {
        String s = bodyStructure(crlf(StructureSamples.edgeMessage()));
        assertThat(s).contains("(\"name\" {13}\r\ncaf\u00c3\u00a9 \u00e2\u0082\u00ac.txt \"charset\" \"us-ascii\")")
                .as("five escapes make a literal").contains("(\"name\" {11}\r\na\\b\"c\"d\"e\"f ")
                .contains("(\"text\" \"\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 10 0 ")
                .contains("(\"\" \"\" NIL NIL NIL \"7bit\" 7 NIL NIL NIL NIL)")
                .contains("(\"name*0\" \"one\" \"name*2\" \"three\")")
                .contains("(\"title*\" \"''plain %25part%41%42end\")")
                .contains("(\"Application\" \"X-Y\" (\"NAME\" \"Foo\" \"Charset\" \"UTF-8\")")
                .contains("(\"inline\" (\"filename\" \"second\"))")
                .contains("\"<spaced@example.test>   \" NIL \"7bit\" 31 0 NIL NIL NIL \"\")")
                .contains("NIL NIL (\"en\") NIL)")
                .contains("\"base64\" 23 0")
                .contains("(\"baz\" \"1\" \"charset\" \"us-ascii\")")
                .contains("NIL \"a\tfolded with a tab\" \"7bit\" 13 0 \" Q2hlY2s=\" NIL NIL NIL)");
    }

    @Test
    void preambleAndEpilogueBelongToTheMultipart() throws IOException {
        byte[] m = crlf(StructureSamples.PREAMBLE_EPILOGUE);
        assertThat(body(m)).isEqualTo("((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 5 0)"
                + "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 8 1) \"mixed\")");
        assertThat(cut(m, "TEXT")).startsWith("This is the preamble.\r\n").endsWith("It also has lines.\r\n");
        assertThat(cut(m, "1")).isEqualTo("first");
        assertThat(cut(m, "2")).isEqualTo("second\r\n");
    }

    @Test
    void aBoundaryThatNeverClosesRunsToTheEnd() throws IOException {
        byte[] m = crlf(StructureSamples.UNCLOSED);
        assertThat(body(m)).isEqualTo("((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 3 0)"
                + "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 29 2) \"mixed\")");
        assertThat(cut(m, "2")).isEqualTo("two never closed\r\nstill two\r\n");
    }

    @Test
    void multipartWithoutBoundaryShowsOneEmptyPart() throws IOException {
        byte[] m = crlf(StructureSamples.NO_BOUNDARY);
        assertThat(bodyStructure(m)).isEqualTo(
                "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL) \"mixed\" NIL NIL NIL NIL)");
        assertThat(cut(m, "1")).isNull();
    }

    @Test
    void digestPartsDefaultToMessageRfc822() throws IOException {
        assertThat(body(crlf(StructureSamples.DIGEST))).isEqualTo("((\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 62 "
                + "(NIL \"first\" ((NIL NIL \"one\" \"example.test\")) ((NIL NIL \"one\" \"example.test\")) "
                + "((NIL NIL \"one\" \"example.test\")) NIL NIL NIL NIL NIL) (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL "
                + "\"7bit\" 20 0) 3)(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 13 0) \"digest\")");
    }

    /**
     * The view's bytes are CRLF. Bare LF still ends a line (boundaries are found), but sizes are the octets as given:
     * a server storing such a message would count each bare LF as two octets, so callers hand CRLF text.
     */
    @Test
    void bareLfLinesAreMeasuredAsGiven() throws IOException {
        byte[] m = StructureSamples.MIXED.getBytes(StandardCharsets.US_ASCII);
        assertThat(body(m)).isEqualTo("((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 13 0)"
                + "(\"application\" \"pdf\" (\"name\" \"report.pdf\") \"<pdf1@example.test>\" \"the report\" \"base64\" 16)"
                + "(\"image\" \"png\" NIL NIL NIL \"base64\" 12) \"mixed\")");
        assertThat(parse(m).size()).isEqualTo(m.length);
        assertThat(new String(m, StandardCharsets.US_ASCII)).contains("\n\n" + cut(m, "2") + "\n--b1\n");
    }

    @Test
    void deepNestingBeyondTheLimitFails() throws IOException {
        byte[] ok = crlf(StructureSamples.deep(10));
        MessageStructure.Limits limits = new MessageStructure.Limits(1000, 12, 64 * 1024);
        assertThat(MessageStructure.parse(new ByteArrayInputStream(ok), limits).section("1.1.1.1.1.1.1.1.1.1"))
                .map(r -> new String(ok, (int) r.offset(), (int) r.length(), StandardCharsets.US_ASCII)).contains("deepest");
        assertThatThrownBy(() -> MessageStructure.parse(new ByteArrayInputStream(crlf(StructureSamples.deep(12))), limits))
                .isInstanceOf(IOException.class).hasMessageContaining("deeper");
        assertThatThrownBy(() -> parse(crlf(StructureSamples.deep(60)))).isInstanceOf(IOException.class);
    }

    @Test
    void tooManyPartsOrTooLargeAHeaderFails() {
        StringBuilder many = new StringBuilder("Content-Type: multipart/mixed; boundary=m\n\n");
        for (int k = 0; k < 20; k++) {
            many.append("--m\n\npart ").append(k).append('\n');
        }
        MessageStructure.Limits limits = new MessageStructure.Limits(10, 50, 1024);
        assertThatThrownBy(() -> MessageStructure.parse(new ByteArrayInputStream(crlf(many.toString())), limits))
                .isInstanceOf(IOException.class).hasMessageContaining("parts");
        byte[] bigHeader = crlf("Subject: " + "x".repeat(2000) + "\n\nbody\n");
        assertThatThrownBy(() -> MessageStructure.parse(new ByteArrayInputStream(bigHeader), limits))
                .isInstanceOf(IOException.class).hasMessageContaining("header");
        byte[] bigPartHeader = crlf("Content-Type: multipart/mixed; boundary=m\n\n--m\nX-A: " + "y".repeat(2000) + "\n\nz\n--m--\n");
        assertThatThrownBy(() -> MessageStructure.parse(new ByteArrayInputStream(bigPartHeader), limits))
                .isInstanceOf(IOException.class);
    }

    @Test
    void whatIsKeptFitsTheCacheMetadata() throws IOException {
        String big = "d".repeat(200 * 1024);
        byte[] one = crlf("Content-Type: text/plain\nContent-Description: " + big + "\n\nx\n");
        MessageStructure s = parse(one);
        assertThat(MessageStructure.fromBytes(s.toBytes()).bodyStructure()).isEqualTo(s.bodyStructure());
        StringBuilder many = new StringBuilder("Content-Type: multipart/mixed; boundary=m\n\n");
        for (int k = 0; k < 8; k++) {
            many.append("--m\nContent-Description: ").append(big).append("\n\npart\n");
        }
        assertThatThrownBy(() -> parse(crlf(many.append("--m--\n").toString())))
                .isInstanceOf(IOException.class).hasMessageContaining("structure larger");
        StringBuilder params = new StringBuilder("Content-Type: text/plain");
        for (int k = 0; k < 20_000; k++) {
            params.append(";a=b");
        }
        MessageStructure p = parse(crlf(params + "\n\nx\n"));
        assertThat(MessageStructure.fromBytes(p.toBytes()).toBytes()).isEqualTo(p.toBytes());
    }

    /** Damaged messages (mutations of every sample) parse or fail with an IOException; what parses is well-formed. */
    @Test
    void damagedMessagesNeverBreakTheParser() {
        Random random = new Random(5);
        List<byte[]> samples = List.copyOf(StructureSamples.all().values());
        byte[] alphabet = "-\r\n:;=\"()<>@,\\ \tabm*0".getBytes(StandardCharsets.ISO_8859_1);
        for (int round = 0; round < 2000; round++) {
            byte[] m = samples.get(random.nextInt(samples.size())).clone();
            for (int k = random.nextInt(8); k >= 0; k--) {
                m[random.nextInt(m.length)] = random.nextInt(4) == 0 ? (byte) random.nextInt(256)
                        : alphabet[random.nextInt(alphabet.length)];
            }
            byte[] message = m;
            try {
                MessageStructure s = parse(message);
                WireText.value(s.bodyStructure());
                WireText.value(s.body());
                assertThat(MessageStructure.fromBytes(s.toBytes()).toBytes()).isEqualTo(s.toBytes());
                for (String spec : List.of("", "HEADER", "TEXT", "1", "1.MIME", "2", "2.1", "2.HEADER", "2.TEXT", "3.1.1")) {
                    s.section(spec).ifPresent(r -> assertThat(r.offset() + r.length()).isLessThanOrEqualTo(message.length));
                }
            } catch (IOException rejected) {
                // over a limit
            }
        }
    }

    @Test
    void anyReadSplitGivesTheSameStructure() throws IOException {
        Random random = new Random(3);
        for (Map.Entry<String, byte[]> e : StructureSamples.all().entrySet()) {
            byte[] m = e.getValue();
            MessageStructure whole = parse(m);
            for (int round = 0; round < 5; round++) {
                int max = 1 + random.nextInt(7);
                MessageStructure split = MessageStructure.parse(new TrickleInputStream(new ByteArrayInputStream(m), max));
                assertThat(split.toBytes()).as(e.getKey()).isEqualTo(whole.toBytes());
            }
        }
    }

    @Test
    void serializedFormRoundTrips() throws IOException {
        for (Map.Entry<String, byte[]> e : StructureSamples.all().entrySet()) {
            MessageStructure original = parse(e.getValue());
            MessageStructure back = MessageStructure.fromBytes(original.toBytes());
            assertThat(back.size()).isEqualTo(original.size());
            assertThat(WireText.value(back.bodyStructure())).as(e.getKey()).isEqualTo(WireText.value(original.bodyStructure()));
            assertThat(WireText.value(back.body())).isEqualTo(WireText.value(original.body()));
            for (String spec : List.of("", "HEADER", "TEXT", "1", "1.MIME", "2", "2.HEADER", "2.TEXT", "2.1", "1.2.MIME", "3.1")) {
                assertThat(back.section(spec)).as(e.getKey() + " " + spec).isEqualTo(original.section(spec));
            }
            assertThat(back.toBytes()).isEqualTo(original.toBytes());
        }
    }

    @Test
    void garbageIsRejected() throws IOException {
        byte[] good = parse(crlf(StructureSamples.RFC822)).toBytes();
        assertThatThrownBy(() -> MessageStructure.fromBytes(new byte[0])).isInstanceOf(IOException.class);
        assertThatThrownBy(() -> MessageStructure.fromBytes("not a structure at all".getBytes(StandardCharsets.US_ASCII)))
                .isInstanceOf(IOException.class);
        for (int n = 0; n < good.length; n++) {
            byte[] truncated = Arrays.copyOf(good, n);
            assertThatThrownBy(() -> MessageStructure.fromBytes(truncated)).as("truncated to " + n).isInstanceOf(IOException.class);
        }
        byte[] longer = Arrays.copyOf(good, good.length + 1);
        assertThatThrownBy(() -> MessageStructure.fromBytes(longer)).isInstanceOf(IOException.class);
        byte[] bigger = good.clone();
        bigger[5] = 0x7f; // the message size's high octet: the root no longer spans it
        assertThatThrownBy(() -> MessageStructure.fromBytes(bigger)).isInstanceOf(IOException.class);
        Random random = new Random(11);
        for (int round = 0; round < 3000; round++) {
            byte[] damaged = good.clone();
            damaged[random.nextInt(damaged.length)] ^= (byte) (1 + random.nextInt(255));
            try {
                MessageStructure s = MessageStructure.fromBytes(damaged);
                // Whatever survives validation must still be a well-formed structure within the message.
                WireText.value(s.bodyStructure());
                for (String spec : List.of("", "1", "2", "2.1", "2.HEADER", "3.TEXT")) {
                    s.section(spec).ifPresent(r -> assertThat(r.offset() + r.length()).isLessThanOrEqualTo(s.size()));
                }
            } catch (IOException expected) {
                // rejected
            }
        }
    }

    @Test
    void envelopeOfTheEncapsulatedMessageSurvivesSerialization() throws IOException {
        byte[] m = crlf(StructureSamples.RFC822);
        ImapValue.ListValue bs = (ImapValue.ListValue) MessageStructure.fromBytes(parse(m).toBytes()).bodyStructure();
        ImapValue.ListValue attached = (ImapValue.ListValue) bs.items().get(1);
        assertThat(WireText.value(attached.items().get(7))).startsWith("(\"Sat, 28 Nov 2026 10:00:00 +0000\" \"original\"");
    }

    /** Hands out at most {@code max} octets per read, so lines and CRLFs straddle reads. */
    private static final class TrickleInputStream extends FilterInputStream {
        private final int max;

        TrickleInputStream(InputStream in, int max) {
            super(in);
            this.max = max;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            return super.read(b, off, Math.min(len, max));
        }
    }
}
