package org.mailproxy.e2e;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.mailproxy.e2e.RunningProxy.Local;
import org.mailproxy.e2e.RunningProxy.Upstream;
import org.mailproxy.testing.MailStack;
import org.mailproxy.testing.MailUser;
import org.mailproxy.testing.RequiresMailStack;
import org.mailproxy.testing.StoredMessage;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * curl's IMAP client through the proxy: a message fetched by UID is byte-identical to Dovecot's stored copy,
 * LIST shows the folders, EXAMINE reports the mailbox; plain, with a mandatory STARTTLS ({@code --ssl-reqd}) and
 * with implicit TLS to the proxy, and with both upstream TLS modes.
 */
@RequiresMailStack
class CurlImapE2eTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private Tool curl;

    @BeforeEach
    void needsCurl() {
        curl = Tool.require("curl");
    }

    private StoredMessage seed(MailStack stack, MailUser user) {
        String marker = UUID.randomUUID().toString();
        stack.deliver(user, TestMessages.withAttachment("carol@example.test", user.email(), marker, 300_000, 7));
        return stack.messages(user, "INBOX").stream()
                .filter(m -> m.text().contains(marker))
                .findFirst().orElseThrow();
    }

    private List<String> args(RunningProxy proxy, Local local, MailUser user, String path, String... more) {
        List<String> a = new ArrayList<>(List.of("-s", "-S", "--max-time", "30"));
        String scheme = local == Local.IMPLICIT ? "imaps" : "imap";
        if (local == Local.STARTTLS) {
            a.add("--ssl-reqd");
        }
        if (local != Local.OFF) {
            a.addAll(List.of("--cacert", proxy.localCert().toString()));
        }
        a.addAll(List.of("--url", scheme + "://127.0.0.1:" + proxy.imapPort() + path,
                "--user", user.login() + ":" + user.password()));
        a.addAll(List.of(more));
        return a;
    }

    private void fetchListExamine(MailStack stack, Local local, Upstream upstream) {
        MailUser alice = stack.alice();
        StoredMessage stored = seed(stack, alice);
        try (RunningProxy proxy = RunningProxy.start(stack, dir, local, upstream)) {
            Tool.Result fetch = curl.run(dir, TIMEOUT, args(proxy, local, alice, "/INBOX;UID=" + stored.uid()));
            assertThat(fetch.exit()).as(fetch.describe()).isZero();
            assertThat(fetch.stdout()).as("BODY[] through the proxy vs Dovecot's file")
                    .isEqualTo(stored.content());

            Tool.Result list = curl.run(dir, TIMEOUT, args(proxy, local, alice, "/"));
            assertThat(list.exit()).as(list.describe()).isZero();
            assertThat(list.out()).contains("INBOX").contains("Sent").contains("Drafts").contains("Trash");

            Tool.Result examine = curl.run(dir, TIMEOUT, args(proxy, local, alice, "/", "-X", "EXAMINE INBOX"));
            assertThat(examine.exit()).as(examine.describe()).isZero();
            int count = stack.messages(alice, "INBOX").size();
            assertThat(examine.out()).contains("* " + count + " EXISTS").contains("UIDVALIDITY");
        }
    }

    @ParameterizedTest
    @EnumSource(Local.class)
    void fetchesThroughEachLocalMode(Local local, MailStack stack) {
        fetchListExamine(stack, local, Upstream.IMPLICIT);
    }

    @Test
    void fetchesOverUpstreamStarttls(MailStack stack) {
        fetchListExamine(stack, Local.STARTTLS, Upstream.STARTTLS);
    }

    @Test
    void wrongPasswordFails(MailStack stack) {
        MailUser alice = stack.alice();
        try (RunningProxy proxy = RunningProxy.start(stack, dir, Local.OFF, Upstream.IMPLICIT)) {
            MailUser wrong = new MailUser(alice.email(), alice.login(), "not-" + alice.password());
            Tool.Result r = curl.run(dir, TIMEOUT, args(proxy, Local.OFF, wrong, "/"));
            assertThat(r.exit()).as(r.describe()).isEqualTo(67); // CURLE_LOGIN_DENIED
        }
    }
}
