package org.mailproxy.e2e;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
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
import org.mailproxy.testing.UpstreamStack;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mailproxy.e2e.PgpWorld.ALICE;
import static org.mailproxy.e2e.PgpWorld.BOB;
import static org.mailproxy.e2e.PgpWorld.CAROL;

/**
 * The provider's connection breaks while an encrypted message streams to it (a relay between the proxy and
 * Postfix resets both sides after a number of octets): the client gets a temporary failure, never a 250
 * (SECURITY.md 14: the client keeps the message); Dovecot gets nothing of it; when the client sends the same
 * message again it is delivered once, encrypted, whole. A provider that resets every connection gives a 4xx too.
 */
@RequiresMailStack
class EncryptedUpstreamCutE2eTest {

    @TempDir
    static Path classDir;

    private static PgpWorld world;
    private static CuttingRelay relay;
    private static RunningProxy proxy;

    /** The mail stack with its submissions port behind the relay (the stack's certificate names 127.0.0.1). */
    private record Relayed(MailStack stack, int relayPort) implements UpstreamStack {
        @Override
        public String host() {
            return "127.0.0.1";
        }

        @Override
        public int imapsPort() {
            return stack.imapsPort();
        }

        @Override
        public int imapStarttlsPort() {
            return stack.imapStarttlsPort();
        }

        @Override
        public int submissionPort() {
            return stack.submissionPort();
        }

        @Override
        public int submissionsPort() {
            return relayPort;
        }

        @Override
        public Path caCertFile() {
            return stack.caCertFile();
        }

        @Override
        public List<MailUser> users() {
            return stack.users();
        }

        @Override
        public void deliver(MailUser user, String folder, byte[] rfc822) {
            stack.deliver(user, folder, rfc822);
        }

        @Override
        public List<StoredMessage> messages(MailUser user, String folder) {
            return stack.messages(user, folder);
        }

        @Override
        public void clearMailbox(MailUser user) {
            stack.clearMailbox(user);
        }

        @Override
        public void stopPostfix() {
            stack.stopPostfix();
        }

        @Override
        public void startPostfix() {
            stack.startPostfix();
        }
    }

    @BeforeAll
    static void start(MailStack stack) throws Exception {
        world = new PgpWorld(classDir, BOB, CAROL);
        relay = new CuttingRelay("127.0.0.1", stack.submissionsPort());
        proxy = RunningProxy.start(new Relayed(stack, relay.port()), classDir, Local.OFF, Upstream.IMPLICIT, "",
                world.aliceAccount(""));
    }

    @AfterAll
    static void stop() throws IOException {
        if (proxy != null) {
            proxy.close();
        }
        if (relay != null) {
            relay.close();
        }
        if (world != null) {
            world.close();
        }
    }

    @BeforeEach
    void noCut() {
        relay.cutAfter(-1);
    }

    /**
     * One message on a fresh session; every reply in order, stopping at the first one that is neither 2xx nor 3xx.
     * A proxy that closes the connection while the message is still being written ends the list with "closed".
     */
    private static List<String> send(MailUser from, byte[] message) throws IOException {
        return send(from, List.of(BOB), message);
    }

    private static List<String> send(MailUser from, List<String> to, byte[] message) throws IOException {
        List<String> replies = new ArrayList<>();
        List<String> commands = new ArrayList<>(Arrays.asList(null, "EHLO client.example.test",
                "AUTH PLAIN " + RawSmtp.plain(from.login(), from.password()), "MAIL FROM:<" + from.email() + ">"));
        to.forEach(t -> commands.add("RCPT TO:<" + t + ">"));
        commands.add("DATA");
        try (RawSmtp c = new RawSmtp(proxy.smtpPort())) {
            for (String command : commands) {
                String reply = command == null ? c.reply() : c.command(command);
                replies.add(reply == null ? "closed" : reply);
                if (reply == null || !reply.matches("^[23]\\d\\d .*")) {
                    return replies;
                }
            }
            try {
                c.send(RawSmtp.stuffed(message));
                c.send(".\r\n");
            } catch (IOException e) {
                replies.add("closed while writing: " + e.getMessage());
            }
            String end = c.reply();
            replies.add(end == null ? "closed" : end);
        }
        return replies;
    }

