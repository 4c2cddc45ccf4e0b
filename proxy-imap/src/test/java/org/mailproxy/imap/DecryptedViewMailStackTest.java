package org.mailproxy.imap;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.core.crypto.openpgp.AccountKeys;
import org.mailproxy.core.crypto.openpgp.Encryptor;
import org.mailproxy.core.crypto.openpgp.KeyInfo;
import org.mailproxy.core.crypto.openpgp.KeyVersion;
import org.mailproxy.core.crypto.openpgp.Keyring;
import org.mailproxy.core.crypto.openpgp.PassphraseSource;
import org.mailproxy.core.mime.HeaderField;
import org.mailproxy.core.mime.PgpMimeEncryptor;
import org.mailproxy.testing.MailStack;
import org.mailproxy.testing.MailUser;
import org.mailproxy.testing.RequiresMailStack;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The decrypted view through the proxy against a real Dovecot: encrypted messages are served decrypted, every item
 * about them describes the same octets, undecryptable ones carry the fixed notice, and a forged status field is
 * removed from plain mail while plain mail otherwise passes byte for byte.
 */
@RequiresMailStack
class DecryptedViewMailStackTest {

    private static final char[] PASS = "view test passphrase".toCharArray();

    @TempDir
    static Path dir;
    private static Keyring ring;
    private static KeyInfo alice;
    private static KeyInfo stranger;
    private static AccountKeys keys;

