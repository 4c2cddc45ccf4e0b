package org.mailproxy.e2e;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.core.crypto.openpgp.KeyVersion;
import org.mailproxy.core.crypto.openpgp.Keyring;
import org.mailproxy.testing.MailStack;
import org.mailproxy.testing.MailUser;
import org.mailproxy.testing.RequiresMailStack;
import org.mailproxy.testing.StoredMessage;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A draft saved with Python's imaplib through the proxy (APPEND to the \Drafts mailbox) is stored encrypted: the
 * file Dovecot keeps holds no word of it, and imaplib reading it back through the proxy gets the draft as written.
 */
@RequiresMailStack
class DraftsE2eTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final String PASSPHRASE = "drafts stay private";

    private static final String SCRIPT = """
            import imaplib, ssl, sys
            host, port, cafile, user, mode, path = sys.argv[1:7]
            password = sys.stdin.readline().rstrip("\\n")
            ctx = ssl.create_default_context(cafile=cafile)
            c = imaplib.IMAP4(host, int(port), timeout=30)
            c.starttls(ssl_context=ctx)
            c.login(user, password)
            if mode == "append":
                with open(path, "rb") as f:
                    typ, data = c.append("Drafts", "(\\\\Draft)", None, f.read())
                if typ != "OK":
                    sys.exit("APPEND: %s %r" % (typ, data))
                sys.stdout.write(data[0].decode())
            else:
                c.select("Drafts", readonly=True)
                typ, data = c.uid("FETCH", path, "(BODY.PEEK[])")
                if typ != "OK" or not isinstance(data[0], tuple):
                    sys.exit("FETCH: %s %r" % (typ, data))
                sys.stdout.buffer.write(data[0][1])
            c.logout()
            """;

    @TempDir
    Path dir;

    @Test
    void aDraftSavedThroughTheProxyIsStoredEncryptedAndReadsBack(MailStack stack) throws Exception {
        Tool python = Tool.require("python3");
        MailUser alice = stack.alice();
        Path data = dir.resolve("data");
        Files.createDirectories(data);
        Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwx------"));
        Keyring.open(data.resolve("keys")).generate(alice.email(), PASSPHRASE.toCharArray(), KeyVersion.V4);
        Path pass = dir.resolve("alice.pass");
        Files.writeString(pass, PASSPHRASE + "\n");
        Files.setPosixFilePermissions(pass, PosixFilePermissions.fromString("rw-------"));
        Path script = dir.resolve("drafts.py");
        Files.writeString(script, SCRIPT);

        String canary = "draft-" + UUID.randomUUID();
        byte[] draft = ("From: " + alice.email() + "\r\nTo: bob@example.test\r\nSubject: unfinished " + canary
                + "\r\nMessage-ID: <" + UUID.randomUUID() + "@example.test>\r\nMIME-Version: 1.0\r\n"
                + "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
                + "Dear Bob, the plan is " + canary + " — more tomorrow.\r\n").getBytes(StandardCharsets.UTF_8);
        Path draftFile = dir.resolve("draft.eml");
        Files.write(draftFile, draft);
        byte[] password = (alice.password() + "\n").getBytes(StandardCharsets.UTF_8);
        try (RunningProxy proxy = RunningProxy.start(stack, dir, RunningProxy.Local.STARTTLS,
                RunningProxy.Upstream.IMPLICIT, "", Map.of(alice.email(), "key.passphrase-file = \"" + pass + "\""))) {
            List<String> common = List.of(script.toString(), "127.0.0.1", Integer.toString(proxy.imapPort()),
                    proxy.localCert().toString(), alice.login());
            Tool.Result appended = python.run(dir, TIMEOUT, concat(common, "append", draftFile.toString()), password,
                    Map.of());
            assertThat(appended.exit()).as(appended.describe()).isZero();
            String uid = appended.out().replaceAll("(?s).*APPENDUID \\d+ (\\d+).*", "$1");
            assertThat(uid).as(appended.out()).matches("\\d+");

            StoredMessage stored = stack.messages(alice, "Drafts").stream()
                    .filter(m -> m.uid() == Long.parseLong(uid)).findFirst().orElseThrow();
            assertThat(stored.text()).as("Dovecot's file of the draft").doesNotContain(canary, "Dear Bob")
                    .contains("multipart/encrypted", "-----BEGIN PGP MESSAGE-----");
            assertThat(stored.flags()).contains("D");

            Tool.Result read = python.run(dir, TIMEOUT, concat(common, "fetch", uid), password, Map.of());
            assertThat(read.exit()).as(read.describe()).isZero();
            String shown = read.out();
            String written = new String(draft, StandardCharsets.UTF_8);
            assertThat(shown).contains("Subject: unfinished " + canary + "\r\n", "X-Mailproxy-Status: decrypted; "
                    + "integrity=ok; signature=valid").endsWith(written.substring(written.indexOf("\r\n\r\n")));
        }
    }

    private static List<String> concat(List<String> a, String... b) {
        List<String> out = new java.util.ArrayList<>(a);
        out.addAll(List.of(b));
        return out;
    }
}
