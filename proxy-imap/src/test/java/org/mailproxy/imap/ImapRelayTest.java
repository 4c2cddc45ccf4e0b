package org.mailproxy.imap;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The relay against a scripted provider on loopback, driven by a raw-socket client. */
class ImapRelayTest {

    @TempDir
    Path dir;

    private FakeImapServer upstream;
    private ImapProxyFixture proxy;

    @BeforeEach
    void setUp() throws Exception {
        upstream = new FakeImapServer();
    }

    @AfterEach
    void tearDown() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        upstream.close();
    }

    private ImapProxyFixture start() throws Exception {
        proxy = new ImapProxyFixture(dir, Map.of("alice", upstream.url()), "");
        return proxy;
    }

    private ImapTestClient loggedIn() throws Exception {
        ImapTestClient c = new ImapTestClient(proxy.port());
        c.readResponse();
        assertThat(c.command("a1", "LOGIN alice s3cret")).last().asString().startsWith("a1 OK");
        return c;
    }

    @Test
    void greetingIsTheProxysOwnAndLoginReturnsFilteredCapabilities() throws Exception {
        start();
        try (ImapTestClient c = new ImapTestClient(proxy.port())) {
            String greeting = c.readResponse();
            assertThat(greeting).startsWith("* OK [CAPABILITY IMAP4rev1 ").endsWith("mailproxy ready")
                    .doesNotContain("fake provider");
            List<String> login = c.command("a1", "LOGIN alice s3cret");
            String ok = login.get(login.size() - 1);
            assertThat(ok).startsWith("a1 OK [CAPABILITY IMAP4rev1 ").contains(" IDLE ", " UIDPLUS ", " MOVE ",
                    " X-AFTER-LOGIN", " LITERAL-").doesNotContain("COMPRESS", "BINARY", "LITERAL+", "AUTH=", "SASL-IR");
            List<String> caps = c.command("a2", "CAPABILITY");
            assertThat(caps.get(0)).startsWith("* CAPABILITY IMAP4rev1 ").doesNotContain("COMPRESS", "BINARY", "LITERAL+")
                    .endsWith("LITERAL-");
            assertThat(caps.get(1)).isEqualTo("a2 OK done");
        }
        assertThat(proxy.counter("mailproxy.sessions")).isEqualTo(1);
        assertThat(proxy.meters.find("mailproxy.upstream.connect").timer().count()).isEqualTo(1);
        assertThat(proxy.meters.find("mailproxy.upstream.tls.handshake").timer().count()).isEqualTo(1);
        await().until(() -> proxy.meters.find("mailproxy.sessions.active").gauge().value() == 0);
    }

    @Test
    void loginNameSelectsTheAccount() throws Exception {
        try (FakeImapServer bobs = new FakeImapServer()) {
            bobs.script.user = "bob";
            bobs.script.password = "hunter2";
            proxy = new ImapProxyFixture(dir, Map.of("alice", upstream.url(), "bob", bobs.url()), "");
            try (ImapTestClient c = new ImapTestClient(proxy.port())) {
                c.readResponse();
                assertThat(c.command("a1", "LOGIN bob hunter2")).last().asString().startsWith("a1 OK");
            }
            assertThat(bobs.received).anyMatch(l -> l.contains("LOGIN"));
            assertThat(upstream.received).noneMatch(l -> l.contains("LOGIN"));
            try (ImapTestClient c = new ImapTestClient(proxy.port())) {
                c.readResponse();
                assertThat(c.command("a1", "LOGIN nobody x")).last().asString().startsWith("a1 NO [AUTHENTICATIONFAILED]");
            }
        }
    }

    @Test
    void tagsUpstreamAreTheProxysOwnAndMappedBack() throws Exception {
        start();
        try (ImapTestClient c = loggedIn()) {
            List<String> select = c.command("client.tag-7", "SELECT INBOX");
            assertThat(select).contains("* 1 EXISTS").last().isEqualTo("client.tag-7 OK [READ-WRITE] selected");
            // pipelined commands
            c.send("p1 NOOP\r\np2 NOOP\r\np3 NOOP\r\n");
            assertThat(c.readUntilTagged("p3")).containsExactly("p1 OK noop", "p2 OK noop", "p3 OK noop");
        }
        assertThat(upstream.received).isNotEmpty().allMatch(l -> l.startsWith("mp"));
        assertThat(upstream.received).noneMatch(l -> l.contains("client.tag-7") || l.startsWith("p1"));
    }

    @Test
    void commandsPipelinedBehindLoginWaitForIt() throws Exception {
        start();
        try (ImapTestClient c = new ImapTestClient(proxy.port())) {
            c.readResponse();
            c.send("a1 LOGIN alice wrong\r\na2 SELECT INBOX\r\na3 LOGIN alice s3cret\r\na4 SELECT INBOX\r\n");
            assertThat(c.readUntilTagged("a1")).last().asString().startsWith("a1 NO");
            assertThat(c.readUntilTagged("a2")).containsExactly("a2 BAD Command not valid before login");
            assertThat(c.readUntilTagged("a3")).last().asString().startsWith("a3 OK [CAPABILITY");
            assertThat(c.readUntilTagged("a4")).last().isEqualTo("a4 OK [READ-WRITE] selected");
        }
    }

    @Test
    void logoutIsRelayedAndClosesBothSides() throws Exception {
        start();
        try (ImapTestClient c = loggedIn()) {
            assertThat(c.command("a9", "LOGOUT")).containsExactly("* BYE bye", "a9 OK logged out");
            assertThat(c.closedByPeer()).isTrue();
        }
        await().until(() -> proxy.proxy.activeSessions() == 0);
    }

    @Test
    void providerDroppingTheConnectionEndsTheSessionWithBye() throws Exception {
        start();
        try (ImapTestClient c = loggedIn()) {
            c.send("a2 X-DROP\r\n");
            assertThat(c.readResponse()).isEqualTo("* BYE Connection to the mail provider lost");
            assertThat(c.closedByPeer()).isTrue();
        }
    }

    @Test
    void wrongPasswordIsRelayedAsNoAndCountedAndTheSessionStaysUsable() throws Exception {
        start();
        try (ImapTestClient c = new ImapTestClient(proxy.port())) {
            c.readResponse();
            assertThat(c.command("a1", "LOGIN alice wrong")).last().isEqualTo("a1 NO [AUTHENTICATIONFAILED] Authentication failed.");
            assertThat(c.command("a2", "LOGIN alice s3cret")).last().asString().startsWith("a2 OK");
        }
        assertThat(proxy.counter("mailproxy.auth.failures")).isEqualTo(1);
    }

    @Test
    void authenticatePlainWithInitialResponseAndWithContinuation() throws Exception {
        start();
        String ir = Base64.getEncoder().encodeToString("\0alice\0s3cret".getBytes(StandardCharsets.UTF_8));
        try (ImapTestClient c = new ImapTestClient(proxy.port())) {
            c.readResponse();
            assertThat(c.command("a1", "AUTHENTICATE PLAIN " + ir)).last().asString().startsWith("a1 OK [CAPABILITY");
        }
        try (ImapTestClient c = new ImapTestClient(proxy.port())) {
            c.readResponse();
            c.send("a1 AUTHENTICATE PLAIN\r\n");
            assertThat(c.readLine()).isEqualTo("+ ");
            c.send(ir + "\r\n");
            assertThat(c.readUntilTagged("a1")).last().asString().startsWith("a1 OK [CAPABILITY");
        }
        assertThat(upstream.received).anyMatch(l -> l.matches("mp\\d+ AUTHENTICATE PLAIN .+"));
    }

    @Test
    void xoauth2PassesThroughIncludingTheErrorChallenge() throws Exception {
        upstream.script.capabilities = "IMAP4rev1 SASL-IR AUTH=XOAUTH2 IDLE";
        start();
        String good = Base64.getEncoder().encodeToString("user=alice\u0001auth=Bearer good-token\u0001\u0001".getBytes(StandardCharsets.UTF_8));
        String bad = Base64.getEncoder().encodeToString("user=alice\u0001auth=Bearer expired\u0001\u0001".getBytes(StandardCharsets.UTF_8));
        try (ImapTestClient c = new ImapTestClient(proxy.port())) {
            c.readResponse();
            c.send("a1 AUTHENTICATE XOAUTH2 " + bad + "\r\n");
            assertThat(c.readLine()).isEqualTo("+ eyJzdGF0dXMiOiI0MDEifQ==");
            c.send("\r\n");
            assertThat(c.readUntilTagged("a1")).containsExactly("a1 NO [AUTHENTICATIONFAILED] Invalid credentials");
            assertThat(c.command("a2", "AUTHENTICATE XOAUTH2 " + good)).last().asString().startsWith("a2 OK [CAPABILITY");
            assertThat(c.command("a3", "NOOP")).containsExactly("a3 OK noop");
        }
        assertThat(proxy.counter("mailproxy.auth.failures")).isEqualTo(1);
    }

    @Test
    void aProviderThatStopsAnsweringEndsTheSessionWithBye() throws Exception {
        proxy = new ImapProxyFixture(dir, Map.of("alice", upstream.url()), "imap.timeouts.upstream-reply = 1s");
        try (ImapTestClient c = loggedIn()) {
            assertThat(c.command("a2", "NOOP")).containsExactly("a2 OK noop");
            // The provider takes the command and never answers, without closing its connection.
            assertThat(c.command("h1", "X-HANG")).containsExactly(
                    "* BYE [UNAVAILABLE] The mail provider stopped answering", "<EOF>");
        }
        try (ImapTestClient other = loggedIn()) {
            assertThat(other.command("b1", "NOOP")).containsExactly("b1 OK noop");
        }
    }

    @Test
    void aSilentProviderDuringIdleIsNotAVanishedOne() throws Exception {
        proxy = new ImapProxyFixture(dir, Map.of("alice", upstream.url()), "imap.timeouts.upstream-reply = 1s");
        try (ImapTestClient c = loggedIn()) {
            c.send("i1 IDLE\r\n");
            assertThat(c.readResponse()).startsWith("+");
            Thread.sleep(2_500); // longer than upstream-reply: nothing may happen while idling
            c.send("DONE\r\n");
            // The fake provider announces one EXISTS right after "+ idling", then stays silent.
            assertThat(c.readUntilTagged("i1")).containsExactly("* 2 EXISTS", "i1 OK idle done");
            assertThat(c.command("a2", "NOOP")).containsExactly("a2 OK noop");
        }
    }

    @Test
    void providerThatNeverGreetsTimesOut() throws Exception {
        try (java.net.ServerSocket silent = new java.net.ServerSocket(0, 5, java.net.InetAddress.getLoopbackAddress())) {
            proxy = new ImapProxyFixture(dir, Map.of("alice", "imap+starttls://localhost:" + silent.getLocalPort()),
                    "imap.timeouts.upstream-connect = 1s");
            try (ImapTestClient c = new ImapTestClient(proxy.port())) {
                c.readResponse();
                assertThat(c.command("a1", "LOGIN alice s3cret")).last().asString()
                        .startsWith("a1 NO [UNAVAILABLE]").contains("did not answer in time");
            }
        }
    }

    @Test
    void aClientThatDoesNotReadStallsOnlyItsOwnSession() throws Exception {
        byte[] body = new byte[48 * 1024 * 1024];
        java.util.Arrays.fill(body, (byte) 'x');
        upstream.script.body = body;
        start();
        ImapTestClient slow = loggedIn();
        slow.send("s1 FETCH 1 BODY[]\r\n");
        // The proxy stops reading the provider once the client side is not writable: far less than the body
        // ever sits in the proxy, however long the client waits.
        await().during(java.time.Duration.ofSeconds(1)).atMost(java.time.Duration.ofSeconds(5))
                .until(() -> proxy.counter("mailproxy.bytes", "direction", "to_client") < 24 * 1024 * 1024);
        try (ImapTestClient other = loggedIn()) {
            assertThat(other.command("b1", "NOOP")).containsExactly("b1 OK noop");
        }
        assertThat(slow.readUntilTagged("s1")).last().isEqualTo("s1 OK fetched");
        assertThat(slow.literals.get(slow.literals.size() - 1)).isEqualTo(body);
        slow.close();
    }

    @Test
    void authenticatePlainToAProviderWithoutSaslIrWaitsForItsContinuation() throws Exception {
        upstream.script.capabilities = "IMAP4rev1 AUTH=PLAIN IDLE";
        start();
        String ir = Base64.getEncoder().encodeToString("\0alice\0s3cret".getBytes(StandardCharsets.UTF_8));
        try (ImapTestClient c = new ImapTestClient(proxy.port())) {
            c.readResponse();
            assertThat(c.command("a1", "AUTHENTICATE PLAIN " + ir)).last().asString().startsWith("a1 OK [CAPABILITY");
        }
        assertThat(upstream.received).anyMatch(l -> l.matches("mp\\d+ AUTHENTICATE PLAIN")).contains(ir);
    }

    @Test
    void loginWithLiteralsBeforeLogin() throws Exception {
        start();
        try (ImapTestClient c = new ImapTestClient(proxy.port())) {
            c.readResponse();
            c.send("a1 LOGIN {5}\r\n");
            assertThat(c.readLine()).startsWith("+ ");
            c.send("alice {6+}\r\ns3cret\r\n");
            assertThat(c.readUntilTagged("a1")).last().asString().startsWith("a1 OK");
        }
    }

    @Test
    void eightBitPasswordGoesUpstreamAsASynchronizingLiteralWhenTheProviderLacksLiteralPlus() throws Exception {
        upstream.script.capabilities = "IMAP4rev1 AUTH=PLAIN IDLE";
        upstream.script.password = "p\u00e4ss w\u00f6rd";
        start();
        byte[] password = upstream.script.password.getBytes(StandardCharsets.UTF_8);
        try (ImapTestClient c = new ImapTestClient(proxy.port())) {
            c.readResponse();
            c.send("a1 LOGIN alice {" + password.length + "}\r\n");
            assertThat(c.readLine()).startsWith("+ ");
            c.send(password);
            c.send("\r\n");
            assertThat(c.readUntilTagged("a1")).last().asString().startsWith("a1 OK");
        }
        assertThat(upstream.received).anyMatch(l -> l.matches("mp\\d+ LOGIN \"alice\" \\{" + password.length + "\\}"));
    }

    @Test
    void largeLiteralBeforeLoginIsRefusedWithoutContinuation() throws Exception {
        start();
        try (ImapTestClient c = new ImapTestClient(proxy.port())) {
            c.readResponse();
            c.send("a1 LOGIN alice {70000}\r\n");
            assertThat(c.readResponse()).isEqualTo("a1 NO [TOOBIG] Command too large before login");
            assertThat(c.command("a2", "LOGIN alice s3cret")).last().asString().startsWith("a2 OK");
        }
        assertThat(upstream.received).noneMatch(l -> l.contains("70000"));
    }

    @Test
    void commandsBeforeLogin() throws Exception {
        start();
        try (ImapTestClient c = new ImapTestClient(proxy.port())) {
            c.readResponse();
            assertThat(c.command("a1", "NOOP")).containsExactly("a1 OK NOOP completed");
            assertThat(c.command("a2", "ID (\"name\" \"test\")")).containsExactly("* ID (\"name\" \"mailproxy\")", "a2 OK ID completed");
            assertThat(c.command("a3", "STARTTLS")).containsExactly("a3 BAD STARTTLS not available");
            assertThat(c.command("a4", "SELECT INBOX")).containsExactly("a4 BAD Command not valid before login");
            assertThat(c.command("a5", "AUTHENTICATE CRAM-MD5")).containsExactly("a5 NO [CANNOT] Unsupported authentication mechanism");
            assertThat(c.command("a6", "LOGOUT")).containsExactly("* BYE mailproxy logging out", "a6 OK LOGOUT completed");
            assertThat(c.closedByPeer()).isTrue();
        }
        assertThat(upstream.received).isEmpty();
    }

    @Test
    void starttlsAndCompressAfterLoginAreRefused() throws Exception {
        start();
        try (ImapTestClient c = loggedIn()) {
            assertThat(c.command("b1", "STARTTLS")).containsExactly("b1 BAD STARTTLS is not available after login");
            assertThat(c.command("b2", "COMPRESS DEFLATE")).containsExactly("b2 NO [CANNOT] COMPRESS is not available through mailproxy");
            assertThat(c.command("b3", "NOOP")).containsExactly("b3 OK noop");
            assertThat(c.command("b4", "SORT (SUBJECT) UTF-8 ALL"))
                    .containsExactly("b4 BAD SORT is not available through mailproxy");
            assertThat(c.command("b5", "uid thread REFERENCES UTF-8 ALL"))
                    .containsExactly("b5 BAD THREAD is not available through mailproxy");
        }
        assertThat(upstream.received).noneMatch(l -> l.contains("COMPRESS") || l.contains("STARTTLS")
                || l.contains("SORT") || l.contains("THREAD"));
    }

    @Test
    void appendWithSynchronizingLiteral() throws Exception {
        start();
        byte[] message = "Subject: test\r\n\r\nbody line\r\n".getBytes(StandardCharsets.US_ASCII);
        try (ImapTestClient c = loggedIn()) {
            c.send("a2 APPEND INBOX (\\Seen) {" + message.length + "}\r\n");
            assertThat(c.readLine()).isEqualTo("+ go ahead");
            c.send(message);
            c.send("\r\n");
            assertThat(c.readUntilTagged("a2")).containsExactly("a2 OK [APPENDUID 7 1] appended");
        }
        assertThat(upstream.appended.get(0)).isEqualTo(message);
    }

    @Test
    void multiappendWithTwoSynchronizingLiterals() throws Exception {
        start();
        try (ImapTestClient c = loggedIn()) {
            c.send("a2 APPEND INBOX {5}\r\n");
            assertThat(c.readLine()).isEqualTo("+ go ahead");
            c.send("first (\\Seen) {6}\r\n");
            assertThat(c.readLine()).isEqualTo("+ go ahead");
            c.send("second\r\n");
            assertThat(c.readUntilTagged("a2")).containsExactly("a2 OK [APPENDUID 7 1] appended");
        }
        assertThat(upstream.literals).extracting(b -> new String(b, StandardCharsets.US_ASCII)).containsExactly("first", "second");
        assertThat(upstream.received).anyMatch(l -> l.equals(" (\\Seen) {6}"));
    }

    @Test
    void appendWithNonSynchronizingLiteralPassesToAProviderWithLiteralPlus() throws Exception {
        start();
        byte[] message = "Subject: plus\r\n\r\nx\r\n".getBytes(StandardCharsets.US_ASCII);
        try (ImapTestClient c = loggedIn()) {
            c.send("a2 APPEND INBOX {" + message.length + "+}\r\n");
            c.send(message);
            c.send("\r\na3 NOOP\r\n");
            assertThat(c.readUntilTagged("a3")).containsExactly("a2 OK [APPENDUID 7 1] appended", "a3 OK noop");
        }
        assertThat(upstream.appended.get(0)).isEqualTo(message);
        assertThat(upstream.received).anyMatch(l -> l.endsWith("APPEND INBOX {" + message.length + "+}"));
    }

    @Test
    void nonSynchronizingLiteralIsConvertedForAProviderWithoutLiteralPlus() throws Exception {
        upstream.script.capabilities = "IMAP4rev1 AUTH=PLAIN IDLE UIDPLUS";
        start();
        byte[] message = "Subject: converted\r\n\r\ny\r\n".getBytes(StandardCharsets.US_ASCII);
        try (ImapTestClient c = loggedIn()) {
            c.send("a2 APPEND INBOX {" + message.length + "+}\r\n");
            c.send(message);
            c.send("\r\na3 NOOP\r\n");
            // No "+" reaches the client: the proxy answered the provider's continuation itself.
            assertThat(c.readUntilTagged("a3")).containsExactly("a2 OK [APPENDUID 7 1] appended", "a3 OK noop");
        }
        assertThat(upstream.appended.get(0)).isEqualTo(message);
        assertThat(upstream.received).anyMatch(l -> l.endsWith("APPEND INBOX {" + message.length + "}"));
    }

    @Test
    void literalAboveLiteralMinusCapIsRefusedAndTheConnectionClosed() throws Exception {
        start();
        try (ImapTestClient c = loggedIn()) {
            c.send("a2 APPEND INBOX {5000+}\r\n");
            assertThat(c.readResponse()).startsWith("a2 BAD [TOOBIG]");
            assertThat(c.readResponse()).startsWith("* BYE");
            assertThat(c.closedByPeer()).isTrue();
        }
        assertThat(upstream.received).noneMatch(l -> l.contains("APPEND"));
    }

    @Test
    void fetchOfAMultiMegabyteBodyIsRelayedByteExact() throws Exception {
        byte[] body = new byte[3 * 1024 * 1024 + 17];
        new Random(42).nextBytes(body);
        for (int i = 0; i < body.length; i++) {
            if (body[i] == 0) {
                body[i] = 1;
            }
        }
        upstream.script.body = body;
        start();
        try (ImapTestClient c = loggedIn()) {
            c.command("a2", "SELECT INBOX");
            List<String> fetch = c.command("a3", "FETCH 1 BODY[]");
            assertThat(fetch).containsExactly("* 1 FETCH (UID 1 RFC822.SIZE " + body.length + " BODY[] <literal " + body.length + ">)",
                    "a3 OK fetched");
            assertThat(c.literals.get(c.literals.size() - 1)).isEqualTo(body);
        }
        assertThat(proxy.counter("mailproxy.bytes", "direction", "to_client")).isGreaterThan(body.length);
    }

    @Test
    void idleRelaysUnsolicitedResponsesAndDone() throws Exception {
        start();
        try (ImapTestClient c = loggedIn()) {
            c.command("a2", "SELECT INBOX");
            c.send("a3 IDLE\r\n");
            assertThat(c.readLine()).isEqualTo("+ idling");
            assertThat(c.readLine()).isEqualTo("* 2 EXISTS");
            c.send("DONE\r\n");
            assertThat(c.readUntilTagged("a3")).containsExactly("a3 OK idle done");
            assertThat(c.command("a4", "NOOP")).containsExactly("a4 OK noop");
        }
        assertThat(upstream.received).anyMatch(l -> l.equals("DONE"));
    }

    @Test
    void clientDroppingMidLiteralDoesNotDisturbOtherSessions() throws Exception {
        start();
        ImapTestClient dropper = loggedIn();
        dropper.send("a2 APPEND INBOX {100000}\r\n");
        assertThat(dropper.readLine()).startsWith("+ ");
        dropper.send("only a little of it");
        dropper.close();
        try (ImapTestClient c = loggedIn()) {
            assertThat(c.command("b1", "NOOP")).containsExactly("b1 OK noop");
        }
        await().until(() -> proxy.proxy.activeSessions() == 0);
    }

    @Test
    void oversizedLineGetsBadAndCloseAndTheProxyServesTheNextSession() throws Exception {
        start();
        try (ImapTestClient c = new ImapTestClient(proxy.port())) {
            c.readResponse();
            c.send("a1 NOOP " + "x".repeat(70_000) + "\r\n");
            assertThat(c.readResponse()).isEqualTo("* BAD Command line too long");
            assertThat(c.readResponse()).startsWith("* BYE");
            assertThat(c.closedByPeer()).isTrue();
        }
        try (ImapTestClient c = loggedIn()) {
            assertThat(c.command("b1", "NOOP")).containsExactly("b1 OK noop");
        }
        assertThat(proxy.counter("mailproxy.protocol.errors")).isEqualTo(1);
    }

    @Test
    void garbageAndNulGetProtocolErrors() throws Exception {
        start();
        try (ImapTestClient c = new ImapTestClient(proxy.port())) {
            c.readResponse();
            c.send("\"bad tag\r\n");
            assertThat(c.readResponse()).isEqualTo("* BAD Invalid tag");
            c.send("a1 NO\0OP\r\n");
            assertThat(c.readResponse()).isEqualTo("* BAD NUL octet in command");
            assertThat(c.readResponse()).startsWith("* BYE");
            assertThat(c.closedByPeer()).isTrue();
        }
    }

    @Test
    void tooLargeSynchronizingLiteralGetsTooBigWithoutContinuation() throws Exception {
        start();
        try (ImapTestClient c = loggedIn()) {
            c.send("a2 APPEND INBOX {999999999999}\r\n");
            assertThat(c.readResponse()).startsWith("a2 NO [TOOBIG]");
            assertThat(c.command("a3", "NOOP")).containsExactly("a3 OK noop");
        }
    }

    @Test
    void shutdownSaysByeToEverySession() throws Exception {
        start();
        try (ImapTestClient c = loggedIn()) {
            proxy.proxy.drainAndClose(java.time.Duration.ofSeconds(1)).toCompletableFuture().get();
            assertThat(c.readResponse()).isEqualTo("* BYE mailproxy shutting down");
            assertThat(c.closedByPeer()).isTrue();
        }
        assertThat(proxy.proxy.activeSessions()).isZero();
    }
}