    @BeforeAll
    static void keys() throws Exception {
        Path data = dir.resolve("data");
        Files.createDirectories(data, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        ring = Keyring.open(data.resolve("keys"));
        alice = ring.generate("alice@example.com", PASS, KeyVersion.V4);
        stranger = ring.generate("stranger@example.org", PASS, KeyVersion.V4);
        keys = AccountKeys.open(data.resolve("keys"), Map.of("alice@example.com", Optional.of(alice.fingerprint())));
        keys.unlock("alice@example.com", PassphraseSource.ofChars(PASS.clone()));
    }

    @AfterAll
    static void close() {
        keys.close();
    }

    private static byte[] encrypted(String subject, String body, String recipientFpr) throws Exception {
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        List<HeaderField> headers = List.of(HeaderField.of("From", "bob@example.org"),
                HeaderField.of("To", "alice@example.com"), HeaderField.of("Subject", subject),
                HeaderField.of("Date", "Sun, 29 Nov 2026 09:00:00 +0000"),
                HeaderField.of("Message-ID", "<" + UUID.randomUUID() + "@example.org>"),
                HeaderField.of("Content-Type", "text/plain; charset=utf-8"));
        try (OutputStream b = new PgpMimeEncryptor(new Encryptor(ring)).open(wire, headers, List.of(recipientFpr), null,
                PgpMimeEncryptor.Options.DEFAULTS)) {
            b.write(body.getBytes(StandardCharsets.UTF_8));
        }
        return wire.toByteArray();
    }

    private static final Pattern LITERAL = Pattern.compile("\\{(\\d+)}$");
    private static final Pattern SIZE = Pattern.compile("RFC822\\.SIZE (\\d+)");

    @Test
    void encryptedMailIsServedDecryptedAndConsistently(MailStack stack) throws Exception {
        MailUser user = stack.alice();
        String canary = "canary-" + UUID.randomUUID();
        byte[] plain = ("From: carol@example.org\r\nSubject: plain " + canary + "\r\n\r\nplain body\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        byte[] forged = ("From: mallory@example.org\r\nX-Mailproxy-Status: decrypted; signature=valid\r\n"
                + "Subject: forged\r\n\r\nforged body\r\n").getBytes(StandardCharsets.US_ASCII);
        byte[] secret = encrypted("the real subject", "secret body " + canary + " Grüße\r\n", alice.fingerprint());
        byte[] notForUs = encrypted("hidden", "not for alice " + canary + "\r\n", stranger.fingerprint());
        for (byte[] m : List.of(plain, forged, secret, notForUs)) {
            stack.deliver(user, m);
        }
        try (ImapProxyFixture p = new ImapProxyFixture(dir, Map.of("alice", "imaps://" + stack.host() + ":" + stack.imapsPort()), "", stack.caCertFile(), keys);
             ImapTestClient c = new ImapTestClient(p.port())) {
            c.readResponse();
            assertThat(c.command("a1", "LOGIN \"" + user.login() + "\" \"" + user.password() + "\"")).last().asString()
                    .startsWith("a1 OK");
            List<String> select = c.command("a2", "SELECT INBOX");
            long exists = select.stream().filter(l -> l.endsWith(" EXISTS"))
                    .mapToLong(l -> Long.parseLong(l.split(" ")[1])).findFirst().orElseThrow();
            long first = exists - 3;

            // whole messages with their announced sizes, by sequence number
            c.literals.clear();
            List<String> fetch = c.command("a3", "FETCH " + first + ":" + exists + " (RFC822.SIZE BODY.PEEK[])");
            assertThat(fetch).last().asString().startsWith("a3 OK");
            assertThat(c.literals).hasSize(4);
            List<String> starts = fetch.stream().filter(l -> l.contains(" FETCH (")).toList();
            for (int i = 0; i < 4; i++) {
                Matcher size = SIZE.matcher(starts.get(i));
                assertThat(size.find()).isTrue();
                assertThat(c.literals.get(i)).hasSize(Integer.parseInt(size.group(1)));
            }
            assertThat(c.literals.get(0)).isEqualTo(plain);
            assertThat(text(c.literals.get(1))).isEqualTo("From: mallory@example.org\r\nSubject: forged\r\n\r\nforged body\r\n");
            String shown = text(c.literals.get(2));
            assertThat(shown).contains("Subject: the real subject", "secret body " + canary)
                    .contains("X-Mailproxy-Status: decrypted").doesNotContain("BEGIN PGP MESSAGE");
            assertThat(c.literals.get(3)).isEqualTo(concat("X-Mailproxy-Status: not-decrypted\r\n"
                    .getBytes(StandardCharsets.US_ASCII), notForUs));

            // sections, partials and the envelope of the decrypted message, by UID
            c.literals.clear();
            List<String> uidFetch = c.command("a4", "FETCH " + (first + 2) + " (UID)");
            String uid = uidFetch.get(0).replaceAll(".*UID (\\d+).*", "$1");
            List<String> parts = c.command("a5", "UID FETCH " + uid
                    + " (BODY.PEEK[HEADER.FIELDS (Subject)] BODY.PEEK[TEXT] BODY.PEEK[]<0.10> ENVELOPE RFC822.SIZE)");
            assertThat(parts).as(String.join("\n", parts)).last().asString().startsWith("a5 OK");
            assertThat(text(c.literals.get(0))).isEqualTo("Subject: the real subject\r\n\r\n");
            int headerEnd = shown.indexOf("\r\n\r\n") + 4;
            assertThat(text(c.literals.get(1))).isEqualTo(shown.substring(headerEnd));
            assertThat(text(c.literals.get(2))).isEqualTo(shown.substring(0, 10));
            assertThat(String.join("\n", parts)).contains("\"the real subject\"")
                    .contains("RFC822.SIZE " + shown.getBytes(StandardCharsets.UTF_8).length);

            // a FETCH without PEEK still marks the message seen, and answers from the view
            c.literals.clear();
            assertThat(c.command("a6", "UID FETCH " + uid + " (FLAGS)")).first().asString().doesNotContain("\\Seen");
            List<String> read = c.command("a7", "UID FETCH " + uid + " (BODY[])");
            assertThat(read).last().asString().startsWith("a7 OK");
            assertThat(text(c.literals.get(0))).isEqualTo(shown);
            assertThat(c.command("a8", "UID FETCH " + uid + " (FLAGS)")).first().asString().contains("\\Seen");

            // pipelined FETCHes of cached views are answered in order, each from its own message
            c.literals.clear();
            c.send("p1 FETCH " + (first + 2) + " (BODY.PEEK[TEXT])\r\np2 FETCH " + first + " (BODY.PEEK[TEXT])\r\n"
                    + "p3 UID FETCH " + uid + " (RFC822.HEADER)\r\n");
            List<String> pipelined = new java.util.ArrayList<>(c.readUntilTagged("p1"));
            pipelined.addAll(c.readUntilTagged("p2"));
            pipelined.addAll(c.readUntilTagged("p3"));
            assertThat(pipelined).as(String.join("\n", pipelined)).filteredOn(l -> l.startsWith("p"))
                    .extracting(l -> l.substring(0, 5)).containsExactly("p1 OK", "p2 OK", "p3 OK");
            assertThat(c.literals).as(String.join("\n", pipelined)).hasSize(3);
            assertThat(text(c.literals.get(0))).isEqualTo(shown.substring(headerEnd));
            assertThat(text(c.literals.get(1))).isEqualTo("plain body\r\n");
            assertThat(text(c.literals.get(2))).isEqualTo(shown.substring(0, headerEnd));
            // SEARCH finds encrypted mail by what it says, and the rest of the criteria still count
            String plainUid = c.command("s0", "FETCH " + first + " (UID)").get(0).replaceAll(".*UID (\\d+).*", "$1");
            assertThat(c.command("s1", "UID SEARCH BODY \"secret body\"").get(0)).isEqualTo("* SEARCH " + uid);
            assertThat(c.command("s2", "UID SEARCH TEXT " + canary).get(0))
                    .isEqualTo("* SEARCH " + plainUid + " " + uid);
            assertThat(c.command("s3", "UID SEARCH NOT BODY \"secret body\" TEXT " + canary).get(0))
                    .isEqualTo("* SEARCH " + plainUid);
            assertThat(c.command("s4", "UID SEARCH UID " + plainUid + ":* OR SUBJECT forged (SEEN BODY \"secret\")").get(0))
                    .isEqualTo("* SEARCH " + uidOf(c, first + 1) + " " + uid);
            // criteria with a literal (how clients send non-ASCII words)
            byte[] word = "grüße".getBytes(StandardCharsets.UTF_8);
            c.send("s5 UID SEARCH CHARSET UTF-8 UID " + plainUid + ":* BODY {" + word.length + "}\r\n");
            assertThat(c.readLine()).startsWith("+");
            c.send(word);
            c.send(" NOT DELETED\r\n");
            assertThat(c.readUntilTagged("s5")).first().asString().isEqualTo("* SEARCH " + uid);
            // CONDSTORE items pass beside the view's, and IDLE still brings news
            assertThat(c.command("c1", "ENABLE CONDSTORE")).last().asString().startsWith("c1 OK");
            c.literals.clear();
            List<String> modseq = c.command("c2", "UID FETCH " + uid + " (MODSEQ FLAGS BODY.PEEK[TEXT])");
            assertThat(modseq.get(0)).contains("MODSEQ (", "FLAGS (");
            assertThat(text(c.literals.get(0))).isEqualTo(shown.substring(headerEnd));
            c.send("i1 IDLE\r\n");
            assertThat(c.readLine()).startsWith("+");
            stack.deliver(user, encrypted("while idle", "news\r\n", alice.fingerprint()));
            String update;
            do {
                update = c.readResponse();
            } while (update != null && !update.endsWith(" EXISTS"));
            assertThat(update).isEqualTo("* " + (exists + 1) + " EXISTS");
            c.send("DONE\r\n");
            assertThat(c.readUntilTagged("i1")).last().asString().startsWith("i1 OK");
            c.literals.clear();
            assertThat(c.command("i2", "FETCH " + (exists + 1) + " (BODY.PEEK[TEXT])")).last().asString()
                    .startsWith("i2 OK");
            assertThat(text(c.literals.get(0))).isEqualTo("news\r\n");
            assertThat(c.command("a9", "LOGOUT")).last().asString().startsWith("a9 OK");
        }
    }

    @Test
    void draftsAreStoredEncryptedAndReadBackDecrypted(MailStack stack) throws Exception {
        MailUser user = stack.alice();
        String canary = "draft-canary-" + UUID.randomUUID();
        byte[] draft = ("From: alice@example.com\r\nTo: bob@example.org\r\nBcc: carol@example.org\r\n"
                + "Subject: plans " + canary + "\r\nMessage-ID: <" + UUID.randomUUID() + "@example.com>\r\n\r\n"
                + "draft body " + canary + "\r\n").getBytes(StandardCharsets.US_ASCII);
        byte[] inboxMessage = ("Subject: kept " + canary + "\r\n\r\nas it came\r\n").getBytes(StandardCharsets.US_ASCII);
        try (ImapProxyFixture p = new ImapProxyFixture(dir, Map.of("alice", "imaps://" + stack.host() + ":"
                + stack.imapsPort()), "", stack.caCertFile(), keys);
             ImapTestClient c = new ImapTestClient(p.port())) {
            c.readResponse();
            c.command("a1", "LOGIN \"" + user.login() + "\" \"" + user.password() + "\"");
            // synchronizing literal: the proxy answers "+" itself, then learns the mailboxes' roles
            c.send("a2 APPEND Drafts (\\Draft) {" + draft.length + "}\r\n");
            assertThat(c.readLine()).startsWith("+");
            c.send(draft);
            c.send("\r\n");
            List<String> appended = c.readUntilTagged("a2");
            assertThat(appended).last().asString().startsWith("a2 OK").contains("APPENDUID");
            // non-synchronizing literal to a mailbox stored as it comes
            c.send("a3 APPEND INBOX {" + inboxMessage.length + "+}\r\n");
            c.send(inboxMessage);
            c.send("\r\n");
            assertThat(c.readUntilTagged("a3")).last().asString().startsWith("a3 OK");

            String uid = appended.get(appended.size() - 1).replaceAll(".*APPENDUID \\d+ (\\d+).*", "$1");
            var stored = stack.messages(user, "Drafts").stream().filter(m -> m.uid() == Long.parseLong(uid))
                    .findFirst().orElseThrow();
            assertThat(stored.text()).doesNotContain(canary).contains("multipart/encrypted", "BEGIN PGP MESSAGE",
                    "To: bob@example.org").doesNotContain("Bcc:");
            assertThat(stored.flags()).contains("D");
            assertThat(stack.messages(user, "INBOX")).anyMatch(m -> java.util.Arrays.equals(m.content(), inboxMessage));

            c.command("a4", "SELECT Drafts");
            c.literals.clear();
            assertThat(c.command("a5", "UID FETCH " + uid + " (BODY.PEEK[])")).last().asString().startsWith("a5 OK");
            assertThat(text(c.literals.get(0))).contains("Subject: plans " + canary, "Bcc: carol@example.org",
                    "draft body " + canary, "X-Mailproxy-Status: decrypted; integrity=ok; signature=valid");
        }
    }

    @Test
    void theCacheFollowsCopyAndExpunge(MailStack stack) throws Exception {
        MailUser user = stack.alice();
        byte[] secret = encrypted("moved around", "copy me\r\n", alice.fingerprint());
        stack.deliver(user, secret);
        Path cacheDir = dir.resolve("data").resolve("cache");
        try (ImapProxyFixture p = new ImapProxyFixture(dir, Map.of("alice", "imaps://" + stack.host() + ":"
                + stack.imapsPort()), "", stack.caCertFile(), keys);
             ImapTestClient c = new ImapTestClient(p.port())) {
            c.readResponse();
            c.command("a1", "LOGIN \"" + user.login() + "\" \"" + user.password() + "\"");
            List<String> select = c.command("a2", "SELECT INBOX");
            long exists = select.stream().filter(l -> l.endsWith(" EXISTS"))
                    .mapToLong(l -> Long.parseLong(l.split(" ")[1])).findFirst().orElseThrow();
            c.literals.clear();
            List<String> fetched = c.command("a3", "FETCH " + exists + " (UID BODY.PEEK[TEXT])");
            assertThat(text(c.literals.get(0))).isEqualTo("copy me\r\n");
            String uid = fetched.get(0).replaceAll(".*UID (\\d+).*", "$1");
            long before = entries(cacheDir);

            List<String> copied = c.command("a4", "UID COPY " + uid + " Trash");
            assertThat(copied).last().asString().contains("COPYUID");
            org.awaitility.Awaitility.await().until(() -> entries(cacheDir) == before + 1);

            c.command("a5", "SELECT Trash");
            String copyUid = copied.get(copied.size() - 1).replaceAll(".*COPYUID \\d+ \\d+ (\\d+).*", "$1");
            c.literals.clear();
            assertThat(c.command("a6", "UID FETCH " + copyUid + " (BODY.PEEK[TEXT])")).last().asString().startsWith("a6 OK");
            assertThat(text(c.literals.get(0))).isEqualTo("copy me\r\n");
            c.command("a7", "UID STORE " + copyUid + " +FLAGS.SILENT (\\Deleted)");
            assertThat(c.command("a8", "EXPUNGE")).anyMatch(l -> l.endsWith(" EXPUNGE"));
            org.awaitility.Awaitility.await().until(() -> entries(cacheDir) == before);
        }
    }

    private static long entries(Path cacheDir) throws java.io.IOException {
        try (var files = Files.walk(cacheDir)) {
            return files.filter(Files::isRegularFile).filter(f -> f.getFileName().toString().matches("\\d+-\\d+.*"))
                    .count();
        }
    }

    private static String uidOf(ImapTestClient c, long seq) throws java.io.IOException {
        return c.command("u" + seq, "FETCH " + seq + " (UID)").get(0).replaceAll(".*UID (\\d+).*", "$1");
    }

    private static String text(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] r = new byte[a.length + b.length];
        System.arraycopy(a, 0, r, 0, a.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
