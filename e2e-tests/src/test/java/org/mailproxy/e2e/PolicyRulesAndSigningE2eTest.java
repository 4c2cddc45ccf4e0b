package org.mailproxy.e2e;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.e2e.RunningProxy.Local;
import org.mailproxy.e2e.RunningProxy.Upstream;
import org.mailproxy.testing.MailStack;
import org.mailproxy.testing.RequiresMailStack;
import org.mailproxy.testing.StoredMessage;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mailproxy.e2e.PgpWorld.ALICE;
import static org.mailproxy.e2e.PgpWorld.BOB;
import static org.mailproxy.e2e.PgpWorld.CAROL;

/**
 * Policy rules and signing. alice's policy: {@code sign = always}, a custom obscured Subject, encryption required
 * for the domain example.test and never for carol (an address rule beats a domain rule). Mail to carol (no key)
 * goes out as PGP/MIME {@code multipart/signed} (RFC 3156 §5) whose signature gpg verifies over the first part as
 * Dovecot stored it; mail to bob is encrypted under the custom Subject; one message to both is refused, since one
 * rule requires what the other forbids. With alice's key locked (no passphrase source in the configuration), mail that would be encrypted and signed
 * gets 451 4.7.0 saying how to unlock, and nothing is sent, while mail that needs no signature still goes out.
 */
@RequiresMailStack
class PolicyRulesAndSigningE2eTest {

    @TempDir
    static Path classDir;

    private static PgpWorld signingKeys;
    private static RunningProxy signing;
    private static PgpWorld lockedKeys;
    private static RunningProxy locked;

    @TempDir
    Path dir;

