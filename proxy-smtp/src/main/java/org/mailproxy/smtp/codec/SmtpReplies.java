package org.mailproxy.smtp.codec;

import java.util.ArrayList;
import java.util.List;

/**
 * Every reply the proxy words itself, in one place: code, enhanced status code (RFC 3463) and a text a person can
 * read. Upstream replies are relayed as the upstream wrote them and do not come from here.
 */
public final class SmtpReplies {

    /** The name the proxy gives itself in its greeting and EHLO reply. */
    public static final String SERVER_NAME = "mailproxy";

    private SmtpReplies() {
    }

    public static SmtpReply greeting() {
        return new SmtpReply(220, List.of(SERVER_NAME + " ESMTP ready"));
    }

    public static SmtpReply helo() {
        return new SmtpReply(250, List.of(SERVER_NAME));
    }

    /** The proxy's own EHLO reply (RFC 5321 4.1.1.1): only extensions it implements, no framing changes. */
    public static SmtpReply ehlo(long maxSize, boolean offerStartTls, boolean smtpUtf8) {
        return ehlo(maxSize, offerStartTls, smtpUtf8, "PLAIN LOGIN XOAUTH2");
    }

    /** @param authMechanisms what the AUTH line offers; empty: no AUTH line (RFC 4954 4: not before TLS) */
    public static SmtpReply ehlo(long maxSize, boolean offerStartTls, boolean smtpUtf8, String authMechanisms) {
        List<String> lines = new ArrayList<>();
        lines.add(SERVER_NAME);
        lines.add("PIPELINING");
        lines.add("8BITMIME");
        lines.add("ENHANCEDSTATUSCODES");
        lines.add("SIZE " + maxSize);
        if (!authMechanisms.isEmpty()) {
            lines.add("AUTH " + authMechanisms);
        }
        if (offerStartTls) {
            lines.add("STARTTLS");
        }
        if (smtpUtf8) {
            lines.add("SMTPUTF8");
        }
        return new SmtpReply(250, lines);
    }

    public static SmtpReply ok() {
        return SmtpReply.of(250, "2.0.0", "Ok");
    }

    public static SmtpReply bye() {
        return SmtpReply.of(221, "2.0.0", "Bye");
    }

    public static SmtpReply help() {
        return SmtpReply.of(214, "2.0.0", "See RFC 5321 and RFC 6409");
    }

    public static SmtpReply readyForTls() {
        return SmtpReply.of(220, "2.0.0", "Ready to start TLS");
    }

    public static SmtpReply startData() {
        return new SmtpReply(354, List.of("End data with <CR><LF>.<CR><LF>"));
    }

    /** RFC 4954 4: an empty challenge. */
    public static SmtpReply emptyChallenge() {
        return new SmtpReply(334, List.of(""));
    }

    /** The customary first LOGIN challenge, "Username:" in base64. */
    public static SmtpReply loginUsernameChallenge() {
        return new SmtpReply(334, List.of("VXNlcm5hbWU6"));
    }

    /** The second LOGIN challenge, "Password:" in base64. */
    public static SmtpReply loginPasswordChallenge() {
        return new SmtpReply(334, List.of("UGFzc3dvcmQ6"));
    }

    public static SmtpReply vrfyUnavailable() {
        return SmtpReply.of(252, "2.5.0", "Cannot verify the address; send the message and see");
    }

    // ---- client mistakes (5xx, permanent) ----

    public static SmtpReply lineTooLong() {
        return SmtpReply.of(500, "5.5.2", "Line too long (RFC 5321 4.5.3.1.4)");
    }

    public static SmtpReply badLineEnding() {
        return SmtpReply.of(500, "5.5.2", "Command lines end with CRLF and contain no CR, LF or NUL (RFC 5321 2.3.8)");
    }

    public static SmtpReply notImplemented(SmtpCommand command) {
        return SmtpReply.of(502, "5.5.1", command.name() + " is not implemented");
    }

    public static SmtpReply chunkingUnsupported() {
        return SmtpReply.of(502, "5.5.1", "BDAT is not offered; use DATA");
    }

    public static SmtpReply authRequired() {
        return SmtpReply.of(530, "5.7.0", "Authentication required");
    }

    public static SmtpReply alreadyAuthenticated() {
        return SmtpReply.of(503, "5.5.1", "Already authenticated");
    }

    public static SmtpReply badSequence(String why) {
        return SmtpReply.of(503, "5.5.1", why);
    }

    public static SmtpReply syntax(String why) {
        return SmtpReply.of(501, "5.5.4", why);
    }

    public static SmtpReply mechanismUnsupported() {
        return SmtpReply.of(504, "5.5.4", "Unrecognized authentication mechanism; use PLAIN, LOGIN or XOAUTH2");
    }

