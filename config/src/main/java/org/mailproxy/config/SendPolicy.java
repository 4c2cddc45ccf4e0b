package org.mailproxy.config;

import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * What the SMTP side does with one account's outgoing mail: whether it is encrypted to its recipients, whether it
 * is signed, and the rules by recipient address or domain that override the account's default.
 *
 * @param encrypt         the default for recipients no rule names
 * @param sign            when the account's key signs
 * @param rules           first the rule naming the exact address, then the one naming its domain, decide
 * @param obscuredSubject the Subject shown outside an encrypted message (RFC 9788 §4.1 suggests "[...]")
 * @param autocrypt       whether outgoing mail carries the account's key in an {@code Autocrypt:} header
 */
public record SendPolicy(Encrypt encrypt, Sign sign, List<Rule> rules, String obscuredSubject, boolean autocrypt) {

    /** The setting without any configuration: encrypt when every recipient has a key, sign what is encrypted. */
    public static final SendPolicy DEFAULT =
            new SendPolicy(Encrypt.OPPORTUNISTIC, Sign.WHEN_ENCRYPTING, List.of(), "[...]", true);

    public enum Encrypt {
        /** A recipient without a usable key makes the message fail (550 5.7.1 naming the recipient). */
        REQUIRED,
        /** Encrypted when every recipient has a key; otherwise sent as it came. */
        OPPORTUNISTIC,
        /** Never encrypted. */
        NEVER
    }

    public enum Sign {
        ALWAYS,
        WHEN_ENCRYPTING,
        NEVER
    }

    /**
     * @param match   an address ({@code bob@example.org}) or a domain ({@code example.org}), compared without case
     * @param encrypt what applies to the recipients it matches
     */
    public record Rule(String match, Encrypt encrypt) {
        public Rule {
            Objects.requireNonNull(encrypt, "encrypt");
            match = match.trim().toLowerCase(Locale.ROOT);
            if (match.isEmpty() || match.startsWith("@") || match.endsWith("@") || match.chars().anyMatch(c -> c <= 32)) {
                throw new IllegalArgumentException("a rule matches an address (user@domain) or a domain");
            }
        }

        boolean isAddress() {
            return match.indexOf('@') >= 0;
        }
    }

    public SendPolicy {
        Objects.requireNonNull(encrypt, "encrypt");
        Objects.requireNonNull(sign, "sign");
        rules = List.copyOf(rules);
        if (obscuredSubject.indexOf('\r') >= 0 || obscuredSubject.indexOf('\n') >= 0) {
            throw new IllegalArgumentException("obscured-subject must be one line");
        }
    }

    /** The encryption setting for one recipient address (without angle brackets). */
    public Encrypt forRecipient(String address) {
        String a = address.trim().toLowerCase(Locale.ROOT);
        for (Rule r : rules) {
            if (r.isAddress() && r.match().equals(a)) {
                return r.encrypt();
            }
        }
        int at = a.lastIndexOf('@');
        String domain = at >= 0 ? a.substring(at + 1) : a;
        for (Rule r : rules) {
            if (!r.isAddress() && r.match().equals(domain)) {
                return r.encrypt();
            }
        }
        return encrypt;
    }
}
