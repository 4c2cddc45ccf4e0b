package org.mailproxy.core.crypto.openpgp;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The per-account registry of unlocked keys: which key is an account's, unlocking, wrong passphrases, wiping. */
class AccountKeysTest {
    private static final char[] PASS = "account passphrase".toCharArray();

    @TempDir
    Path dir;

    private Path keys() {
        return dir.resolve("keys");
    }

    private static Map<String, Optional<String>> accounts(String... emails) {
        Map<String, Optional<String>> m = new LinkedHashMap<>();
        for (String e : emails) {
            m.put(e, Optional.empty());
        }
        return m;
    }

    private static Optional<AccountKeys.Failure> failureOf(Callable<?> call) {
        try {
            call.call();
        } catch (KeyException e) {
            return AccountKeys.failure(e);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        throw new AssertionError("no KeyException");
    }

    @Test
    void unlocksTheSingleKeyOfTheAddressAndHoldsItUntilClose() throws Exception {
        KeyInfo alice = Keyring.open(keys()).generate("alice@example.org", PASS, KeyVersion.V4);
        AccountKeys reg = AccountKeys.open(keys(), accounts("Alice@Example.org"));
        assertThat(reg.accounts()).containsExactly("alice@example.org");
        assertThat(reg.status("alice@example.org"))
                .isEqualTo(new AccountKeys.Status("alice@example.org", AccountKeys.State.LOCKED,
                        Optional.of(alice.fingerprint()), ""));
        assertThat(reg.isUnlocked("alice@example.org")).isFalse();
        assertThat(reg.key("alice@example.org")).isEmpty();

        UnlockedKey k = reg.unlock("ALICE@example.org", PassphraseSource.ofChars(PASS));
        assertThat(k.fingerprint()).isEqualTo(alice.fingerprint());
        assertThat(reg.isUnlocked("alice@example.org")).isTrue();
        assertThat(reg.key("alice@EXAMPLE.org")).containsSame(k);
        assertThat(reg.statuses()).extracting(AccountKeys.Status::state).containsExactly(AccountKeys.State.UNLOCKED);

        reg.close();
        assertThat(reg.isUnlocked("alice@example.org")).isFalse();
        assertThatThrownBy(k::signingKey).isInstanceOf(KeyException.class);
    }

    @Test
    void aWrongPassphraseSaysSoAndNothingMoreAndTheKeyStaysLocked() throws Exception {
        KeyInfo alice = Keyring.open(keys()).generate("alice@example.org", PASS, KeyVersion.V6);
        AccountKeys reg = AccountKeys.open(keys(), accounts("alice@example.org"));
        assertThatThrownBy(() -> reg.unlock("alice@example.org", PassphraseSource.ofChars("guess".toCharArray())))
                .isInstanceOf(KeyException.class)
                .hasMessage("account alice@example.org: wrong passphrase for key " + alice.fingerprint())
                .satisfies(e -> assertThat(e.getCause().getMessage()).isNull())
                .satisfies(e -> assertThat(e.getCause().getCause()).isNull());
        assertThat(failureOf(() -> reg.unlock("alice@example.org", PassphraseSource.ofChars("x".toCharArray()))))
                .contains(AccountKeys.Failure.WRONG_PASSPHRASE);
        assertThat(reg.isUnlocked("alice@example.org")).isFalse();

        // a key unlocked once and then asked again with a wrong passphrase stays unlocked with the old key
        reg.unlock("alice@example.org", PassphraseSource.ofChars(PASS));
        assertThat(failureOf(() -> reg.unlock("alice@example.org", PassphraseSource.ofChars("y".toCharArray()))))
                .contains(AccountKeys.Failure.WRONG_PASSPHRASE);
        assertThat(reg.isUnlocked("alice@example.org")).isTrue();
    }

    @Test
    void noKeyOrSeveralKeysAreClearErrorsNotCrashes() throws Exception {
        Keyring ring = Keyring.open(keys());
        KeyInfo c1 = ring.generate("carol@example.org", PASS, KeyVersion.V4);
        KeyInfo c2 = ring.generate("carol@example.org", PASS, KeyVersion.V4);
        // a certificate without its secret key does not count
        Keyring other = Keyring.open(dir.resolve("other"));
        KeyInfo dave = other.generate("dave@example.org", PASS, KeyVersion.V4);
        ByteArrayOutputStream cert = new ByteArrayOutputStream();
        other.export(dave.fingerprint(), false, false, cert);
        ring.importKeys(new ByteArrayInputStream(cert.toByteArray()));

        AccountKeys reg = AccountKeys.open(keys(), accounts("bob@example.org", "carol@example.org", "dave@example.org"));
        AccountKeys.Status bob = reg.status("bob@example.org");
        assertThat(bob.state()).isEqualTo(AccountKeys.State.NO_SECRET_KEY);
        assertThat(bob.detail()).contains("mailproxy keys generate --email bob@example.org");
        assertThat(reg.status("dave@example.org").state()).isEqualTo(AccountKeys.State.NO_SECRET_KEY);
        AccountKeys.Status carol = reg.status("carol@example.org");
        assertThat(carol.state()).isEqualTo(AccountKeys.State.SEVERAL_KEYS);
        assertThat(carol.detail()).contains(c1.fingerprint()).contains(c2.fingerprint()).contains("key.fingerprint");
        assertThat(reg.status("eve@example.org").state()).isEqualTo(AccountKeys.State.NO_SUCH_ACCOUNT);

        assertThat(failureOf(() -> reg.unlock("bob@example.org", PassphraseSource.ofChars(PASS))))
                .contains(AccountKeys.Failure.NO_SECRET_KEY);
        assertThat(failureOf(() -> reg.unlock("carol@example.org", PassphraseSource.ofChars(PASS))))
                .contains(AccountKeys.Failure.SEVERAL_KEYS);
        assertThat(failureOf(() -> reg.unlock("eve@example.org", PassphraseSource.ofChars(PASS))))
                .contains(AccountKeys.Failure.NO_SUCH_ACCOUNT);

        // a configured fingerprint settles it; one not in the keyring is named
        AccountKeys chosen = AccountKeys.open(keys(), Map.of("carol@example.org", Optional.of(c2.fingerprint()),
                "dave@example.org", Optional.of(dave.fingerprint()), "bob@example.org", Optional.of("AB".repeat(20))));
        assertThat(chosen.unlock("carol@example.org", PassphraseSource.ofChars(PASS)).fingerprint())
                .isEqualTo(c2.fingerprint());
        assertThat(chosen.status("dave@example.org").detail()).contains("has no secret key");
        assertThat(chosen.status("bob@example.org").detail()).contains("AB".repeat(20) + " is not in the keyring");
    }

    @Test
    void anExpiredKeyIsStillTheAccountsKeyForDecryptingOldMail() throws Exception {
        // created ten days ago, valid for one day
        java.util.Date past = new java.util.Date((java.time.Instant.now().getEpochSecond() - 10 * 86400) * 1000);
        org.bouncycastle.openpgp.api.SignatureParameters.Callback oneDay =
                new org.bouncycastle.openpgp.api.SignatureParameters.Callback() {
                    @Override
                    public org.bouncycastle.openpgp.api.SignatureParameters apply(
                            org.bouncycastle.openpgp.api.SignatureParameters p) {
                        return p.setHashedSubpacketsFunction(sp -> {
                            sp.removePacketsOfType(org.bouncycastle.bcpg.SignatureSubpacketTags.KEY_EXPIRE_TIME);
                            sp.setKeyExpirationTime(false, 86400);
                            return sp;
                        });
                    }
                };
        org.bouncycastle.openpgp.api.OpenPGPKey old = Providers.API.generateKey(4, past, false)
                .withPrimaryKey(g -> g.generateLegacyEd25519KeyPair(), oneDay)
                .addUserId("<old@example.org>", oneDay)
                .addSigningSubkey(g -> g.generateLegacyEd25519KeyPair(), oneDay, null)
                .addEncryptionSubkey(g -> g.generateLegacyX25519KeyPair(), oneDay)
                .build(PASS.clone());
        Keyring ring = Keyring.open(keys());
        KeyInfo info = ring.importKeys(new ByteArrayInputStream(old.getPGPSecretKeyRing().getEncoded())).get(0);
        assertThat(info.expires()).hasValueSatisfying(e -> assertThat(e).isBefore(java.time.Instant.now()));
        assertThat(ring.fingerprintsFor("old@example.org")).isEmpty();

        AccountKeys reg = AccountKeys.open(keys(), accounts("old@example.org"));
        assertThat(reg.status("old@example.org").fingerprint()).contains(info.fingerprint());
        assertThat(reg.unlock("old@example.org", PassphraseSource.ofChars(PASS)).fingerprint())
                .isEqualTo(info.fingerprint());
    }

    @Test
    void anUnreadablePassphraseSourceIsNamed() throws Exception {
        Keyring.open(keys()).generate("alice@example.org", PASS, KeyVersion.V4);
        AccountKeys reg = AccountKeys.open(keys(), accounts("alice@example.org"));
        assertThatThrownBy(() -> reg.unlock("alice@example.org", PassphraseSource.fromFile(dir.resolve("nope"))))
                .hasMessageStartingWith("account alice@example.org: cannot read the passphrase:")
                .satisfies(e -> assertThat(AccountKeys.failure((KeyException) e))
                        .contains(AccountKeys.Failure.PASSPHRASE_UNREADABLE));
    }

    @Test
    void aKeyCreatedAfterOpeningIsFound() throws Exception {
        AccountKeys reg = AccountKeys.open(keys(), accounts("alice@example.org"));
        assertThat(reg.status("alice@example.org").state()).isEqualTo(AccountKeys.State.NO_SECRET_KEY);
        KeyInfo alice = Keyring.open(keys()).generate("alice@example.org", PASS, KeyVersion.V4);
        assertThat(reg.status("alice@example.org").fingerprint()).contains(alice.fingerprint());
        assertThat(reg.unlock("alice@example.org", PassphraseSource.ofChars(PASS)).fingerprint())
                .isEqualTo(alice.fingerprint());
    }

    @Test
    void concurrentUnlocksAndLookupsAgree() throws Exception {
        Keyring.open(keys()).generate("alice@example.org", PASS, KeyVersion.V4);
        AccountKeys reg = AccountKeys.open(keys(), accounts("alice@example.org"));
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<UnlockedKey>> unlocks = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                unlocks.add(pool.submit(() -> reg.unlock("alice@example.org", PassphraseSource.ofChars(PASS))));
                pool.submit(() -> reg.key("alice@example.org"));
            }
            for (Future<UnlockedKey> f : unlocks) {
                assertThat(f.get().fingerprint()).isEqualTo(reg.key("alice@example.org").orElseThrow().fingerprint());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void anEmptyRegistryHasNothingAndAnExposedKeyringIsRefused() throws Exception {
        AccountKeys empty = AccountKeys.empty();
        assertThat(empty.accounts()).isEmpty();
        assertThat(empty.key("alice@example.org")).isEmpty();
        assertThat(empty.status("alice@example.org").state()).isEqualTo(AccountKeys.State.NO_SUCH_ACCOUNT);
        empty.close();

        KeyInfo alice = Keyring.open(keys()).generate("alice@example.org", PASS, KeyVersion.V4);
        Files.setPosixFilePermissions(keys().resolve("secret/" + alice.fingerprint() + ".pgp"),
                PosixFilePermissions.fromString("rw-r-----"));
        assertThatThrownBy(() -> AccountKeys.open(keys(), accounts("alice@example.org")))
                .hasMessageContaining("accessible to other users");
    }
}
