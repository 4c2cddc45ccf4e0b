package org.mailproxy.e2e;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.mailproxy.e2e.RunningProxy.Local;
import org.mailproxy.e2e.RunningProxy.Upstream;
import org.mailproxy.testing.MailStack;
import org.mailproxy.testing.MailUser;
import org.mailproxy.testing.RequiresMailStack;
import org.mailproxy.testing.StoredMessage;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mailproxy.e2e.PgpWorld.ALICE;
import static org.mailproxy.e2e.PgpWorld.BOB;
import static org.mailproxy.e2e.PgpWorld.CAROL;

/**
 * A raw SMTP client against the encrypting proxy (alice's key unlocked, certificates for bob, carol and for
 * ghost@example.test, an address the provider does not serve): the provider's own refusal of a recipient reaches
 * the client at RCPT and that recipient's key is not used; the bare-CR/bare-LF "end of data" variants of SMTP
 * smuggling are refused whole with nothing delivered (SECURITY.md 13); a Bcc recipient gets a copy of their own
 * and is named in no other copy (SECURITY.md 15); To and Cc recipients share one copy; the Autocrypt field carries
 * alice's certificate; mail the client encrypted itself passes untouched.
 */
@RequiresMailStack
class EncryptedRawSmtpE2eTest {

    static final String GHOST = "ghost@example.test";

    @TempDir
    static Path classDir;

    private static PgpWorld world;
    private static RunningProxy proxy;

