package org.mailproxy.imap.view;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.core.cache.MessageCache;
import org.mailproxy.core.crypto.openpgp.Decryptor;
import org.mailproxy.core.crypto.openpgp.DetachedVerifier;
import org.mailproxy.core.crypto.openpgp.Encryptor;
import org.mailproxy.core.crypto.openpgp.KeyInfo;
import org.mailproxy.core.crypto.openpgp.KeyVersion;
import org.mailproxy.core.crypto.openpgp.Keyring;
import org.mailproxy.core.crypto.openpgp.OpenPgpLimits;
import org.mailproxy.core.crypto.openpgp.PassphraseSource;
import org.mailproxy.core.crypto.openpgp.UnlockedKey;
import org.mailproxy.core.mime.DecryptedMessage;
import org.mailproxy.core.mime.HeaderField;
import org.mailproxy.core.mime.PgpMimeDecryptor;
import org.mailproxy.core.mime.PgpMimeEncryptor;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Decrypt once into the account's cache, answer from it after; failures cached without their reason. */
class DecryptedMessagesTest {
    private static final char[] PASS = "pass".toCharArray();

    @TempDir
    static Path dir;
    static Keyring ring;
    static KeyInfo alice;
    static KeyInfo bob;
    static UnlockedKey aliceKey;
    static MessageCache cache;
    static DecryptedMessages view;

    @BeforeAll
    static void setUp() throws Exception {
        ring = Keyring.open(dir.resolve("keys"));
        alice = ring.generate("alice@example.org", PASS, KeyVersion.V4);
        bob = ring.generate("bob@example.org", PASS, KeyVersion.V4);
        aliceKey = ring.unlock(alice.fingerprint(), PassphraseSource.ofChars(PASS));
        cache = MessageCache.open(dir.resolve("cache"), ring, aliceKey);
        view = new DecryptedMessages(cache, decryptor());
    }

    @AfterAll
    static void tearDown() throws IOException {
        cache.close();
        aliceKey.close();
    }

    private static PgpMimeDecryptor decryptor() {
        return new PgpMimeDecryptor(new Decryptor(ring, List.of(aliceKey), OpenPgpLimits.DEFAULTS, null),
                new DetachedVerifier(ring), OpenPgpLimits.DEFAULTS, null);
    }

    /** A PGP/MIME message to {@code to}, as a provider would store it. */
    private static byte[] encrypted(String subject, String body, String to) throws Exception {
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        List<HeaderField> headers = List.of(HeaderField.of("From", "bob@example.org"),
                HeaderField.of("To", "alice@example.org"), HeaderField.of("Subject", subject),
                HeaderField.of("Content-Type", "text/plain; charset=utf-8"));
        try (OutputStream b = new PgpMimeEncryptor(new Encryptor(ring)).open(wire, headers, List.of(to), null,
                PgpMimeEncryptor.Options.DEFAULTS)) {
            b.write(body.getBytes(StandardCharsets.UTF_8));
        }
        return wire.toByteArray();
    }

    private static DecryptedMessages.RawMessage counting(byte[] raw, AtomicInteger fetches) {
        return () -> {
            fetches.incrementAndGet();
            return new ByteArrayInputStream(raw);
        };
    }

    @Test
    void decryptsOnceAndAnswersFromTheCacheAfter() throws Exception {
        byte[] raw = encrypted("Quarterly plans", "The numbers are in.\r\n", alice.fingerprint());
        byte[] expected;
        try (DecryptedMessage direct = decryptor().decrypt(new ByteArrayInputStream(raw))) {
            expected = direct.message().orElseThrow().toByteArray();
        }
        AtomicInteger fetches = new AtomicInteger();
        for (int i = 0; i < 3; i++) {
            try (DecryptedMessages.Result r = view.get("INBOX", 7, 1, counting(raw, fetches))) {
                assertThat(r.structure().size()).isEqualTo(expected.length);
                assertThat(r.outcome()).isEqualTo(DecryptedMessages.Outcome.DECRYPTED);
                assertThat(r.entry().size()).isEqualTo(expected.length);
                assertThat(r.entry().openStream(0).readAllBytes()).isEqualTo(expected);
            }
        }
        assertThat(fetches).hasValue(1);
        assertThat(new String(expected, StandardCharsets.UTF_8)).contains("Subject: Quarterly plans")
                .endsWith("The numbers are in.\r\n");
    }