    public static SmtpReply authCancelled() {
        return SmtpReply.of(501, "5.0.0", "Authentication cancelled");
    }

    /** RFC 4954 6: credentials that are not the account's local password (or name no account). */
    public static SmtpReply invalidCredentials() {
        return SmtpReply.of(535, "5.7.8", "Authentication credentials invalid");
    }

    /** RFC 3207 4 / RFC 4954 4: a client not on this machine sends no password before TLS. */
    public static SmtpReply tlsRequiredForAuth() {
        return SmtpReply.of(530, "5.7.0", "Must issue a STARTTLS command first");
    }

    public static SmtpReply localMechanismUnsupported() {
        return SmtpReply.of(504, "5.5.4", "Use AUTH PLAIN or LOGIN with the account's mailproxy password");
    }

    /** RFC 4954 6 (454): the proxy cannot log in to the provider now; the operator has to act. */
    public static SmtpReply providerLoginUnavailable(String why) {
        return SmtpReply.of(454, "4.7.0", clean(why));
    }

    public static SmtpReply tooManyAuthFailures() {
        return SmtpReply.of(421, "4.7.0", "Too many failed logins; closing");
    }

    public static SmtpReply noAccountForLogin() {
        return SmtpReply.of(535, "5.7.8", "Authentication failed: no account is configured for this login");
    }

    public static SmtpReply tooManyRecipients(int max) {
        return SmtpReply.of(452, "4.5.3", "Too many recipients (at most " + max + " per message)");
    }

    public static SmtpReply noRecipients() {
        return SmtpReply.of(554, "5.5.1", "No valid recipients");
    }

    public static SmtpReply messageTooBig(long max) {
        return SmtpReply.of(552, "5.3.4", "Message too big (at most " + max + " octets)");
    }

    public static SmtpReply startTlsUnavailable() {
        return SmtpReply.of(502, "5.5.1", "STARTTLS is not offered here");
    }

    public static SmtpReply tlsAlreadyActive() {
        return SmtpReply.of(503, "5.5.1", "TLS is already active");
    }

    // ---- message data refused (SECURITY.md 13); the client must not retry the same bytes ----

    public static SmtpReply bareLineFeed() {
        return SmtpReply.of(554, "5.6.0", "Message refused: bare LF in message data; lines end with CRLF (RFC 5321 2.3.8)");
    }

    public static SmtpReply bareCarriageReturn() {
        return SmtpReply.of(554, "5.6.0", "Message refused: bare CR in message data; lines end with CRLF (RFC 5321 2.3.8)");
    }

    public static SmtpReply nulInData() {
        return SmtpReply.of(554, "5.6.0", "Message refused: NUL octet in message data");
    }

    public static SmtpReply dataLineTooLong(int max) {
        return SmtpReply.of(554, "5.6.0", "Message refused: a line is longer than " + max
                + " octets (RFC 5321 4.5.3.1.6); encode it (quoted-printable or base64)");
    }

    // ---- temporary failures: the client keeps the message and tries again ----

    public static SmtpReply upstreamUnavailable(String reason) {
        return SmtpReply.of(421, "4.4.1", clean(reason));
    }

    public static SmtpReply upstreamTlsFailed(String reason) {
        return SmtpReply.of(421, "4.7.0", clean(reason));
    }

    public static SmtpReply upstreamLost(String reason) {
        return SmtpReply.of(421, "4.4.2", clean(reason));
    }

    /** Answer to a message whose upstream went away while the client was still sending it (RFC 5321 4.2.5). */
    public static SmtpReply messageNotSent(String reason) {
        return SmtpReply.of(451, "4.4.2", clean(reason + "; the message was not sent, try again"));
    }

    public static SmtpReply tooManyPipelined() {
        return SmtpReply.of(421, "4.7.0", SERVER_NAME + ": too many commands sent without waiting for replies, closing");
    }

    public static SmtpReply clientIdle() {
        return SmtpReply.of(421, "4.4.2", SERVER_NAME + " idle timeout, closing the connection");
    }

    public static SmtpReply shuttingDown() {
        return SmtpReply.of(421, "4.3.2", SERVER_NAME + " shutting down");
    }

    /** For anything unexpected: generic, the details go to the log only. */
    public static SmtpReply internalError() {
        return SmtpReply.of(421, "4.3.0", "Temporary failure in " + SERVER_NAME + ", closing; try again");
    }

    /** Control characters must not reach a reply line (SECURITY.md 13: no CR/LF from input in generated text). */
    static String clean(String text) {
        StringBuilder b = new StringBuilder(Math.min(text.length(), 400));
        for (int i = 0; i < text.length() && b.length() < 400; i++) {
            char c = text.charAt(i);
            b.append(c < 0x20 || c == 0x7f ? ' ' : c);
        }
        return b.toString();
    }
}