    @BeforeAll
    static void start(MailStack stack) throws Exception {
        world = new PgpWorld(classDir, BOB, CAROL, GHOST);
        proxy = RunningProxy.start(stack, classDir, Local.OFF, Upstream.STARTTLS, "", world.aliceAccount(""));
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.close();
        }
        if (world != null) {
            world.close();
        }
    }

    private static Set<String> keyIds(String... users) {
        Set<String> ids = new HashSet<>();
        for (String u : users) {
            ids.addAll(world.encryptionKeyIds(u));
        }
        return ids;
    }

    @Test
    void recipientsTheProviderRefusesGetItsReplyAtRcptAndAreNotEncryptedTo(MailStack stack) throws IOException {
        String marker = "rcpt-refused-" + UUID.randomUUID();
        String subjectWord = "subj" + UUID.randomUUID();
        String bodyWord = "body" + UUID.randomUUID();
        byte[] message = TestMessages.secret(ALICE, BOB, marker, subjectWord, bodyWord);
        try (RawSmtp c = RawSmtp.authenticated(proxy.smtpPort(), stack.alice())) {
            List<String> replies = c.transaction(ALICE, List.of("nobody@example.test", GHOST, BOB), message);
            assertThat(replies).as("replies to MAIL, RCPT x3, DATA, end of data").hasSize(6);
            assertThat(replies.get(0)).startsWith("250 ");
            assertThat(replies.get(1)).as("RCPT of an unknown user").matches("^550 5\\.1\\.1 .*")
                    .contains("nobody@example.test");
            assertThat(replies.get(2)).as("RCPT of an unknown user with a key").matches("^550 5\\.1\\.1 .*")
                    .contains(GHOST);
            assertThat(replies.get(3)).as("RCPT of bob").startsWith("250 ");
            assertThat(replies.get(4)).startsWith("354 ");
            assertThat(replies.get(5)).as("end of data").startsWith("250 ");
        }
        StoredMessage stored = Mailboxes.awaitDelivered(stack, stack.bob(), marker);
        world.assertEncrypted(stored, message, BOB, List.of(subjectWord, bodyWord));
        assertThat(world.recipientKeyIds(stored)).as("the keys bob's copy is encrypted to")
                .containsExactlyInAnyOrderElementsOf(keyIds(BOB, ALICE));
    }

    /** MAIL, RCPT and DATA on a fresh session, then {@code data} as given; the reply to it. */
    private static String refusedData(MailUser from, String to, String data) throws IOException {
        try (RawSmtp c = RawSmtp.authenticated(proxy.smtpPort(), from)) {
            assertThat(c.command("MAIL FROM:<" + from.email() + ">")).startsWith("250");
            assertThat(c.command("RCPT TO:<" + to + ">")).startsWith("250");
            assertThat(c.command("DATA")).startsWith("354");
            c.send(data);
            String reply = c.reply();
            // the proxy may have to drop its upstream connection to cancel the message (RFC 5321 3.8): 421 then
            assertThat(c.command("NOOP")).as("the session after a refused DATA").matches("^(250|421) .*");
            return reply;
        }
    }

    @Test
    void smugglingWithBareCrOrLfEndsOfDataIsRefusedAndNothingIsDelivered(MailStack stack) throws IOException {
        MailUser alice = stack.alice();
        String run = UUID.randomUUID().toString();
        List<String> endings = List.of("\n.\n", "\r.\r", "\n.\r\n", "\r\n.\n", "\r\n.\r", "\r.\r\n");
        for (int i = 0; i < endings.size(); i++) {
            String outer = "smuggle-outer-" + i + "-" + run;
            String inner = "smuggle-inner-" + i + "-" + run;
            String data = "From: <" + ALICE + ">\r\nTo: <" + BOB + ">\r\nSubject: outer\r\n"
                    + "Message-ID: <" + outer + "@example.test>\r\n\r\nouter body" + endings.get(i)
                    + "MAIL FROM:<" + ALICE + ">\r\nRCPT TO:<" + BOB + ">\r\nDATA\r\n"
                    + "From: <ceo@example.test>\r\nTo: <" + BOB + ">\r\nSubject: inner\r\n"
                    + "Message-ID: <" + inner + "@example.test>\r\n\r\nsmuggled\r\n.\r\n";
            assertThat(refusedData(alice, BOB, data)).as("reply to the whole DATA with ending %d %s", i,
                    endings.get(i).replace("\r", "\\r").replace("\n", "\\n")).matches("^5\\d\\d .*");
        }
        String control = "smuggle-control-" + run;
        try (RawSmtp c = RawSmtp.authenticated(proxy.smtpPort(), alice)) {
            List<String> replies = c.transaction(ALICE, List.of(BOB),
                    TestMessages.secret(ALICE, BOB, control, "s" + run, "b" + run));
            assertThat(replies.get(replies.size() - 1)).as("the control message").startsWith("250 ");
        }
        Mailboxes.awaitDelivered(stack, stack.bob(), control);
        assertThat(stack.messages(stack.bob(), "INBOX")).as("bob's INBOX after smuggling attempts")
                .filteredOn(m -> m.text().contains(run))
                .singleElement().satisfies(m -> assertThat(m.text()).contains(control));
    }

    /** alice to bob with carol in the envelope as Bcc; bob's and carol's stored copies. */
    private static StoredMessage[] sendWithBcc(MailStack stack, String marker, byte[] message) throws IOException {
        try (RawSmtp c = RawSmtp.authenticated(proxy.smtpPort(), stack.alice())) {
            List<String> replies = c.transaction(ALICE, List.of(BOB, CAROL), message);
            assertThat(replies).as("replies").hasSize(5);
            assertThat(replies.get(4)).as("end of data").startsWith("250 ");
        }
        return new StoredMessage[]{Mailboxes.awaitDelivered(stack, stack.bob(), marker),
                Mailboxes.awaitDelivered(stack, stack.carol(), marker)};
    }

    /** To bob; carol in a Bcc field when {@code bccField}, otherwise only in the envelope (as most clients do). */
    private static byte[] withBcc(boolean bccField, String marker, String subjectWord, String bodyWord) {
        return TestMessages.ascii("From: <" + ALICE + ">\r\nTo: <" + BOB + ">\r\n"
                + (bccField ? "Bcc: <" + CAROL + ">\r\n" : "")
                + "Subject: for bob " + subjectWord + "\r\nMessage-ID: <" + marker + "@example.test>\r\n"
                + "Date: Mon, 02 Mar 2026 10:06:00 +0000\r\n\r\n" + bodyWord + "\r\n");
    }

    @ParameterizedTest(name = "Bcc field in the message: {0}")
    @ValueSource(booleans = {true, false})
    void noCopyCarriesABccField(boolean bccField, MailStack stack) throws IOException {
        String marker = "bcc-" + UUID.randomUUID();
        String subjectWord = "subj" + UUID.randomUUID();
        String bodyWord = "body" + UUID.randomUUID();
        byte[] message = withBcc(bccField, marker, subjectWord, bodyWord);
        StoredMessage[] copies = sendWithBcc(stack, marker, message);
        String[] readers = {BOB, CAROL};
        for (int i = 0; i < 2; i++) {
            assertThat(copies[i].text()).as("%s's stored copy", readers[i]).doesNotContainIgnoringCase("\nBcc:");
            byte[] inner = world.assertEncrypted(copies[i], message, readers[i], List.of(subjectWord, bodyWord));
            assertThat(new String(inner, StandardCharsets.UTF_8))
                    .as("what %s decrypts", readers[i]).doesNotContainIgnoringCase("Bcc:");
        }
    }

    /**
     * "A Bcc recipient receives a copy only they can decrypt, and the other copies name no Bcc key": bob's copy is
     * encrypted to bob and alice only, carol's copy to carol (and alice), and carol's gpg decrypts it.
     */
    @ParameterizedTest(name = "Bcc field in the message: {0}")
    @ValueSource(booleans = {true, false})
    void aBccRecipientGetsASeparateCopyAndTheOthersNameNoBccKey(boolean bccField, MailStack stack)
            throws IOException {
        String marker = "bcc-copy-" + UUID.randomUUID();
        String subjectWord = "subj" + UUID.randomUUID();
        String bodyWord = "body" + UUID.randomUUID();
        byte[] message = withBcc(bccField, marker, subjectWord, bodyWord);
        StoredMessage[] copies = sendWithBcc(stack, marker, message);
        assertThat(world.recipientKeyIds(copies[0])).as("the keys bob's copy is encrypted to")
                .doesNotContainAnyElementsOf(world.encryptionKeyIds(CAROL))
                .containsExactlyInAnyOrderElementsOf(keyIds(BOB, ALICE));
        assertThat(world.recipientKeyIds(copies[1])).as("the keys carol's copy is encrypted to")
                .containsAll(world.encryptionKeyIds(CAROL))
                .doesNotContainAnyElementsOf(world.encryptionKeyIds(BOB));
        world.assertEncrypted(copies[1], message, CAROL, List.of(subjectWord, bodyWord));
        for (MailUser u : List.of(stack.bob(), stack.carol())) {
            assertThat(stack.messages(u, "INBOX")).as("copies in %s's INBOX", u)
                    .filteredOn(m -> m.text().contains(marker)).hasSize(1);
        }
    }

    @Test
    void toAndCcRecipientsShareOneCopyEachCanRead(MailStack stack) throws IOException {
        String marker = "to-cc-" + UUID.randomUUID();
        String subjectWord = "subj" + UUID.randomUUID();
        String bodyWord = "body" + UUID.randomUUID();
        byte[] message = TestMessages.ascii("From: <" + ALICE + ">\r\nTo: <" + BOB + ">\r\nCc: <" + CAROL + ">\r\n"
                + "Subject: for both " + subjectWord + "\r\nMessage-ID: <" + marker + "@example.test>\r\n"
                + "Date: Mon, 02 Mar 2026 10:07:00 +0000\r\n\r\n" + bodyWord + "\r\n");
        try (RawSmtp c = RawSmtp.authenticated(proxy.smtpPort(), stack.alice())) {
            List<String> replies = c.transaction(ALICE, List.of(BOB, CAROL), message);
            assertThat(replies.get(replies.size() - 1)).as("end of data: " + replies).startsWith("250 ");
        }
        for (MailUser u : List.of(stack.bob(), stack.carol())) {
            StoredMessage stored = Mailboxes.awaitDelivered(stack, u, marker);
            world.assertEncrypted(stored, message, u.email(), List.of(subjectWord, bodyWord));
            assertThat(world.recipientKeyIds(stored)).as("the keys %s's copy is encrypted to", u)
                    .containsExactlyInAnyOrderElementsOf(keyIds(BOB, CAROL, ALICE));
        }
    }

    /** The Autocrypt field on encrypted mail carries alice's own certificate (Autocrypt Level 1 §2.1). */
    @Test
    void theAutocryptFieldCarriesTheSendersCertificate(MailStack stack) throws IOException {
        String marker = "autocrypt-" + UUID.randomUUID();
        byte[] message = TestMessages.secret(ALICE, BOB, marker, "s", "b");
        try (RawSmtp c = RawSmtp.authenticated(proxy.smtpPort(), stack.alice())) {
            List<String> replies = c.transaction(ALICE, List.of(BOB), message);
            assertThat(replies.get(replies.size() - 1)).as("end of data: " + replies).startsWith("250 ");
        }
        StoredMessage stored = Mailboxes.awaitDelivered(stack, stack.bob(), marker);
        String autocrypt = stored.header("Autocrypt");
        assertThat(autocrypt).as("the Autocrypt field").isNotNull().startsWith("addr=" + ALICE + "; keydata=");
        byte[] keydata = java.util.Base64.getMimeDecoder().decode(autocrypt.substring(autocrypt.indexOf("keydata=") + 8));
        Gpg.Result shown = world.gpg(BOB).ok(keydata, "--with-colons", "--show-keys");
        assertThat(new String(shown.stdout(), StandardCharsets.UTF_8)).as("gpg --show-keys of the keydata")
                .contains("fpr:::::::::" + world.alice.fingerprint() + ":")
                .doesNotContain("sec:");
    }

    /** Mail the client encrypted itself passes as it came: nothing is wrapped twice or re-signed. */
    @Test
    void mailTheClientEncryptedItselfPassesUntouched(MailStack stack) throws IOException {
        String marker = "client-encrypted-" + UUID.randomUUID();
        // made with bob's gpg, which holds bob's certificate: what matters is only that it is PGP/MIME already
        Gpg.Result armored = world.gpg(BOB).ok("hello from alice's own client\r\n".getBytes(StandardCharsets.UTF_8),
                "-a", "-r", world.fingerprint(BOB), "--encrypt");
        String boundary = "b-" + marker;
        byte[] message = TestMessages.ascii("From: <" + ALICE + ">\r\nTo: <" + BOB + ">\r\n"
                + "Subject: already encrypted\r\nMessage-ID: <" + marker + "@example.test>\r\n"
                + "Date: Mon, 02 Mar 2026 10:08:00 +0000\r\nMIME-Version: 1.0\r\n"
                + "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"" + boundary
                + "\"\r\n\r\n--" + boundary + "\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\r\n--"
                + boundary + "\r\nContent-Type: application/octet-stream\r\n\r\n"
                + new String(armored.stdout(), StandardCharsets.US_ASCII).replace("\r\n", "\n").replace("\n", "\r\n")
                + "\r\n--" + boundary + "--\r\n");
        try (RawSmtp c = RawSmtp.authenticated(proxy.smtpPort(), stack.alice())) {
            List<String> replies = c.transaction(ALICE, List.of(BOB), message);
            assertThat(replies.get(replies.size() - 1)).as("end of data: " + replies).startsWith("250 ");
        }
        StoredMessage stored = Mailboxes.awaitDelivered(stack, stack.bob(), marker);
        assertThat(stored.text()).as("bob's copy ends with what the client sent")
                .endsWith(new String(message, StandardCharsets.US_ASCII));
        assertThat(stored.text()).as("one encryption layer").containsOnlyOnce("-----BEGIN PGP MESSAGE-----");
    }

    /** Only Bcc recipients ("undisclosed recipients"): every one gets a copy of their own, naming no other's key. */
    @Test
    void onlyBccRecipientsEachGetTheirOwnCopy(MailStack stack) throws IOException {
        String marker = "undisclosed-" + UUID.randomUUID();
        String bodyWord = "body" + UUID.randomUUID();
        byte[] message = TestMessages.ascii("From: <" + ALICE + ">\r\nTo: undisclosed-recipients:;\r\n"
                + "Subject: to nobody in particular\r\nMessage-ID: <" + marker + "@example.test>\r\n"
                + "Date: Mon, 02 Mar 2026 10:09:00 +0000\r\n\r\n" + bodyWord + "\r\n");
        try (RawSmtp c = RawSmtp.authenticated(proxy.smtpPort(), stack.alice())) {
            List<String> replies = c.transaction(ALICE, List.of(BOB, CAROL), message);
            assertThat(replies.get(replies.size() - 1)).as("end of data: " + replies).startsWith("250 ");
        }
        for (String[] pair : new String[][]{{BOB, CAROL}, {CAROL, BOB}}) {
            StoredMessage stored = Mailboxes.awaitDelivered(stack, stack.user(pair[0]), marker);
            world.assertEncrypted(stored, message, pair[0], List.of(bodyWord));
            assertThat(world.recipientKeyIds(stored)).as("the keys %s's copy is encrypted to", pair[0])
                    .containsExactlyInAnyOrderElementsOf(keyIds(pair[0], ALICE));
            assertThat(stack.messages(stack.user(pair[0]), "INBOX")).as("copies for %s", pair[0])
                    .filteredOn(m -> m.text().contains(marker)).hasSize(1);
        }
    }
}
