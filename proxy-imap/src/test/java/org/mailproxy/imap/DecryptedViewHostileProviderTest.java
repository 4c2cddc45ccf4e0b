package org.mailproxy.imap;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.core.crypto.openpgp.AccountKeys;
import org.mailproxy.core.crypto.openpgp.KeyInfo;
import org.mailproxy.core.crypto.openpgp.KeyVersion;
import org.mailproxy.core.crypto.openpgp.Keyring;
import org.mailproxy.core.crypto.openpgp.PassphraseSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The decrypted view against a provider that misbehaves: a FETCH response that breaks the grammar ends that session
 * with a BYE and no other, and a message that looks encrypted but is garbage is shown as stored with the notice.
 */
class DecryptedViewHostileProviderTest {

    private static final char[] PASS = "hostile provider".toCharArray();
    private static final String PGP_MIME_STRUCTURE = "((\"application\" \"pgp-encrypted\" NIL NIL NIL \"7bit\" 12 1)"
            + "(\"application\" \"octet-stream\" NIL NIL NIL \"7bit\" 40 NIL NIL NIL) \"encrypted\" "
            + "(\"protocol\" \"application/pgp-encrypted\" \"boundary\" \"b\") NIL NIL)";

    @TempDir
    static Path dir;
    private static AccountKeys keys;

    @BeforeAll
    static void keys() throws Exception {
        Path data = dir.resolve("data");
        Files.createDirectories(data, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Keyring ring = Keyring.open(data.resolve("keys"));
        KeyInfo alice = ring.generate("alice@example.com", PASS, KeyVersion.V4);
        keys = AccountKeys.open(data.resolve("keys"), Map.of("alice@example.com", Optional.of(alice.fingerprint())));
        keys.unlock("alice@example.com", PassphraseSource.ofChars(PASS.clone()));
    }

    @AfterAll
    static void close() {
        keys.close();
    }

    private static ImapTestClient session(ImapProxyFixture p) throws Exception {
        ImapTestClient c = new ImapTestClient(p.port());
        c.readResponse();
        assertThat(c.command("a1", "LOGIN alice s3cret")).last().asString().startsWith("a1 OK");
        assertThat(c.command("a2", "SELECT INBOX")).last().asString().startsWith("a2 OK");
        return c;
    }

    @Test
    void aBrokenFetchResponseToTheProbeEndsThatSessionOnly() throws Exception {
        try (FakeImapServer upstream = new FakeImapServer();
             ImapProxyFixture p = new ImapProxyFixture(dir, Map.of("alice", upstream.url()), "",
                     TestCertificates.TRUSTED_PEM, keys)) {
            upstream.script.fetchAnswer = line -> line.contains("BODYSTRUCTURE") ? "* 1 FETCH (UID)\r\n"
                    : "* 1 FETCH (FLAGS (\\Seen))\r\n";
            try (ImapTestClient c = session(p)) {
                List<String> answer = c.command("a3", "FETCH 1 (BODY.PEEK[])");
                assertThat(answer).first().asString().startsWith("* BYE").contains("invalid response");
                assertThat(c.closedByPeer()).isTrue();
            }
            try (ImapTestClient other = session(p)) {
                assertThat(other.command("b3", "FETCH 1 (FLAGS)")).containsExactly("* 1 FETCH (FLAGS (\\Seen))",
                        "b3 OK fetched");
            }
        }
    }

    @Test
    void aMessageThatLooksEncryptedButIsGarbageIsShownAsStoredWithTheNotice() throws Exception {
        byte[] garbage = ("Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=b\r\n\r\n"
                + "--b\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n--b\r\n"
                + "Content-Type: application/octet-stream\r\n\r\n-----BEGIN PGP MESSAGE-----\r\n\r\nnot openpgp\r\n"
                + "-----END PGP MESSAGE-----\r\n--b--\r\n").getBytes(StandardCharsets.US_ASCII);
        try (FakeImapServer upstream = new FakeImapServer();
             ImapProxyFixture p = new ImapProxyFixture(dir, Map.of("alice", upstream.url()), "",
                     TestCertificates.TRUSTED_PEM, keys)) {
            upstream.script.fetchAnswer = line -> line.contains("BODYSTRUCTURE")
                    ? "* 1 FETCH (UID 1 BODYSTRUCTURE " + PGP_MIME_STRUCTURE
                    + " BODY[HEADER.FIELDS (X-MAILPROXY-STATUS)] {2}\r\n\r\n BODY[TEXT]<0> {5}\r\n--b\r\n)\r\n"
                    : "* 1 FETCH (UID 1 BODY[] {" + garbage.length + "}\r\n" + new String(garbage, StandardCharsets.US_ASCII)
                    + ")\r\n";
            try (ImapTestClient c = session(p)) {
                List<String> answer = c.command("a3", "FETCH 1 (RFC822.SIZE BODY.PEEK[])");
                assertThat(answer).last().asString().startsWith("a3 OK");
                byte[] shown = c.literals.get(c.literals.size() - 1);
                String expected = "X-Mailproxy-Status: not-decrypted\r\n" + new String(garbage, StandardCharsets.US_ASCII);
                assertThat(new String(shown, StandardCharsets.US_ASCII)).isEqualTo(expected);
                assertThat(answer.get(0)).contains("RFC822.SIZE " + expected.length());
            }
        }
    }
}
