/**
 * End-to-end tests: the whole daemon ({@link org.mailproxy.app.Daemon}) configured from HOCON, real mail clients in
 * front of it (mbsync, curl, swaks, msmtp, Angus Mail, Python's smtplib and imaplib, and raw sockets for hostile
 * input), and the real Dovecot and Postfix of {@link org.mailproxy.testing.MailStack} behind it. Messages are compared
 * octet for octet with the files Dovecot stored. With encryption on ({@code Encrypted*}, {@code *PolicyE2eTest}),
 * each user has a gpg home of their own ({@link org.mailproxy.e2e.Gpg}, {@link org.mailproxy.e2e.PgpWorld}), so
 * what Dovecot stored is judged by the recipient's own OpenPGP software and secret key, not by our decryptor.
 *
 * <p>Every class carries {@code @Tag("mailstack")} through {@link org.mailproxy.testing.RequiresMailStack} and is
 * skipped, with the reason, where the stack cannot run; a test whose client is not installed is skipped with the
 * client's name ({@code scripts/test} installs them all). Run with {@code mvn -pl e2e-tests verify}.
 */
package org.mailproxy.e2e;
