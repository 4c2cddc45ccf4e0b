package org.mailproxy.e2e;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.e2e.RawImap.Response;
import org.mailproxy.e2e.RunningProxy.Local;
import org.mailproxy.e2e.RunningProxy.Upstream;
import org.mailproxy.testing.MailStack;
import org.mailproxy.testing.MailUser;
import org.mailproxy.testing.RequiresMailStack;
import org.mailproxy.testing.StoredMessage;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The FETCH forms real clients use, through the proxy, each checked against the octets of Dovecot's file:
 * RFC822.SIZE, BODY[HEADER], BODY[TEXT], a partial BODY[]&lt;origin.count&gt; (RFC 9051 6.4.5), header fields, and
 * Thunderbird's folder listing ({@code UID FETCH 1:* (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (...)])}).
 * A client that saves a message must get exactly what RFC822.SIZE announced.
 */
@RequiresMailStack
class FetchVariantsE2eTest {

    @TempDir
    Path dir;

    private static byte[] only(List<Response> responses, String tag) {
        assertThat(RawImap.last(responses)).startsWith(tag + " OK");
        List<byte[]> literals = responses.stream().flatMap(r -> r.literals().stream()).toList();
        assertThat(literals).as("literals in the reply to %s", tag).hasSize(1);
        return literals.get(0);
    }

    @Test
    void fetchFormsMatchDovecotsFile(MailStack stack) throws IOException {
        MailUser alice = stack.alice();
        String marker = UUID.randomUUID().toString();
        stack.deliver(alice, TestMessages.withAttachment(stack.bob().email(), alice.email(), marker, 40_000, 5));
        StoredMessage stored = Mailboxes.find(stack, alice, "INBOX", marker).orElseThrow();
        byte[] file = stored.content();
        int headerEnd = new String(file, StandardCharsets.ISO_8859_1).indexOf("\r\n\r\n") + 4;
        long uid = stored.uid();

        try (RunningProxy proxy = RunningProxy.start(stack, dir, Local.OFF, Upstream.IMPLICIT);
             RawImap c = new RawImap(proxy.imapPort())) {
            assertThat(c.readLine()).startsWith("* OK");
            assertThat(RawImap.last(c.command("a1", "LOGIN " + RawImap.quoted(alice.login()) + " "
                    + RawImap.quoted(alice.password())))).startsWith("a1 OK");
            List<Response> select = c.command("a2", "SELECT INBOX");
            assertThat(RawImap.last(select)).startsWith("a2 OK");
            int exists = select.stream().map(Response::text).filter(t -> t.endsWith(" EXISTS"))
                    .mapToInt(t -> Integer.parseInt(t.split(" ")[1])).findFirst().orElseThrow();

            List<Response> size = c.command("a3", "UID FETCH " + uid + " (RFC822.SIZE)");
            assertThat(RawImap.last(size)).startsWith("a3 OK");
            Matcher m = Pattern.compile("RFC822\\.SIZE (\\d+)").matcher(size.get(0).text());
            assertThat(m.find()).as(size.get(0).text()).isTrue();
            assertThat(Long.parseLong(m.group(1))).as("RFC822.SIZE").isEqualTo(file.length);

            assertThat(only(c.command("a4", "UID FETCH " + uid + " (BODY.PEEK[HEADER])"), "a4"))
                    .isEqualTo(Arrays.copyOfRange(file, 0, headerEnd));
            assertThat(only(c.command("a5", "UID FETCH " + uid + " (BODY.PEEK[TEXT])"), "a5"))
                    .isEqualTo(Arrays.copyOfRange(file, headerEnd, file.length));
            assertThat(only(c.command("a6", "UID FETCH " + uid + " (BODY.PEEK[]<100.5000>)"), "a6"))
                    .isEqualTo(Arrays.copyOfRange(file, 100, 5100));
            assertThat(new String(only(c.command("a7", "UID FETCH " + uid
                    + " (BODY.PEEK[HEADER.FIELDS (SUBJECT)])"), "a7"), StandardCharsets.US_ASCII))
                    .isEqualTo("Subject: " + stored.header("Subject") + "\r\n\r\n");

            List<Response> listing = c.command("a8",
                    "UID FETCH 1:* (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (FROM TO SUBJECT DATE MESSAGE-ID)])");
            assertThat(RawImap.last(listing)).startsWith("a8 OK");
            List<Response> fetches = listing.stream().filter(r -> r.text().matches("^\\* \\d+ FETCH .*")).toList();
            assertThat(fetches).hasSize(exists);
            Response ours = fetches.stream().filter(r -> r.text().contains("UID " + uid + " ")).findFirst().orElseThrow();
            assertThat(new String(ours.literals().get(0), StandardCharsets.US_ASCII)).contains(marker);

            List<Response> structure = c.command("a9", "UID FETCH " + uid + " (BODYSTRUCTURE ENVELOPE)");
            assertThat(RawImap.last(structure)).startsWith("a9 OK");
            assertThat(structure.get(0).text()).contains("\"mixed\"").contains("\"octet-stream\"");
            assertThat(RawImap.last(c.command("a10", "LOGOUT"))).startsWith("a10 OK");
        }
    }
}
