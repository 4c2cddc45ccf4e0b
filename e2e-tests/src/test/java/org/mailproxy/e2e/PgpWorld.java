package org.mailproxy.e2e;

import org.mailproxy.core.crypto.openpgp.KeyInfo;
import org.mailproxy.core.crypto.openpgp.KeyVersion;
import org.mailproxy.core.crypto.openpgp.Keyring;
import org.mailproxy.testing.StoredMessage;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The OpenPGP side of the encryption tests. The proxy's data directory holds alice's secret key (made by our
 * {@link Keyring}, unlocked at daemon start from an owner-only passphrase file) and the certificates of the other
 * users; each of those users has a gpg home of their own with their own secret key, made by gpg. Alice has a gpg
 * home too, with her secret key exported from our keyring, so a sender's copy can be checked the same way.
 *
 * <p>{@link #assertEncrypted} is the one judgement of "this stored message is what an encrypting proxy must send".
 */
final class PgpWorld implements AutoCloseable {

    static final String ALICE = "alice@example.test";
    static final String BOB = "bob@example.test";
    static final String CAROL = "carol@example.test";
    static final String PASSPHRASE = "e2e: four random words, stapled";

    final Path dir;
    final Path dataDir;
    final Path passphraseFile;
    final KeyInfo alice;
    final Gpg aliceGpg;
    final Map<String, Gpg> homes = new LinkedHashMap<>();
    private final Map<String, String> fingerprints = new LinkedHashMap<>();

    /**
     * @param dir        the directory {@link RunningProxy} is started in (its data directory is {@code dir/data})
     * @param keyedUsers the users (besides alice) who get a gpg key whose certificate our keyring holds
     */
    PgpWorld(Path dir, String... keyedUsers) throws Exception {
        this.dir = dir;
        this.dataDir = dir.resolve("data");
        Files.createDirectories(dataDir);
        Files.setPosixFilePermissions(dataDir, PosixFilePermissions.fromString("rwx------"));
        Keyring keyring = Keyring.open(dataDir.resolve("keys"));
        alice = keyring.generate(ALICE, PASSPHRASE.toCharArray(), KeyVersion.V4);
        fingerprints.put(ALICE, alice.fingerprint());
        passphraseFile = dir.resolve("alice.pass");
        Files.writeString(passphraseFile, PASSPHRASE + "\n");
        Files.setPosixFilePermissions(passphraseFile, PosixFilePermissions.fromString("rw-------"));

        ByteArrayOutputStream aliceSecret = new ByteArrayOutputStream();
        keyring.export(ALICE, true, true, aliceSecret);
        ByteArrayOutputStream aliceCert = new ByteArrayOutputStream();
        keyring.export(ALICE, false, true, aliceCert);
        aliceGpg = Gpg.create();
        aliceGpg.importKeys(aliceSecret.toByteArray(), PASSPHRASE);
        assertThat(aliceGpg.fingerprint(ALICE)).isEqualTo(alice.fingerprint());

        for (String user : keyedUsers) {
            Gpg home = Gpg.create();
            homes.put(user, home);
            String name = user.substring(0, 1).toUpperCase(Locale.ROOT) + user.substring(1, user.indexOf('@'));
            String fpr = home.generate(name + " Example <" + user + ">");
            fingerprints.put(user, fpr);
            List<KeyInfo> imported = keyring.importKeys(new ByteArrayInputStream(home.exportPublic(user)));
            assertThat(imported).extracting(KeyInfo::fingerprint).containsExactly(fpr);
            assertThat(imported.get(0).usable()).as("%s's certificate usable for encryption", user).isTrue();
            // every reader knows the sender's certificate, so gpg can check her signature
            home.importKeys(aliceCert.toByteArray(), "");
        }
    }

    Gpg gpg(String user) {
        return user.equals(ALICE) ? aliceGpg : homes.get(user);
    }

    String passphrase(String user) {
        return user.equals(ALICE) ? PASSPHRASE : "";
    }

    String fingerprint(String user) {
        return fingerprints.get(user);
    }

    Set<String> encryptionKeyIds(String user) {
        return gpg(user).encryptionKeyIds(user);
    }

    /** HOCON inside alice's account block: her key unlocked at start, and {@code policy} (may be empty). */
    Map<String, String> aliceAccount(String policy) {
        return Map.of(ALICE, "key.passphrase-file = \"" + passphraseFile + "\"\n" + policy);
    }

    // ---------------------------------------------------------------- judging what Dovecot stored

    /** The parts of a message as sent: its header section (with the blank line) and its body. */
    record Sent(byte[] header, byte[] body) {
        static Sent of(byte[] message) {
            int end = indexOf(message, "\r\n\r\n".getBytes(StandardCharsets.US_ASCII), 0);
            assertThat(end).as("the sent message has a header section").isPositive();
            return new Sent(Arrays.copyOf(message, end + 4), Arrays.copyOfRange(message, end + 4, message.length));
        }

        String field(String name) {
            return PgpWorld.field(new String(header, StandardCharsets.UTF_8), name);
        }
    }

    /**
     * Asserts that {@code stored} is a PGP/MIME message (RFC 3156 §4) with the obscured outer Subject, that none of
     * {@code secrets} appears anywhere in its bytes, that {@code reader}'s gpg decrypts it, reports a good signature
     * by alice's key, and that the decrypted entity carries the sent body octet for octet and the sent Subject in its
     * header. Returns the decrypted entity.
     */
    byte[] assertEncrypted(StoredMessage stored, byte[] sent, String reader, List<String> secrets) {
        return assertEncrypted(stored, sent, reader, secrets, "[...]");
    }

    /** As {@link #assertEncrypted(StoredMessage, byte[], String, List)} with a configured obscured Subject. */
    byte[] assertEncrypted(StoredMessage stored, byte[] sent, String reader, List<String> secrets,
                           String outerSubject) {
        String text = stored.text();
        assertThat(stored.header("Content-Type")).as("outer Content-Type")
                .startsWith("multipart/encrypted").contains("application/pgp-encrypted");
        assertThat(stored.header("Subject")).as("outer Subject").isEqualTo(outerSubject);
        assertThat(stored.header("Bcc")).as("outer Bcc").isNull();
        for (String s : secrets) {
            assertThat(text).as("stored bytes contain the secret text %s", s).doesNotContain(s);
        }
        Gpg.Result r = gpg(reader).decrypt(armored(stored), passphrase(reader));
        assertThat(r.exit()).as(reader + " decrypts: " + r.describe()).isZero();
        List<String> status = r.status();
        assertThat(status).as(r.describe()).contains("DECRYPTION_OKAY").contains("GOODMDC")
                .anyMatch(l -> l.startsWith("GOODSIG "))
                .anyMatch(l -> l.startsWith("VALIDSIG ") && l.toUpperCase(Locale.ROOT).endsWith(" " + alice.fingerprint()))
                .noneMatch(l -> l.startsWith("BADSIG") || l.startsWith("ERRSIG") || l.startsWith("DECRYPTION_FAILED"));

        byte[] inner = r.stdout();
        Sent original = Sent.of(sent);
        Sent decrypted = Sent.of(inner);
        assertThat(decrypted.body()).as("decrypted body vs sent body").isEqualTo(original.body());
        assertThat(decrypted.field("Subject")).as("protected Subject").isEqualTo(original.field("Subject"));
        assertThat(decrypted.field("Message-ID")).as("protected Message-ID").isEqualTo(original.field("Message-ID"));
        assertThat(decrypted.field("Bcc")).as("protected Bcc").isNull();
        String type = original.field("Content-Type");
        if (type != null && type.contains("boundary=")) {
            String boundary = type.substring(type.indexOf("boundary=") + 9).replace("\"", "").split("[;\\s]")[0];
            assertThat(decrypted.field("Content-Type")).as("inner Content-Type").contains(boundary);
        }
        return inner;
    }

    /** The armored OpenPGP message of a PGP/MIME message as stored. */
    static byte[] armored(StoredMessage stored) {
        String text = stored.text();
        int begin = text.indexOf("-----BEGIN PGP MESSAGE-----");
        String endLine = "-----END PGP MESSAGE-----";
        int end = text.indexOf(endLine, Math.max(begin, 0));
        assertThat(begin).as("an armored OpenPGP message in " + stored).isNotNegative();
        assertThat(end).as("the end of the armored OpenPGP message in " + stored).isPositive();
        return (text.substring(begin, end + endLine.length()) + "\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    /** The unfolded value of the first header field {@code name} in a header section, or null. */
    static String field(String header, String name) {
        int end = header.indexOf("\r\n\r\n");
        String head = end < 0 ? header : header.substring(0, end);
        for (String line : head.replaceAll("\r\n[ \t]+", " ").split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase(name)) {
                return line.substring(colon + 1).trim();
            }
        }
        return null;
    }

    static int indexOf(byte[] hay, byte[] needle, int from) {
        outer:
        for (int i = from; i <= hay.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /** The recipients' key IDs in a stored message's PKESK packets. */
    Set<String> recipientKeyIds(StoredMessage stored) {
        return new HashSet<>(aliceGpg.recipientKeyIds(armored(stored)));
    }

    @Override
    public void close() {
        aliceGpg.close();
        homes.values().forEach(Gpg::close);
    }
}