    @ParameterizedTest(name = "cut after {0} octets from the proxy")
    @ValueSource(longs = {100_000, 500_000})
    void cutMidDataGivesATemporaryFailureAndTheRetryArrivesOnce(long cutAfter, MailStack stack) throws IOException {
        String marker = "cut-" + cutAfter + "-" + UUID.randomUUID();
        byte[] message = TestMessages.withAttachment(ALICE, BOB, marker, 600_000, cutAfter);
        int cutsBefore = relay.cuts();
        relay.cutAfter(cutAfter);
        List<String> replies = send(stack.alice(), message);
        assertThat(relay.cuts()).as("the relay cut the provider's connection").isEqualTo(cutsBefore + 1);
        assertThat(replies).as("what the client heard").hasSize(7);
        assertThat(replies.get(5)).as("reply to DATA").startsWith("354 ");
        assertThat(replies.get(6)).as("reply to the end of data").matches("^4\\d\\d .*");

        relay.cutAfter(-1);
        List<String> retry = send(stack.alice(), message);
        assertThat(retry.get(retry.size() - 1)).as("the retry: " + retry).startsWith("250 ");
        StoredMessage stored = Mailboxes.awaitDelivered(stack, stack.bob(), marker);
        world.assertEncrypted(stored, message, BOB, List.of("See the attachment."));
        assertThat(stack.messages(stack.bob(), "INBOX")).as("copies of the message in bob's INBOX")
                .filteredOn(m -> m.text().contains(marker)).hasSize(1);
    }

    /** The provider unreachable (every connection reset at once): a 4xx before DATA, and the same daemon recovers. */
    @Test
    void providerResettingEveryConnectionGivesATemporaryFailure(MailStack stack) throws IOException {
        String marker = "reset-" + UUID.randomUUID();
        byte[] message = TestMessages.secret(ALICE, BOB, marker, "s", "b");
        relay.cutAfter(0);
        List<String> replies = send(stack.alice(), message);
        assertThat(replies.get(replies.size() - 1)).as("what the client heard: " + replies).matches("^4\\d\\d .*");
        assertThat(replies).as("no 354: nothing of the message was taken").noneMatch(r -> r.startsWith("354"));

        relay.cutAfter(-1);
        List<String> retry = send(stack.alice(), message);
        assertThat(retry.get(retry.size() - 1)).as("the retry: " + retry).startsWith("250 ");
        StoredMessage stored = Mailboxes.awaitDelivered(stack, stack.bob(), marker);
        world.assertEncrypted(stored, message, BOB, List.of());
        assertThat(stack.messages(stack.bob(), "INBOX")).filteredOn(m -> m.text().contains(marker)).hasSize(1);
    }

    /**
     * Sends alice's message to bob with carol as Bcc and breaks the connection while carol's own copy streams, after
     * bob's copy was accepted. Asserts what must hold whatever the reply says: a temporary failure, bob has exactly
     * one copy (naming no key of carol's), carol none. Returns the client's reply to the end of data.
     */
    private static String cutDuringTheBccCopy(MailStack stack) throws IOException {
        String marker = "cut-bcc-" + UUID.randomUUID();
        // about 1.1 MB of armored ciphertext per copy: the cut falls in the middle of the second (carol's) copy
        byte[] message = TestMessages.withAttachment(ALICE, BOB, marker, 600_000, 7);
        int cutsBefore = relay.cuts();
        relay.cutAfter(1_700_000);
        List<String> replies = send(stack.alice(), List.of(BOB, CAROL), message);
        assertThat(relay.cuts()).as("the relay cut the provider's connection").isEqualTo(cutsBefore + 1);
        assertThat(replies).as("what the client heard").hasSize(8);
        assertThat(replies.get(7)).as("reply to the end of data").matches("^4\\d\\d .*");
        StoredMessage stored = Mailboxes.awaitDelivered(stack, stack.bob(), marker);
        world.assertEncrypted(stored, message, BOB, List.of("See the attachment."));
        assertThat(world.recipientKeyIds(stored)).doesNotContainAnyElementsOf(world.encryptionKeyIds(CAROL));
        assertThat(stack.messages(stack.bob(), "INBOX")).filteredOn(m -> m.text().contains(marker)).hasSize(1);
        assertThat(stack.messages(stack.carol(), "INBOX")).filteredOn(m -> m.text().contains(marker)).isEmpty();
        return replies.get(7);
    }

    @Test
    void cutDuringTheBccCopyGivesATemporaryFailureAndTheBccRecipientNothing(MailStack stack) throws IOException {
        cutDuringTheBccCopy(stack);
    }

    /**
     * As above, and the reply says bob has the message already, so that the user knows a retry gives bob a second
     * copy (what the proxy answers when the provider refuses a later copy).
     */
    @Test
    void cutDuringTheBccCopyTellsTheClientWhoHasItAlready(MailStack stack) throws IOException {
        assertThat(cutDuringTheBccCopy(stack)).as("reply to the end of data").contains("Delivered to " + BOB);
    }
}
