package org.mailproxy.core.crypto.openpgp;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.Period;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class KeyringTest {
    private static final char[] PASS = "correct horse".toCharArray();

    @TempDir
    Path dir;

    @Test
    void generatesV4KeyListsExportsAndReloads() throws Exception {
        Keyring k = Keyring.open(dir.resolve("keys"));
        KeyInfo info = k.generate("alice@example.org", PASS, KeyVersion.V4);
        assertThat(info.version()).isEqualTo(4);
        assertThat(info.fingerprint()).hasSize(40);
        assertThat(info.userIds()).containsExactly("<alice@example.org>");
        assertThat(info.secret()).isTrue();
        assertThat(info.canEncrypt()).isTrue();
        assertThat(info.canSign()).isTrue();
        assertThat(info.revoked()).isFalse();
        assertThat(Files.getPosixFilePermissions(dir.resolve("keys/secret/" + info.fingerprint() + ".pgp")))
                .isEqualTo(PosixFilePermissions.fromString("rw-------"));

        Keyring reopened = Keyring.open(dir.resolve("keys"));
        assertThat(reopened.list()).extracting(KeyInfo::fingerprint).containsExactly(info.fingerprint());
        assertThat(reopened.list().get(0).secret()).isTrue();
        assertThat(reopened.fingerprintsFor("ALICE@example.org")).containsExactly(info.fingerprint());

        ByteArrayOutputStream armored = new ByteArrayOutputStream();
        reopened.export("alice@example.org", false, true, armored);
        assertThat(armored.toString(StandardCharsets.US_ASCII)).startsWith("-----BEGIN PGP PUBLIC KEY BLOCK-----");

        Keyring other = Keyring.open(dir.resolve("other"));
        List<KeyInfo> imported = other.importKeys(new ByteArrayInputStream(armored.toByteArray()));
        assertThat(imported).extracting(KeyInfo::fingerprint).containsExactly(info.fingerprint());
        assertThat(imported.get(0).secret()).isFalse();
    }

    private static Instant plus(Instant created, Period p) {
        return created.atOffset(ZoneOffset.UTC).plus(p).toInstant();
    }

    @Test
    void generatedKeysExpireWhenAsked() throws Exception {
        Keyring k = Keyring.open(dir.resolve("keys"));
        for (Period p : List.of(Period.ofYears(2), Period.ofMonths(18), Period.ofDays(365))) {
            KeyInfo info = k.generate("exp" + p + "@example.org", PASS, KeyVersion.V4, p);
            assertThat(info.expires()).as(p.toString()).contains(plus(info.created(), p));
        }
        KeyInfo v6 = k.generate("v6@example.org", PASS, KeyVersion.V6, Period.ofDays(30));
        assertThat(v6.expires()).contains(plus(v6.created(), Period.ofDays(30)));
        // read back from disk, not only from what generate returned
        assertThat(Keyring.open(dir.resolve("keys")).find("v6@example.org").orElseThrow().expires())
                .contains(plus(v6.created(), Period.ofDays(30)));
        KeyInfo byDefault = k.generate("default@example.org", PASS, KeyVersion.V4);
        assertThat(Keyring.DEFAULT_VALIDITY).isEqualTo(Period.ofYears(3));
        assertThat(byDefault.expires()).contains(plus(byDefault.created(), Period.ofYears(3)));
        assertThat(byDefault.canEncrypt()).isTrue();
    }

    @Test
    void neverMeansNoExpiry() throws Exception {
        Keyring k = Keyring.open(dir.resolve("keys"));
        KeyInfo zero = k.generate("zero@example.org", PASS, KeyVersion.V4, Period.ZERO);
        KeyInfo none = k.generate("none@example.org", PASS, KeyVersion.V6, null);
        assertThat(zero.expires()).isEmpty();
        assertThat(none.expires()).isEmpty();
        assertThat(Keyring.open(dir.resolve("keys")).list()).allSatisfy(i -> assertThat(i.expires()).isEmpty());
        assertThatThrownBy(() -> k.generate("neg@example.org", PASS, KeyVersion.V4, Period.ofDays(-1)))
                .isInstanceOf(KeyException.class).hasMessageContaining("before it is created");
        assertThatThrownBy(() -> k.generate("far@example.org", PASS, KeyVersion.V4, Period.ofYears(200)))
                .isInstanceOf(KeyException.class).hasMessageContaining("out of range");
    }

    @Test
    @Tag("interop")
    void gpgSeesTheSameExpiry() throws Exception {
        try (ExternalTool gpg = ExternalTool.require("gpg")) {
            Keyring k = Keyring.open(dir.resolve("keys"));
            KeyInfo twoYears = k.generate("two@example.org", PASS, KeyVersion.V4, Period.ofYears(2));
            KeyInfo never = k.generate("never@example.org", PASS, KeyVersion.V4, Period.ZERO);
            for (KeyInfo info : List.of(twoYears, never)) {
                Path cert = dir.resolve(info.fingerprint() + ".asc");
                try (var out = Files.newOutputStream(cert)) {
                    k.export(info.fingerprint(), false, true, out);
                }
                gpg.ok("--import", cert.toString());
            }
            String colons = gpg.ok("--with-colons", "--fixed-list-mode", "--list-keys").stdout();
            // pub:<validity>:<length>:<algo>:<keyid>:<created>:<expires>:...  (GnuPG doc/DETAILS, field 7)
            assertThat(expiryField(colons, twoYears.fingerprint()))
                    .isEqualTo(Long.toString(twoYears.expires().orElseThrow().getEpochSecond()));
            assertThat(expiryField(colons, never.fingerprint())).isEmpty();
        }
    }

    @Test
    @Tag("interop")
    void gpgReadsTheAlgorithmPreferencesOfAV4KeyFromItsUserId() throws Exception {
        try (ExternalTool gpg = ExternalTool.require("gpg")) {
            Keyring k = Keyring.open(dir.resolve("keys"));
            KeyInfo info = k.generate("prefs@example.org", PASS, KeyVersion.V4);
            Path cert = dir.resolve("prefs.asc");
            try (var out = Files.newOutputStream(cert)) {
                k.export(info.fingerprint(), false, true, out);
            }
            // the self-signature right after the user ID packet (GnuPG's packet dump, one block per packet)
            String dump = gpg.ok("--list-packets", cert.toString()).stdout();
            int uid = dump.indexOf(":user ID packet:");
            assertThat(uid).isNotNegative();
            int sig = dump.indexOf(":signature packet:", uid);
            int next = dump.indexOf("\n:", sig + 1);
            String selfSig = dump.substring(sig, next < 0 ? dump.length() : next);
            // without these GnuPG 2.2 assumes TripleDES and SHA-1 for the key (RFC 4880 13.2)
            assertThat(selfSig).contains("sigclass 0x13").contains("pref-sym-algos: 9 7")
                    .contains("pref-hash-algos: 10 8").contains("pref-zip-algos: 2 1 0").contains("features: 01");
        }
    }

    /** Field 7 of the pub line followed by the fpr line for {@code fingerprint}. */
    private static String expiryField(String colons, String fingerprint) {
        String[] lines = colons.split("\n");
        for (int i = 1; i < lines.length; i++) {
            if (lines[i].startsWith("fpr:") && lines[i].contains(fingerprint) && lines[i - 1].startsWith("pub:")) {
                return lines[i - 1].split(":", -1)[6];
            }
        }
        throw new AssertionError("gpg did not list " + fingerprint + ":\n" + colons);
    }

    @Test
    void generatesV6Key() throws Exception {
        Keyring k = Keyring.open(dir.resolve("keys"));
        KeyInfo info = k.generate("bob@example.org", PASS, KeyVersion.V6);
        assertThat(info.version()).isEqualTo(6);
        assertThat(info.fingerprint()).hasSize(64);
        assertThat(info.canEncrypt()).isTrue();
        try (UnlockedKey u = k.unlock(info.fingerprint(), PassphraseSource.ofChars(PASS))) {
            assertThat(u.fingerprint()).isEqualTo(info.fingerprint());
        }
    }

    @Test
    void secretExportImportKeepsProtection() throws Exception {
        Keyring k = Keyring.open(dir.resolve("keys"));
        KeyInfo info = k.generate("carol@example.org", PASS, KeyVersion.V4);
        ByteArrayOutputStream bin = new ByteArrayOutputStream();
        k.export(info.fingerprint(), true, false, bin);
        Keyring other = Keyring.open(dir.resolve("other"));
        KeyInfo back = other.importKeys(new ByteArrayInputStream(bin.toByteArray())).get(0);
        assertThat(back.secret()).isTrue();
        assertThatThrownBy(() -> other.unlock(info.fingerprint(), PassphraseSource.ofChars("wrong".toCharArray())))
                .isInstanceOf(KeyException.class).hasMessageContaining("wrong passphrase");
        other.unlock(info.fingerprint(), PassphraseSource.ofChars(PASS)).close();
    }

    @Test
    void importsSeveralArmoredBlocksInARow() throws Exception {
        Keyring a = Keyring.open(dir.resolve("a"));
        KeyInfo one = a.generate("one@example.org", PASS, KeyVersion.V4);
        KeyInfo two = a.generate("two@example.org", PASS, KeyVersion.V6);
        ByteArrayOutputStream both = new ByteArrayOutputStream();
        a.export(one.fingerprint(), false, true, both);
        a.export(two.fingerprint(), false, true, both);
        Keyring b = Keyring.open(dir.resolve("b"));
        assertThat(b.importKeys(new ByteArrayInputStream(both.toByteArray())))
                .extracting(KeyInfo::fingerprint).containsExactly(one.fingerprint(), two.fingerprint());
        assertThat(b.delete(one.fingerprint())).isTrue();
        assertThat(b.list()).extracting(KeyInfo::fingerprint).containsExactly(two.fingerprint());
        assertThat(Files.exists(dir.resolve("b/certs/" + one.fingerprint() + ".pgp"))).isFalse();
    }

    @Test
    void refusesGarbageAndOversizedInput() throws Exception {
        Keyring k = Keyring.open(dir.resolve("keys"), new KeyLimits(1024, 1024, 4, 4, 4, 10));
        assertThatThrownBy(() -> k.importKeys(new ByteArrayInputStream(new byte[2048])))
                .isInstanceOf(KeyException.class).hasMessageContaining("larger than");
        assertThatThrownBy(() -> k.importKeys(new ByteArrayInputStream("hello".getBytes())))
                .isInstanceOf(KeyException.class);
    }

    @Test
    void daemonCheckRefusesGroupReadableKeyMaterial() throws Exception {
        Keyring k = Keyring.open(dir.resolve("keys"));
        KeyInfo info = k.generate("dave@example.org", PASS, KeyVersion.V4);
        Keyring.checkPermissions(dir.resolve("keys"));
        Files.setPosixFilePermissions(dir.resolve("keys/secret/" + info.fingerprint() + ".pgp"),
                PosixFilePermissions.fromString("rw-r-----"));
        assertThatThrownBy(() -> Keyring.checkPermissions(dir.resolve("keys")))
                .hasMessageContaining("accessible to other users");
        assertThatThrownBy(() -> Keyring.open(dir.resolve("keys"))).hasMessageContaining("accessible");
    }

    @Test
    void passphraseFromFileAndSystemdCredential() throws Exception {
        Path f = dir.resolve("pass");
        Files.writeString(f, "s3cret\n");
        assertThat(PassphraseSource.fromFile(f).passphrase()).isEqualTo("s3cret".toCharArray());
        Path creds = Files.createDirectory(dir.resolve("creds"));
        Files.writeString(creds.resolve("mailproxy-passphrase"), "cred-pass");
        assertThat(PassphraseSource.systemdCredential(creds.toString(), "mailproxy-passphrase").passphrase())
                .isEqualTo("cred-pass".toCharArray());
        assertThatThrownBy(() -> PassphraseSource.systemdCredential(null, "x").passphrase())
                .hasMessageContaining("CREDENTIALS_DIRECTORY");
    }
}
