package org.mailproxy.testing;

/**
 * A mailbox of the test provider. The login is what IMAP LOGIN and SMTP AUTH take; on the test stack it is the
 * address itself.
 *
 * @param email    the address, e.g. {@code alice@example.test}
 * @param login    the user name for IMAP LOGIN / AUTHENTICATE and SMTP AUTH
 * @param password the password in plain text (this is a test stack)
 */
public record MailUser(String email, String login, String password) {

    /** Everything but the password, so that a user in an assertion message does not print the secret. */
    @Override
    public String toString() {
        return "MailUser[" + email + ", login=" + login + "]";
    }
}