    @Test
    void undecryptableMessagesAreRememberedWithoutTheirReason() throws Exception {
        byte[] notForUs = encrypted("x", "for bob only\r\n", bob.fingerprint());
        byte[] damaged = encrypted("y", "z\r\n", alice.fingerprint());
        String text = new String(damaged, StandardCharsets.ISO_8859_1);
        int armor = text.indexOf("-----BEGIN PGP MESSAGE-----");
        int line = text.indexOf("\r\n", text.indexOf("\r\n\r\n", armor) + 4) + 2 + 10;
        damaged[line] = (byte) (damaged[line] == 'A' ? 'B' : 'A');
        long uid = 10;
        for (byte[] raw : List.of(notForUs, damaged)) {
            AtomicInteger fetches = new AtomicInteger();
            uid++;
            int afterFirst = 0;
            for (int i = 0; i < 2; i++) {
                try (DecryptedMessages.Result r = view.get("INBOX", 7, uid, counting(raw, fetches))) {
                    assertThat(r.outcome()).isEqualTo(DecryptedMessages.Outcome.UNDECRYPTABLE);
                    // shown as stored, with the one fixed notice whatever the reason
                    assertThat(r.entry().openStream(0).readAllBytes()).isEqualTo(
                            concat(DecryptedMessages.NOTICE.getBytes(StandardCharsets.US_ASCII), raw));
                    assertThat(r.structure().size()).isEqualTo(r.entry().size());
                }
                if (i == 0) {
                    afterFirst = fetches.get();
                }
            }
            assertThat(fetches).hasValue(afterFirst);
        }
    }

    @Test
    void plainMailLosesAForgedStatusFieldAndNothingElse() throws Exception {
        byte[] forged = ("From: mallory@example.org\r\nX-Mailproxy-Status: decrypted; signature=valid\r\n"
                + "x-mailproxy-status: decrypted\r\n  folded\r\nSubject: hi\r\n\r\nX-Mailproxy-Status: in the body\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        try (DecryptedMessages.Result r = view.get("INBOX", 7, 70, () -> new ByteArrayInputStream(forged))) {
            assertThat(r.outcome()).isEqualTo(DecryptedMessages.Outcome.CLEANED);
            assertThat(new String(r.entry().openStream(0).readAllBytes(), StandardCharsets.US_ASCII)).isEqualTo(
                    "From: mallory@example.org\r\nSubject: hi\r\n\r\nX-Mailproxy-Status: in the body\r\n");
        }
    }

    @Test
    void aDecryptedMessageWithMorePartsThanTheLimitIsShownAsStoredWithTheNotice() throws Exception {
        StringBuilder deep = new StringBuilder();
        for (int i = 0; i < 1500; i++) {
            deep.append("--top\r\nContent-Type: text/plain\r\n\r\npart ").append(i).append("\r\n");
        }
        deep.append("--top--\r\n");
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        List<HeaderField> headers = List.of(HeaderField.of("From", "bob@example.org"), HeaderField.of("Subject", "deep"),
                HeaderField.of("Content-Type", "multipart/mixed; boundary=top"));
        try (OutputStream b = new PgpMimeEncryptor(new Encryptor(ring)).open(wire, headers,
                List.of(alice.fingerprint()), null, PgpMimeEncryptor.Options.DEFAULTS)) {
            b.write(deep.toString()
                    .getBytes(StandardCharsets.US_ASCII));
        }
        byte[] raw = wire.toByteArray();
        try (DecryptedMessages.Result r = view.get("INBOX", 7, 80, () -> new ByteArrayInputStream(raw))) {
            assertThat(r.outcome()).isEqualTo(DecryptedMessages.Outcome.UNDECRYPTABLE);
            assertThat(r.entry().openStream(0).readAllBytes()).isEqualTo(
                    concat(DecryptedMessages.NOTICE.getBytes(StandardCharsets.US_ASCII), raw));
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    @Test
    void aFailedFetchLeavesNothingBehind() throws Exception {
        assertThatThrownBy(() -> view.get("INBOX", 7, 50, () -> {
            throw new IOException("provider gone");
        })).hasMessage("provider gone");
        assertThat(cache.get("INBOX", 7, 50)).isEmpty();
        byte[] raw = encrypted("later", "works\r\n", alice.fingerprint());
        try (DecryptedMessages.Result r = view.get("INBOX", 7, 50, () -> new ByteArrayInputStream(raw))) {
            assertThat(r.outcome()).isEqualTo(DecryptedMessages.Outcome.DECRYPTED);
        }
    }

    @Test
    void sessionsAskingAtOnceDecryptOnce() throws Exception {
        byte[] raw = encrypted("shared", "one decryption\r\n", alice.fingerprint());
        AtomicInteger fetches = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Callable<Long>> tasks = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                tasks.add(() -> {
                    try (DecryptedMessages.Result r = view.get("Archive", 3, 99, counting(raw, fetches))) {
                        return r.entry().size();
                    }
                });
            }
            List<Long> sizes = new ArrayList<>();
            for (Future<Long> f : pool.invokeAll(tasks)) {
                sizes.add(f.get());
            }
            assertThat(sizes).hasSize(8).allMatch(s -> s > 0 && s.equals(sizes.get(0)));
        } finally {
            pool.shutdown();
        }
        assertThat(fetches).hasValue(1);
    }
}