    @BeforeAll
    static void start(MailStack stack) throws Exception {
        Path s = classDir.resolve("sign-always");
        signingKeys = new PgpWorld(s, BOB);
        signing = RunningProxy.start(stack, s, Local.OFF, Upstream.IMPLICIT, "",
                signingKeys.aliceAccount("policy { sign = always, obscured-subject = \"" + OBSCURED + "\"\n"
                        + "  rules = [ { match = \"example.test\", encrypt = required },\n"
                        + "            { match = \"" + CAROL + "\", encrypt = never } ] }"));
        Path l = classDir.resolve("locked");
        lockedKeys = new PgpWorld(l, BOB);
        // no key block: the key stays locked until `mailproxy keys unlock`
        locked = RunningProxy.start(stack, l, Local.OFF, Upstream.STARTTLS, "");
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[]{signing, locked, signingKeys, lockedKeys}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }
    }

    private static final String OBSCURED = "(encrypted message)";

    private static String latin1(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    @Test
    void signAlwaysSendsMultipartSignedThatGpgVerifies(MailStack stack) throws IOException {
        String marker = "signed-" + UUID.randomUUID();
        byte[] message = TestMessages.secret(ALICE, CAROL, marker, "subject-in-clear", "body-in-clear");
        try (RawSmtp c = RawSmtp.authenticated(signing.smtpPort(), stack.alice())) {
            List<String> replies = c.transaction(ALICE, List.of(CAROL), message);
            assertThat(replies.get(replies.size() - 1)).as("end of data: " + replies).startsWith("250 ");
        }
        StoredMessage stored = Mailboxes.awaitDelivered(stack, stack.carol(), marker);
        String type = stored.header("Content-Type");
        assertThat(type).as("outer Content-Type").startsWith("multipart/signed")
                .contains("protocol=\"application/pgp-signature\"").contains("micalg=pgp-");
        assertThat(stored.header("Subject")).as("the Subject of a message that is only signed")
                .isEqualTo(PgpWorld.Sent.of(message).field("Subject"));

        String boundary = type.substring(type.indexOf("boundary=") + 9).replace("\"", "").split("[;\\s]")[0];
        String text = latin1(stored.content());
        String delimiter = "--" + boundary + "\r\n";
        int first = text.indexOf(delimiter);
        assertThat(first).as("first part of " + stored).isPositive();
        int start = first + delimiter.length();
        // the CRLF before a delimiter belongs to the delimiter (RFC 2046 §5.1.1)
        int end = text.indexOf("\r\n" + delimiter, start);
        assertThat(end).as("second part of " + stored).isPositive();
        String signedPart = text.substring(start, end);
        String rest = text.substring(end);
        int sigBegin = rest.indexOf("-----BEGIN PGP SIGNATURE-----");
        String sigEndLine = "-----END PGP SIGNATURE-----";
        int sigEnd = rest.indexOf(sigEndLine);
        assertThat(sigBegin).as("an armored signature in the second part").isPositive();
        assertThat(sigEnd).isGreaterThan(sigBegin);

        Path data = Files.write(dir.resolve("signed-part"), signedPart.getBytes(StandardCharsets.ISO_8859_1));
        Path sig = Files.writeString(dir.resolve("signature.asc"),
                rest.substring(sigBegin, sigEnd + sigEndLine.length()) + "\r\n", StandardCharsets.ISO_8859_1);
        Gpg.Result r = signingKeys.gpg(BOB).verifyDetached(sig, data);
        assertThat(r.exit()).as("gpg --verify: " + r.describe()).isZero();
        assertThat(r.status()).as(r.describe()).anyMatch(l -> l.startsWith("GOODSIG "))
                .anyMatch(l -> l.startsWith("VALIDSIG ") && l.endsWith(" " + signingKeys.alice.fingerprint()))
                .noneMatch(l -> l.startsWith("BADSIG") || l.startsWith("ERRSIG"));
        PgpWorld.Sent signed = PgpWorld.Sent.of(signedPart.getBytes(StandardCharsets.ISO_8859_1));
        // 8-bit text is signed quoted-printable: signed data must be 7-bit (RFC 3156 3)
        assertThat(signedPart.chars()).as("the signed part is 7-bit").allMatch(ch -> ch < 128);
        assertThat(signed.field("Content-Transfer-Encoding")).isEqualTo("quoted-printable");
        // the sent body's last CRLF is the one that starts the delimiter line (RFC 2046 §5.1.1)
        byte[] decoded = new org.apache.james.mime4j.codec.QuotedPrintableInputStream(
                new java.io.ByteArrayInputStream((latin1(signed.body()) + "\r\n")
                        .getBytes(StandardCharsets.ISO_8859_1))).readAllBytes();
        assertThat(latin1(decoded)).as("the signed part's body, decoded, vs the sent body")
                .isEqualTo(latin1(PgpWorld.Sent.of(message).body()));
        assertThat(signed.field("Content-Type")).as("the signed part's Content-Type")
                .isEqualTo(PgpWorld.Sent.of(message).field("Content-Type"));
    }

    @Test
    void aLockedKeyGivesATemporaryFailureForMailThatMustBeSigned(MailStack stack) throws IOException {
        String run = UUID.randomUUID().toString();
        String refusedMarker = "locked-" + run;
        try (RawSmtp c = RawSmtp.authenticated(locked.smtpPort(), stack.alice())) {
            List<String> replies = c.transaction(ALICE, List.of(BOB),
                    TestMessages.secret(ALICE, BOB, refusedMarker, "s" + run, "b" + run));
            assertThat(replies).as("MAIL, RCPT, DATA").hasSize(3);
            assertThat(replies.get(2)).as("reply to DATA").matches("^451 4\\.7\\.0 .*")
                    .contains("mailproxy keys unlock " + ALICE);
            // the transaction stays open upstream (DATA never went there): RSET, then the session goes on, and
            // mail to carol needs no signature (opportunistic, no key) and is sent
            assertThat(c.command("RSET")).startsWith("250");
            String controlMarker = "unlocked-not-needed-" + run;
            byte[] control = TestMessages.secret(ALICE, CAROL, controlMarker, "cs", "cb");
            List<String> second = c.transaction(ALICE, List.of(CAROL), control);
            assertThat(second.get(second.size() - 1)).as("second message: " + second).startsWith("250 ");
            StoredMessage stored = Mailboxes.awaitDelivered(stack, stack.carol(), controlMarker);
            assertThat(stored.text()).as("carol's copy ends with what was sent")
                    .endsWith(new String(control, StandardCharsets.UTF_8));
        }
        assertThat(stack.messages(stack.bob(), "INBOX")).as("bob's INBOX")
                .noneMatch(m -> m.text().contains(refusedMarker));
    }

    @Test
    void aDomainRuleRequiresEncryptionAndAnAddressRuleForbidsIt(MailStack stack) throws IOException {
        String run = UUID.randomUUID().toString();
        String bobMarker = "rule-bob-" + run;
        byte[] toBob = TestMessages.secret(ALICE, BOB, bobMarker, "s" + run, "b" + run);
        String bothMarker = "rule-both-" + run;
        try (RawSmtp c = RawSmtp.authenticated(signing.smtpPort(), stack.alice())) {
            List<String> replies = c.transaction(ALICE, List.of(BOB), toBob);
            assertThat(replies.get(replies.size() - 1)).as("to bob: " + replies).startsWith("250 ");
            List<String> both = c.transaction(ALICE, List.of(BOB, CAROL),
                    TestMessages.secret(ALICE, BOB, bothMarker, "s" + run, "b" + run));
            assertThat(both).as("MAIL, RCPT x2, DATA").hasSize(4);
            assertThat(both.get(3)).as("reply to DATA for bob and carol").matches("^550 5\\.7\\.1 .*")
                    .contains(BOB).contains(CAROL);
        }
        StoredMessage stored = Mailboxes.awaitDelivered(stack, stack.bob(), bobMarker);
        signingKeys.assertEncrypted(stored, toBob, BOB, List.of("s" + run, "b" + run), OBSCURED);
        for (var u : List.of(stack.bob(), stack.carol())) {
            assertThat(stack.messages(u, "INBOX")).as("%s's INBOX", u).noneMatch(m -> m.text().contains(bothMarker));
        }
    }
}
