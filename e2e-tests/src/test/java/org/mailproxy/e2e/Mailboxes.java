package org.mailproxy.e2e;

import org.mailproxy.testing.UpstreamStack;
import org.mailproxy.testing.MailUser;
import org.mailproxy.testing.StoredMessage;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

import static org.awaitility.Awaitility.await;

/** Finding a test's own message in Dovecot's maildir by the marker it carries. */
final class Mailboxes {

    private Mailboxes() {
    }

    static Optional<StoredMessage> find(UpstreamStack stack, MailUser user, String folder, String marker) {
        List<StoredMessage> all = stack.messages(user, folder);
        return all.stream().filter(m -> m.text().contains(marker)).findFirst();
    }

    /** Waits for Postfix to deliver the message with this marker (delivery is asynchronous) and returns it. */
    static StoredMessage awaitDelivered(UpstreamStack stack, MailUser user, String marker) {
        return await("delivery of " + marker + " to " + user.email())
                .atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(50))
                .until(() -> find(stack, user, "INBOX", marker), Optional::isPresent)
                .orElseThrow();
    }
}
