package org.mailproxy.core.crypto.openpgp;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Keys generated once per test class: alice and bob (v4), vera (v6); keyrings holding chosen subsets. */
final class TestKeys {
    static final char[] PASS = "test passphrase".toCharArray();

    final Path root;
    final Keyring all;
    final KeyInfo alice;
    final KeyInfo bob;
    final KeyInfo vera;

    TestKeys(Path root) throws Exception {
        this.root = root;
        this.all = Keyring.open(root.resolve("all"));
        this.alice = all.generate("alice@example.org", PASS, KeyVersion.V4);
        this.bob = all.generate("bob@example.org", PASS, KeyVersion.V4);
        this.vera = all.generate("vera@example.org", PASS, KeyVersion.V6);
    }

    /** A keyring with the secret key of {@code owner} and the certificates of {@code contacts}. */
    Keyring keyringOf(String name, KeyInfo owner, KeyInfo... contacts) throws Exception {
        Keyring k = Keyring.open(Files.createTempDirectory(root, name));
        if (owner != null) {
            k.importKeys(new ByteArrayInputStream(export(owner, true)));
        }
        for (KeyInfo c : contacts) {
            k.importKeys(new ByteArrayInputStream(export(c, false)));
        }
        return k;
    }

    byte[] export(KeyInfo key, boolean secret) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        all.export(key.fingerprint(), secret, false, out);
        return out.toByteArray();
    }

    UnlockedKey unlock(Keyring k, KeyInfo key) throws Exception {
        return k.unlock(key.fingerprint(), PassphraseSource.ofChars(PASS));
    }

    static byte[] encrypt(Keyring k, List<String> to, UnlockedKey signer, boolean armor, byte[] plain)
            throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (OutputStream enc = new Encryptor(k).open(out, to, signer, armor)) {
            enc.write(plain);
        }
        return out.toByteArray();
    }

    static DecryptionResult decrypt(Keyring k, UnlockedKey key, byte[] msg) throws DecryptionFailedException {
        return new Decryptor(k, List.of(key), OpenPgpLimits.DEFAULTS, null).decrypt(new ByteArrayInputStream(msg));
    }

    static byte[] plaintext(DecryptionResult r) throws IOException {
        try (InputStream in = r.plaintext().orElseThrow().openStream()) {
            return in.readAllBytes();
        }
    }
}
