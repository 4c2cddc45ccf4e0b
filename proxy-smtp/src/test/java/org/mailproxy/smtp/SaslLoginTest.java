package org.mailproxy.smtp;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mailproxy.smtp.TestClient.b64;

/** The login that selects an account, read from the first SASL response of each mechanism. */
class SaslLoginTest {

    @Test
    void plainTakesTheAuthenticationIdentity() {
        assertThat(SmtpSession.loginFrom("PLAIN", b64("\0alice@example.com\0pw"))).contains("alice@example.com");
        assertThat(SmtpSession.loginFrom("PLAIN", b64("admin\0alice\0pw"))).contains("alice");
        assertThat(SmtpSession.loginFrom("PLAIN", b64("bob\0\0pw"))).contains("bob");
        assertThat(SmtpSession.loginFrom("PLAIN", b64("no separators"))).isEmpty();
        assertThat(SmtpSession.loginFrom("PLAIN", "not base64!")).isEmpty();
    }

    @Test
    void loginAndXoauth2() {
        assertThat(SmtpSession.loginFrom("LOGIN", b64("alice"))).contains("alice");
        assertThat(SmtpSession.loginFrom("LOGIN", "")).isEmpty();
        assertThat(SmtpSession.loginFrom("XOAUTH2", b64("user=alice@example.com\u0001auth=Bearer ya29.x\u0001\u0001")))
                .contains("alice@example.com");
        assertThat(SmtpSession.loginFrom("XOAUTH2", b64("auth=Bearer x\u0001\u0001"))).isEmpty();
    }
}
