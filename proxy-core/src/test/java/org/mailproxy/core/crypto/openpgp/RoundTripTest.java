package org.mailproxy.core.crypto.openpgp;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class RoundTripTest {
    static Path dir;
    static TestKeys keys;

    @BeforeAll
    static void keys() throws Exception {
        dir = Files.createTempDirectory("roundtrip");
        keys = new TestKeys(dir);
    }

    @AfterAll
    static void cleanup() throws Exception {
        try (var w = Files.walk(dir)) {
            w.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Test
    void signedToTwoRecipientsArmoredAndBinary() throws Exception {
        Keyring aliceRing = keys.keyringOf("a", keys.alice, keys.bob);
        Keyring bobRing = keys.keyringOf("b", keys.bob, keys.alice);
        byte[] plain = "Subject: hi\r\n\r\nhello bob\r\n".getBytes(StandardCharsets.US_ASCII);
        for (boolean armor : new boolean[]{true, false}) {
            byte[] msg;
            try (UnlockedKey a = keys.unlock(aliceRing, keys.alice)) {
                msg = TestKeys.encrypt(aliceRing, List.of(keys.bob.fingerprint(), keys.alice.fingerprint()), a,
                        armor, plain);
            }
            assertThat(msg[0] == '-').isEqualTo(armor);
            try (UnlockedKey b = keys.unlock(bobRing, keys.bob); DecryptionResult r = TestKeys.decrypt(bobRing, b, msg)) {
                assertThat(r.forUs()).isTrue();
                assertThat(r.integrityOk()).isTrue();
                assertThat(r.aead()).isFalse();
                assertThat(r.recipientKeyIds()).hasSize(2);
                assertThat(TestKeys.plaintext(r)).isEqualTo(plain);
                assertThat(r.signatures()).hasSize(1);
                SignatureResult s = r.signatures().get(0);
                assertThat(s.status()).isEqualTo(SignatureResult.Status.VALID);
                assertThat(s.signerFingerprint()).contains(keys.alice.fingerprint());
                assertThat(s.withFrom("Alice@Example.org").fromMatches()).isTrue();
                assertThat(s.withFrom("mallory@example.org").fromMatches()).isFalse();
            }
        }
    }

    @Test
    void v6RecipientsGetSeipdV2() throws Exception {
        Keyring ring = keys.keyringOf("v", keys.vera);
        byte[] plain = new byte[300_000];
        new Random(1).nextBytes(plain);
        try (UnlockedKey v = keys.unlock(ring, keys.vera)) {
            byte[] msg = TestKeys.encrypt(ring, List.of(keys.vera.fingerprint()), v, false, plain);
            try (DecryptionResult r = TestKeys.decrypt(ring, v, msg)) {
                assertThat(r.aead()).isTrue();
                assertThat(TestKeys.plaintext(r)).isEqualTo(plain);
                assertThat(r.signatures()).extracting(SignatureResult::status)
                        .containsExactly(SignatureResult.Status.VALID);
            }
        }
    }

    @Test
    void mixedV4AndV6RecipientsFallBackToSeipdV1() throws Exception {
        Keyring ring = keys.keyringOf("m", keys.vera, keys.bob);
        try (UnlockedKey v = keys.unlock(ring, keys.vera)) {
            byte[] msg = TestKeys.encrypt(ring, List.of(keys.vera.fingerprint(), keys.bob.fingerprint()), null,
                    false, "x".getBytes());
            try (DecryptionResult r = TestKeys.decrypt(ring, v, msg)) {
                assertThat(r.aead()).isFalse();
                assertThat(r.signatures()).isEmpty();
            }
        }
    }

    @Test
    void notForUsIsACleanResult() throws Exception {
        Keyring aliceRing = keys.keyringOf("a2", keys.alice, keys.vera);
        byte[] msg = TestKeys.encrypt(aliceRing, List.of(keys.vera.fingerprint()), null, true, "x".getBytes());
        try (UnlockedKey a = keys.unlock(aliceRing, keys.alice); DecryptionResult r = TestKeys.decrypt(aliceRing, a, msg)) {
            assertThat(r.forUs()).isFalse();
            assertThat(r.plaintext()).isEmpty();
            assertThat(r.recipientKeyIds()).hasSize(1);
        }
    }

    @Test
    void unknownSignerIsReportedAsSuch() throws Exception {
        Keyring aliceRing = keys.keyringOf("a3", keys.alice, keys.bob);
        Keyring bobRing = keys.keyringOf("b3", keys.bob);
        byte[] msg;
        try (UnlockedKey a = keys.unlock(aliceRing, keys.alice)) {
            msg = TestKeys.encrypt(aliceRing, List.of(keys.bob.fingerprint()), a, false, "x".getBytes());
        }
        try (UnlockedKey b = keys.unlock(bobRing, keys.bob); DecryptionResult r = TestKeys.decrypt(bobRing, b, msg)) {
            assertThat(r.signatures()).hasSize(1);
            assertThat(r.signatures().get(0).status()).isEqualTo(SignatureResult.Status.UNKNOWN_KEY);
            assertThat(r.signatures().get(0).signerFingerprint()).isPresent();
            assertThat(r.signatures().get(0).trustworthyFor("alice@example.org")).isFalse();
        }
    }

    @Test
    void largePlaintextGoesThroughTheEncryptedSpoolFile() throws Exception {
        Keyring ring = keys.keyringOf("l", keys.bob);
        byte[] plain = new byte[5 << 20];
        new Random(2).nextBytes(plain);
        try (UnlockedKey b = keys.unlock(ring, keys.bob)) {
            byte[] msg = TestKeys.encrypt(ring, List.of(keys.bob.fingerprint()), b, true, plain);
            try (DecryptionResult r = TestKeys.decrypt(ring, b, msg)) {
                assertThat(r.plaintext().orElseThrow().onDisk()).isTrue();
                assertThat(TestKeys.plaintext(r)).isEqualTo(plain);
            }
        }
    }
}
