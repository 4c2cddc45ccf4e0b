package org.mailproxy.e2e;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.core.mime.DecryptedMessage;
import org.mailproxy.e2e.EncryptedCorpus.Expect;
import org.mailproxy.e2e.EncryptedCorpus.Item;
import org.mailproxy.testing.MailStack;
import org.mailproxy.testing.MailUser;
import org.mailproxy.testing.RequiresMailStack;
import org.mailproxy.testing.StoredMessage;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mailproxy.e2e.PgpWorld.BOB;
import static org.mailproxy.e2e.PgpWorld.CAROL;

/**
 * The corpus the decrypted-view tests and benchmarks stand on, judged without the proxy: what the provider stores is
 * exactly what was built; alice's own gpg decrypts every message that should be decryptable (and finds its canary),
 * refuses the others; no canary of encrypted mail is readable at the provider; {@link PgpMimeDecryptor}, the
 * oracle of the expected views, agrees with gpg on every message.
 */
@RequiresMailStack
class EncryptedCorpusE2eTest {

    @TempDir
    static Path classDir;

    private static PgpWorld world;
    private static EncryptedCorpus corpus;
    private static String folder;
    private static Map<String, Long> uids;

    @BeforeAll
    static void seed(MailStack stack) throws Exception {
        world = new PgpWorld(classDir, BOB, CAROL);
        corpus = EncryptedCorpus.build(world, classDir.resolve("corpus"), 0);
        folder = "Corpus" + UUID.randomUUID().toString().substring(0, 8);
        uids = EncryptedCorpus.seed(stack, stack.alice(), folder, corpus.items());
    }

    @AfterAll
    static void close(MailStack stack) throws IOException {
        if (world != null) {
            world.close();
        }
        if (uids != null) {
            EncryptedCorpus.deleteFolder(stack, stack.alice(), folder);
        }
    }

    @Test
    void theProviderStoresTheOctetsBuilt(MailStack stack) {
        MailUser alice = stack.alice();
        List<StoredMessage> stored = stack.messages(alice, folder);
        assertThat(stored).hasSameSizeAs(corpus.items());
        for (Item item : corpus.items()) {
            StoredMessage s = stored.stream().filter(m -> m.uid() == uids.get(item.name())).findFirst()
                    .orElseThrow(() -> new AssertionError("no stored message with the UID of " + item));
            assertThat(s.content()).as("%s as stored", item).isEqualTo(item.raw());
            assertThat(s.seen()).as("%s is \\Seen", item).isTrue();
        }
    }

    @Test
    void gpgDecryptsExactlyTheDecryptableMessages() {
        for (Item item : corpus.items(Expect.DECRYPTED)) {
            String inner = new String(corpus.gpgPlaintext(item), StandardCharsets.UTF_8);
            assertThat(inner).as("%s decrypted by gpg", item).contains(item.canary());
            assertThat(item.text()).as("%s stored", item).doesNotContain(item.canary());
            if (item.attachment() != null) {
                assertThat(inner).as("%s carries its real Subject inside", item)
                        .contains("Subject: " + item.subject() + "\r\n").contains("protected-headers=\"v1\"");
                assertThat(PgpWorld.field(item.text(), "Subject")).isEqualTo("...");
            }
        }
        for (String name : List.of("not-for-us", "broken-mdc", "damaged")) {
            Item item = corpus.get(name);
            assertThat(item.text()).as("%s stored", item).doesNotContain(item.canary());
            int begin = item.text().indexOf("-----BEGIN PGP MESSAGE-----");
            Gpg.Result r = world.aliceGpg.decrypt(item.text().substring(begin).getBytes(StandardCharsets.UTF_8),
                    PgpWorld.PASSPHRASE);
            assertThat(r.exit()).as("alice's gpg refuses %s: %s", item, r.describe()).isNotZero();
            assertThat(r.status()).as("%s: %s", item, r.describe()).doesNotContain("DECRYPTION_OKAY");
            if (name.equals("broken-mdc")) {
                // gpg streams the plaintext out before it reaches the MDC; only its verdict tells
                assertThat(r.status()).as(r.describe()).anyMatch(l -> l.startsWith("BADMDC")
                        || l.startsWith("DECRYPTION_FAILED"));
            } else {
                assertThat(new String(r.stdout(), StandardCharsets.UTF_8)).as("%s", item)
                        .doesNotContain(item.canary());
            }
        }
        // the EFAIL message's encrypted part alone is for alice: that is what makes it an attack
        Item efail = corpus.get("efail");
        assertThat(efail.text()).doesNotContain(efail.canary());
        assertThat(new String(corpus.gpgPlaintext(efail), StandardCharsets.UTF_8)).contains(efail.canary());
        for (Item item : corpus.items(Expect.PLAIN)) {
            assertThat(item.text()).as("%s", item).contains(item.canary());
        }
    }

    @Test
    void theDecryptorAgreesWithGpg() throws Exception {
        try (EncryptedCorpus.Oracle oracle = new EncryptedCorpus.Oracle(world, classDir.resolve("spool"))) {
            Map<String, byte[]> views = corpus.expectedViews(oracle);
            for (Item item : corpus.items(Expect.DECRYPTED)) {
                byte[] view = views.get(item.name());
                String head = new String(EncryptedCorpus.headerOf(view), StandardCharsets.UTF_8);
                assertThat(PgpWorld.field(head, "Subject")).as("%s Subject", item).isEqualTo(item.subject());
                assertThat(PgpWorld.field(head, "Message-ID")).as("%s Message-ID", item).isEqualTo(item.messageId());
                String status = "decrypted; integrity=ok; signature=" + item.signature()
                        + (item.signer() == null ? "" : "; signer=" + item.signer());
                assertThat(PgpWorld.field(head, "X-Mailproxy-Status")).as("%s status", item)
                        .isEqualToIgnoringCase(status);
                byte[] gpg = corpus.gpgPlaintext(item);
                if (item.inline()) {
                    assertThat(EncryptedCorpus.base64Body(view)).as("%s text", item).isEqualTo(gpg);
                } else {
                    assertThat(EncryptedCorpus.bodyOf(view)).as("%s body vs gpg's", item)
                            .isEqualTo(EncryptedCorpus.bodyOf(gpg));
                }
            }
            for (String name : List.of("not-for-us", "broken-mdc", "damaged", "efail", "plain", "forged-status")) {
                Item item = corpus.get(name);
                try (DecryptedMessage d = oracle.decrypt(item.raw())) {
                    assertThat(d == null || d.kind() != DecryptedMessage.Kind.DECRYPTED)
                            .as("%s is not decrypted by the decryptor", item).isTrue();
                }
                assertThat(new String(views.get(name), StandardCharsets.UTF_8)).as("%s view", item)
                        .doesNotContain("decrypted;");
            }
        }
    }
}
