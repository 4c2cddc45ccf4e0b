package org.mailproxy.imap.session;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.Locale;

/**
 * A client's credentials, held only until they have been sent to the provider and then erased. The proxy decodes
 * them only to learn the login name that selects the account; they are never logged (SECURITY.md 24).
 */
public sealed interface ClientLogin {

    /** The name that selects the account (RFC 9051 6.2.3 userid, or the SASL authentication identity). */
    String loginName();

    void erase();

    /** LOGIN userid password. */
    record Password(byte[] user, byte[] password) implements ClientLogin {
        @Override
        public String loginName() {
            return new String(user, StandardCharsets.UTF_8);
        }

        @Override
        public void erase() {
            Arrays.fill(password, (byte) 0);
        }
    }

    /** AUTHENTICATE with an initial response (decoded octets) for PLAIN, XOAUTH2 or OAUTHBEARER. */
    record Sasl(String mechanism, byte[] initialResponse) implements ClientLogin {
        @Override
        public String loginName() {
            return switch (mechanism) {
                case "PLAIN" -> plainField(initialResponse, 1);
                case "XOAUTH2" -> between(initialResponse, "user=", '\u0001');
                case "OAUTHBEARER" -> between(initialResponse, "a=", ',');
                default -> "";
            };
        }

        /** The initial response as the base64 text the wire carries ({@code =} for an empty one, RFC 4959). */
        public String base64() {
            return initialResponse.length == 0 ? "=" : Base64.getEncoder().encodeToString(initialResponse);
        }

        /** For a PLAIN exchange with an empty authorization identity, the LOGIN equivalent; else null. */
        public Password asPassword() {
            if (!mechanism.equals("PLAIN") || !plainField(initialResponse, 0).isEmpty()) {
                return null;
            }
            int first = indexOf(initialResponse, 0, 0);
            int second = first < 0 ? -1 : indexOf(initialResponse, first + 1, 0);
            if (second < 0) {
                return null;
            }
            return new Password(Arrays.copyOfRange(initialResponse, first + 1, second),
                    Arrays.copyOfRange(initialResponse, second + 1, initialResponse.length));
        }

        @Override
        public void erase() {
            Arrays.fill(initialResponse, (byte) 0);
        }

        /** RFC 4616: [authzid] NUL authcid NUL passwd. */
        private static String plainField(byte[] ir, int index) {
            int start = 0;
            for (int f = 0; f < index; f++) {
                int nul = indexOf(ir, start, 0);
                if (nul < 0) {
                    return "";
                }
                start = nul + 1;
            }
            int end = indexOf(ir, start, 0);
            return new String(ir, start, (end < 0 ? ir.length : end) - start, StandardCharsets.UTF_8);
        }

        /** XOAUTH2 {@code user=NAME^A...}; OAUTHBEARER (RFC 7628 3.1) gs2 header {@code n,a=NAME,}. */
        private static String between(byte[] ir, String prefix, char end) {
            String s = new String(ir, StandardCharsets.UTF_8);
            int at = s.toLowerCase(Locale.ROOT).indexOf(prefix);
            if (at < 0) {
                return "";
            }
            int from = at + prefix.length();
            int stop = s.indexOf(end, from);
            String name = s.substring(from, stop < 0 ? s.length() : stop);
            // RFC 5801 gs2 saslname escapes "," and "=".
            return name.replace("=2C", ",").replace("=3D", "=");
        }

        private static int indexOf(byte[] a, int from, int value) {
            for (int i = from; i < a.length; i++) {
                if (a[i] == value) {
                    return i;
                }
            }
            return -1;
        }
    }
}
