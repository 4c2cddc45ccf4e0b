package org.mailproxy.core.mime;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.core.crypto.openpgp.Decryptor;
import org.mailproxy.core.crypto.openpgp.ExternalTool;
import org.mailproxy.core.crypto.openpgp.KeyInfo;
import org.mailproxy.core.crypto.openpgp.KeyVersion;
import org.mailproxy.core.crypto.openpgp.Keyring;
import org.mailproxy.core.crypto.openpgp.OpenPgpLimits;
import org.mailproxy.core.crypto.openpgp.PassphraseSource;
import org.mailproxy.core.crypto.openpgp.UnlockedKey;

import java.io.ByteArrayInputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** A Thunderbird-shaped PGP/MIME message, encrypted by the real gpg, decrypts to the protected Subject. */
@Tag("interop")
class ThunderbirdInteropTest {
    @TempDir
    Path dir;

    @Test
    void gpgEncryptedThunderbirdMessageShowsTheProtectedSubject() throws Exception {
        char[] pass = "pw".toCharArray();
        Keyring ring = Keyring.open(dir.resolve("keys"));
        KeyInfo bob = ring.generate("bob@example.org", pass, KeyVersion.V4);
        try (ExternalTool gpg = ExternalTool.require("gpg");
             UnlockedKey key = ring.unlock(bob.fingerprint(), PassphraseSource.ofChars(pass))) {
            Path cert = gpg.home.resolve("bob.asc");
            try (OutputStream o = Files.newOutputStream(cert)) {
                ring.export(bob.fingerprint(), false, true, o);
            }
            gpg.ok("--import", cert.toString());
            Path inner = gpg.home.resolve("inner.eml");
            Files.writeString(inner, PgpMimeTest.thunderbirdInner(), StandardCharsets.US_ASCII);
            Path enc = gpg.home.resolve("inner.asc");
            gpg.ok("-a", "-r", bob.fingerprint(), "-o", enc.toString(), "--encrypt", inner.toString());
            String wire = PgpMimeTest.thunderbirdOuter(Files.readString(enc, StandardCharsets.US_ASCII));
            try (DecryptedMessage m = new PgpMimeDecryptor(new Decryptor(ring, List.of(key), OpenPgpLimits.DEFAULTS,
                    null), OpenPgpLimits.DEFAULTS, null).decrypt(new ByteArrayInputStream(
                    wire.getBytes(StandardCharsets.US_ASCII)))) {
                assertThat(m.kind()).isEqualTo(DecryptedMessage.Kind.DECRYPTED);
                assertThat(m.headerProtection()).isEqualTo(DecryptedMessage.HeaderProtection.PROTECTED_HEADERS_V1);
                assertThat(m.subject()).contains("Quarterly numbers");
                String t = new String(m.message().orElseThrow().toByteArray(), StandardCharsets.UTF_8);
                assertThat(t).contains("Subject: Quarterly numbers\r\n").doesNotContain("Subject: ...\r\n");
            }
        }
    }
}
