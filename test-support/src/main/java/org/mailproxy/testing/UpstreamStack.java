package org.mailproxy.testing;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;

/**
 * A running test mail provider: Dovecot for IMAP and Postfix for submission, with a test CA. Implemented by the
 * loopback {@link MailStack} and by a container; end-to-end tests written against this interface run against both.
 *
 * <p>IMAP: implicit TLS on {@link #imapsPort()}, STARTTLS on {@link #imapStarttlsPort()} (RFC 8314, RFC 3501 6.2.1).
 * Submission (RFC 6409): STARTTLS required on {@link #submissionPort()}, implicit TLS on {@link #submissionsPort()};
 * AUTH PLAIN/LOGIN only after TLS; only authenticated clients may send; recipients outside {@link #domain()} and
 * unknown users of the domain are refused at RCPT. Delivered mail lands in the recipient's INBOX. The folders
 * Drafts, Sent and Trash exist with their SPECIAL-USE flags (RFC 6154).
 */
public interface UpstreamStack {

    /** Always {@code "localhost"}: the name in the server certificate. */
    String host();

    int imapsPort();

    int imapStarttlsPort();

    /** Submission with mandatory STARTTLS. */
    int submissionPort();

    /** Submission with implicit TLS. */
    int submissionsPort();

    /** The test CA certificate (PEM); the only CA that signed the servers' certificate. */
    Path caCertFile();

    /** The mail domain every user belongs to: {@code example.test}. */
    default String domain() {
        return "example.test";
    }

    /** alice, bob and carol, in that order. */
    List<MailUser> users();

    default MailUser alice() {
        return users().get(0);
    }

    default MailUser bob() {
        return users().get(1);
    }

    default MailUser carol() {
        return users().get(2);
    }

    /** The user with this address; throws if there is none. */
    default MailUser user(String email) {
        return users().stream()
                .filter(u -> u.email().equalsIgnoreCase(email))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no such test user: " + email));
    }

    /** Stores a message in the user's INBOX directly through Dovecot (no SMTP involved). */
    default void deliver(MailUser user, byte[] rfc822) {
        deliver(user, "INBOX", rfc822);
    }

    /** Stores a message in a folder of the user (INBOX, Sent, Drafts, Trash or a folder that exists). */
    void deliver(MailUser user, String folder, byte[] rfc822);

    /** The messages Dovecot stored in a folder, in UID order. */
    List<StoredMessage> messages(MailUser user, String folder);

    /**
     * Waits until a folder holds at least {@code count} messages (Postfix delivers asynchronously) and returns
     * them; fails with an {@link AssertionError} naming what was there after the timeout.
     */
    default List<StoredMessage> awaitMessages(MailUser user, String folder, int count, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<StoredMessage> found = messages(user, folder);
            if (found.size() >= count) {
                return found;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("expected " + count + " message(s) in " + user.email() + " " + folder
                        + " within " + timeout + ", found " + found);
            }
            try {
                Thread.sleep(25);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting for mail", e);
            }
        }
    }

    /** Expunges every message of the user in every folder (the folders stay). */
    void clearMailbox(MailUser user);

    /** Expunges every message of every user. */
    default void clearAllMailboxes() {
        users().forEach(this::clearMailbox);
    }

    /** Stops Postfix (both submission ports refuse connections) until {@link #startPostfix()}. */
    void stopPostfix();

    /** Starts Postfix again after {@link #stopPostfix()}; returns when both ports accept connections. */
    void startPostfix();

    /** A TLS client context trusting only the test CA. */
    default SSLContext clientSslContext() {
        return TestCa.sslContext(caCertFile());
    }

    /** A TLS socket factory trusting only the test CA. */
    default SSLSocketFactory clientSocketFactory() {
        return clientSslContext().getSocketFactory();
    }
}
