package org.mailproxy.imap.view;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.config.ImapSettings;
import org.mailproxy.core.crypto.openpgp.AccountKeys;
import org.mailproxy.core.crypto.openpgp.Encryptor;
import org.mailproxy.core.crypto.openpgp.KeyInfo;
import org.mailproxy.core.crypto.openpgp.KeyVersion;
import org.mailproxy.core.crypto.openpgp.Keyring;
import org.mailproxy.core.crypto.openpgp.PassphraseSource;
import org.mailproxy.core.crypto.openpgp.UnlockedKey;
import org.mailproxy.core.mime.HeaderField;
import org.mailproxy.core.mime.PgpMimeEncryptor;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** The views of an account, as the daemon opens them: keyed on the account's unlocked key, on the live keyring. */
class AccountViewsTest {

    private static final char[] PASS = "account views".toCharArray();

    @TempDir
    Path dir;

    @Test
    void aContactImportedWhileTheDaemonRunsVerifiesFromTheNextMessageOn() throws Exception {
        Path data = dir.resolve("data");
        Files.createDirectories(data, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Keyring ring = Keyring.open(data.resolve("keys"));
        KeyInfo alice = ring.generate("alice@example.com", PASS, KeyVersion.V4);
        // carol's key lives elsewhere; alice's keyring gets her certificate later
        Keyring carolsRing = Keyring.open(dir.resolve("carol"));
        KeyInfo carol = carolsRing.generate("carol@example.org", PASS, KeyVersion.V4);
        ByteArrayOutputStream aliceCert = new ByteArrayOutputStream();
        ring.export(alice.fingerprint(), false, true, aliceCert);
        carolsRing.importKeys(new ByteArrayInputStream(aliceCert.toByteArray()));
        ByteArrayOutputStream carolCert = new ByteArrayOutputStream();
        carolsRing.export(carol.fingerprint(), false, true, carolCert);

        try (AccountKeys keys = AccountKeys.open(data.resolve("keys"),
                Map.of("alice@example.com", Optional.of(alice.fingerprint())));
             UnlockedKey carolKey = carolsRing.unlock(carol.fingerprint(), PassphraseSource.ofChars(PASS.clone()))) {
            keys.unlock("alice@example.com", PassphraseSource.ofChars(PASS.clone()));
            AccountViews views = new AccountViews(data, keys, 1, 1 << 24, new ImapSettings.Limits(8192, 1 << 26, 4096,
                    65536, 64));
            try {
                assertThat(views.forAccount("nobody@example.com")).isEmpty();
                DecryptedMessages view = views.forAccount("alice@example.com").orElseThrow();
                byte[] first = signedByCarol(carolsRing, carolKey, alice.fingerprint(), "first");
                try (DecryptedMessages.Result r = view.get("INBOX", 1, 1, () -> new ByteArrayInputStream(first))) {
                    assertThat(text(r)).contains("signature=unknown-key");
                }
                ring.importKeys(new ByteArrayInputStream(carolCert.toByteArray()));
                byte[] second = signedByCarol(carolsRing, carolKey, alice.fingerprint(), "second");
                try (DecryptedMessages.Result r = view.get("INBOX", 1, 2, () -> new ByteArrayInputStream(second))) {
                    assertThat(text(r)).contains("signature=valid; signer=" + carol.fingerprint());
                }
            } finally {
                views.close();
            }
        }
    }

    private static String text(DecryptedMessages.Result r) throws Exception {
        assertThat(r.outcome()).isEqualTo(DecryptedMessages.Outcome.DECRYPTED);
        return new String(r.entry().openStream(0).readAllBytes(), StandardCharsets.UTF_8);
    }

    private static byte[] signedByCarol(Keyring carolsRing, UnlockedKey carolKey, String to, String subject)
            throws Exception {
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        List<HeaderField> headers = List.of(HeaderField.of("From", "carol@example.org"),
                HeaderField.of("To", "alice@example.com"), HeaderField.of("Subject", subject));
        try (OutputStream b = new PgpMimeEncryptor(new Encryptor(carolsRing)).open(wire, headers, List.of(to), carolKey,
                PgpMimeEncryptor.Options.DEFAULTS)) {
            b.write("hello\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        return wire.toByteArray();
    }
}
