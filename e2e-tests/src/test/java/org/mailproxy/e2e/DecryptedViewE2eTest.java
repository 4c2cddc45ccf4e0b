package org.mailproxy.e2e;

import ch.qos.logback.classic.spi.ILoggingEvent;
import jakarta.mail.BodyPart;
import jakarta.mail.Folder;
import jakarta.mail.Message;
import jakarta.mail.Multipart;
import jakarta.mail.Session;
import jakarta.mail.Store;
import jakarta.mail.UIDFolder;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.core.mime.PgpMimeDecryptor;
import org.mailproxy.e2e.EncryptedCorpus.Expect;
import org.mailproxy.e2e.EncryptedCorpus.Item;
import org.mailproxy.e2e.RawImap.Response;
import org.mailproxy.e2e.RunningProxy.Local;
import org.mailproxy.e2e.RunningProxy.Upstream;
import org.mailproxy.testing.MailStack;
import org.mailproxy.testing.MailUser;
import org.mailproxy.testing.RequiresMailStack;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mailproxy.e2e.PgpWorld.BOB;
import static org.mailproxy.e2e.PgpWorld.CAROL;

/**
 * The decrypted view through real clients: alice's mailbox holds {@link EncryptedCorpus} at the provider, the daemon
 * holds her unlocked key, and mbsync, curl, Angus Mail, Python's imaplib (replaying Thunderbird's listing) and a raw
 * client read it through the proxy. Each must see, octet for octet, the message {@link EncryptedCorpus#expectedView}
 * names: decryptable mail decrypted with the protected header fields promoted and our status field, everything
 * undecryptable as stored under the fixed notice and without a trace of its plaintext, plain mail as stored minus
 * forged status fields. Every FETCH item describes those octets (RFC822.SIZE, BODYSTRUCTURE, ENVELOPE, sections,
 * partials): checked against what the provider itself says about the same octets, stored in a reference folder.
 * Last, after all of that, a fresh session still works and no canary reached the log (SECURITY.md 24).
 *
 * <p>The 20 MB message sits in a folder of its own, read only by the tests about large messages.
 */
@RequiresMailStack
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DecryptedViewE2eTest {

    /** The large message's attachment; armored and in PGP/MIME it is about 20 MB at the provider. */
    private static final int LARGE_ATTACHMENT = 11_000_000;
    private static final Duration TIMEOUT = Duration.ofSeconds(90);
    /** The fields Thunderbird lists a folder with (STANDARDS.md). */
    private static final List<String> THUNDERBIRD_FIELDS = List.of("From", "To", "Cc", "Bcc", "Subject", "Date",
            "Message-ID", "Priority", "X-Priority", "References", "Newsgroups", "In-Reply-To", "Content-Type",
            "Reply-To");
    private static final Pattern STATUS = Pattern.compile(
            "decrypted; integrity=ok; signature=(valid|none|bad|unknown-key|valid-other-signer)(; signer=([0-9A-Fa-f]+))?");

    @TempDir
    static Path classDir;

    private static PgpWorld world;
    private static EncryptedCorpus corpus;
    private static List<Item> small;
    private static String folder;
    private static String largeFolder;
    private static String referenceFolder;
    private static Map<String, Long> uids;
    private static Map<String, Long> largeUids;
    private static Map<String, Long> referenceUids;
    private static Map<String, byte[]> views;
    private static CapturedLogs logs;
    private static RunningProxy proxy;
    private static MailUser alice;

    @TempDir
    Path dir;

    @BeforeAll
    static void seedAndStart(MailStack stack) throws Exception {
        world = new PgpWorld(classDir, BOB, CAROL);
        corpus = EncryptedCorpus.build(world, classDir.resolve("corpus"), LARGE_ATTACHMENT);
        small = corpus.items().stream().filter(i -> !i.name().equals("large")).toList();
        String run = UUID.randomUUID().toString().substring(0, 8);
        folder = "View" + run;
        largeFolder = "ViewLarge" + run;
        referenceFolder = "ViewReference" + run;
        alice = stack.alice();
        uids = EncryptedCorpus.seed(stack, alice, folder, small);
        largeUids = EncryptedCorpus.seed(stack, alice, largeFolder, List.of(corpus.get("large")));
        try (EncryptedCorpus.Oracle oracle = new EncryptedCorpus.Oracle(world, classDir.resolve("oracle-spool"))) {
            views = corpus.expectedViews(oracle);
        }
        // the provider's own account of the expected octets: the judge of every FETCH item but the body
        List<Item> reference = small.stream().map(i -> new Item(i.name(), i.expect(), views.get(i.name()),
                i.messageId(), i.canary(), i.subject(), i.signature(), i.signer(), i.attachment(), i.inline()))
                .toList();
        referenceUids = EncryptedCorpus.seed(stack, alice, referenceFolder, reference);
        logs = CapturedLogs.atTrace();
        proxy = RunningProxy.start(stack, classDir, Local.OFF, Upstream.IMPLICIT, "", world.aliceAccount(""));
    }

    @AfterAll
    static void stop(MailStack stack) throws IOException {
        if (proxy != null) {
            proxy.close();
        }
        if (logs != null) {
            logs.close();
        }
        if (world != null) {
            world.close();
        }
        for (String f : new String[]{folder, largeFolder, referenceFolder}) {
            if (f != null && alice != null) {
                try {
                    EncryptedCorpus.deleteFolder(stack, alice, f);
                } catch (AssertionError | IOException e) {
                    // a folder seeding never made
                }
            }
        }
    }

    // ---------------------------------------------------------------- judging a shown message

    /**
     * The independent checks of one shown message (CRLF octets): its status field, Subject and body judged against
     * the corpus and gpg; then the exact octets against the expected view.
     */
    private static void judge(String client, Item item, byte[] shown) {
        String text = new String(shown, StandardCharsets.UTF_8);
        String head = new String(EncryptedCorpus.headerOf(shown), StandardCharsets.UTF_8);
        List<String> status = fieldValues(head, PgpMimeDecryptor.STATUS_HEADER);
        switch (item.expect()) {
            case DECRYPTED -> {
                assertThat(status).as("%s: %s has one status field", client, item).hasSize(1);
                Matcher m = STATUS.matcher(status.get(0));
                assertThat(m.matches()).as("%s: %s status %s", client, item, status).isTrue();
                assertThat(m.group(1)).as("%s: %s signature verdict", client, item).isEqualTo(item.signature());
                assertThat(m.group(3) == null ? null : m.group(3).toUpperCase(Locale.ROOT))
                        .as("%s: %s signer", client, item).isEqualTo(item.signer());
                assertThat(PgpWorld.field(head, "Subject")).as("%s: %s Subject", client, item)
                        .isEqualTo(item.subject());
                byte[] gpg = corpus.gpgPlaintext(item);
                if (item.inline()) {
                    assertSameOctets(client + ": " + item + " text vs gpg's", EncryptedCorpus.base64Body(shown), gpg);
                } else {
                    assertSameOctets(client + ": " + item + " body vs gpg's", EncryptedCorpus.bodyOf(shown),
                            EncryptedCorpus.bodyOf(gpg));
                }
            }
            case NOT_DECRYPTED -> {
                assertThat(text.startsWith(EncryptedCorpus.NOTICE))
                        .as("%s: %s starts with the notice, not with %s", client, item,
                                text.substring(0, Math.max(0, text.indexOf("\r\n"))))
                        .isTrue();
                assertThat(status).as("%s: %s status fields", client, item).containsExactly("not-decrypted");
                assertThat(text).as("%s: %s shows no plaintext", client, item).doesNotContain(item.canary());
            }
            case PLAIN -> assertThat(status).as("%s: %s status fields", client, item).isEmpty();
        }
        assertSameOctets(client + ": " + item + " vs the expected view", shown, views.get(item.name()));
    }

    /** Failures per message, so one run names every message a client saw wrong, not just the first. */
    private static final class Findings {
        private final String client;
        private final List<String> failures = new ArrayList<>();

        Findings(String client) {
            this.client = client;
        }

        void check(Item item, Check check) throws Exception {
            try {
                check.run();
            } catch (AssertionError e) {
                String m = String.valueOf(e.getMessage()).strip();
                failures.add(item.name() + ": " + (m.length() <= 1500 ? m : m.substring(0, 1500) + "…"));
            }
        }

        void assertNone() {
            assertThat(failures).as("%s: messages shown wrong", client).isEmpty();
        }
    }

    @FunctionalInterface
    private interface Check {
        void run() throws Exception;
    }

    /** Byte equality that reports where two large messages part, not both arrays. */
    static void assertSameOctets(String what, byte[] got, byte[] expected) {
        if (Arrays.equals(got, expected)) {
            return;
        }
        int i = Arrays.mismatch(got, expected);
        throw new AssertionError(what + ": " + got.length + " octets instead of " + expected.length
                + ", first difference at offset " + i + ":\n got      " + snippet(got, i)
                + "\n expected " + snippet(expected, i));
    }

    private static String snippet(byte[] b, int at) {
        int from = Math.max(0, at - 60);
        int to = Math.min(b.length, at + 60);
        return "…" + new String(b, from, to - from, StandardCharsets.UTF_8).replace("\r", "\\r").replace("\n", "\\n")
                + "…";
    }

    /** All values of a header field, unfolded and trimmed. */
    static List<String> fieldValues(String header, String name) {
        List<String> out = new ArrayList<>();
        String head = header.contains("\r\n\r\n") ? header.substring(0, header.indexOf("\r\n\r\n")) : header;
        for (String line : head.replaceAll("\r\n[ \t]+", " ").split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase(name)) {
                out.add(line.substring(colon + 1).trim());
            }
        }
        return out;
    }

    /** {@code BODY[HEADER.FIELDS (names)]} as RFC 9051 §6.4.5 defines it: those fields as they are, then CRLF. */
    static byte[] headerFields(byte[] message, List<String> names) {
        Set<String> wanted = new HashSet<>();
        names.forEach(n -> wanted.add(n.toLowerCase(Locale.ROOT)));
        String head = new String(EncryptedCorpus.headerOf(message), StandardCharsets.ISO_8859_1);
        head = head.substring(0, head.length() - 2);
        StringBuilder out = new StringBuilder();
        for (String field : head.split("\r\n(?![ \t])")) {
            int colon = field.indexOf(':');
            if (colon > 0 && wanted.contains(field.substring(0, colon).trim().toLowerCase(Locale.ROOT))) {
                out.append(field).append("\r\n");
            }
        }
        return out.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    private static Item itemOf(Map<String, Long> uidMap, long uid) {
        return uidMap.entrySet().stream().filter(e -> e.getValue() == uid).map(e -> corpus.get(e.getKey()))
                .findFirst().orElseThrow(() -> new AssertionError("no corpus message has UID " + uid));
    }

    // ---------------------------------------------------------------- mbsync

    @Test
    @Order(1)
    void mbsyncStoresWhatTheViewShows() throws Exception {
        Tool mbsync = Tool.require("mbsync");
        Tool.Result version = mbsync.run(dir, TIMEOUT, List.of("--version"));
        Matcher v = Pattern.compile("isync (\\d+)\\.(\\d+)").matcher(version.out());
        assertThat(v.find()).as("mbsync --version: %s", version.out()).isTrue();
        int major = Integer.parseInt(v.group(1));
        int minor = Integer.parseInt(v.group(2));
        String tlsKeyword = major > 1 || minor >= 5 ? "TLSType" : "SSLType";
        Path near = dir.resolve("near");
        Files.createDirectories(near);
        Path pass = dir.resolve("pass");
        Files.writeString(pass, alice.password());
        Files.setPosixFilePermissions(pass, PosixFilePermissions.fromString("rw-------"));
        Path rc = dir.resolve("mbsyncrc");
        Files.writeString(rc, "IMAPAccount proxy\nHost 127.0.0.1\nPort " + proxy.imapPort() + "\nUser "
                + alice.login() + "\nPassCmd \"cat " + pass + "\"\n" + tlsKeyword + " None\nAuthMechs LOGIN\n\n"
                + "IMAPStore far\nAccount proxy\n\n"
                + "MaildirStore near\nPath " + near + "/\nInbox " + near + "/INBOX\nSubFolders Verbatim\n\n"
                + "Channel mail\nFar :far:\nNear :near:\nPatterns " + folder + "\nCreate Near\nSync Pull\n"
                + "SyncState *\n");
        Files.setPosixFilePermissions(rc, PosixFilePermissions.fromString("rw-------"));

        Tool.Result first = mbsync.run(dir, TIMEOUT, List.of("-c", rc.toString(), "-a"));
        assertThat(first.exit()).as(first.describe()).isZero();
        Map<String, byte[]> after1 = maildir(near.resolve(folder));
        assertThat(after1).as("one local file per message").hasSize(small.size());
        Set<String> seen = new HashSet<>();
        Findings findings = new Findings("mbsync");
        for (Map.Entry<String, byte[]> f : after1.entrySet()) {
            // a maildir store keeps LF line ends and mbsync adds its X-TUID line; our messages are CRLF throughout
            // and valid UTF-8, so undoing both gives the octets the client fetched
            String lf = new String(f.getValue(), StandardCharsets.UTF_8);
            Matcher tuid = Pattern.compile("(?m)^X-TUID: [^\n]*\n").matcher(lf);
            assertThat(tuid.find() && tuid.start() < lf.indexOf("\n\n")).as("%s has X-TUID", f.getKey()).isTrue();
            byte[] crlf = ((lf.substring(0, tuid.start()) + lf.substring(tuid.end())).replace("\n", "\r\n"))
                    .getBytes(StandardCharsets.UTF_8);
            Item item = corpus.byMessageId(new String(crlf, StandardCharsets.UTF_8));
            assertThat(item).as("%s is a corpus message", f.getKey()).isNotNull();
            assertThat(seen.add(item.name())).as("%s arrived once", item).isTrue();
            findings.check(item, () -> judge("mbsync", item, crlf));
        }

        Tool.Result second = mbsync.run(dir, TIMEOUT, List.of("-c", rc.toString(), "-a", "-V"));
        assertThat(second.exit()).as(second.describe()).isZero();
        Map<String, byte[]> after2 = maildir(near.resolve(folder));
        assertThat(after2.keySet()).as("the second sync changes nothing; its log:\n%s", second.out())
                .isEqualTo(after1.keySet());
        after1.forEach((name, content) -> assertThat(after2.get(name)).as(name).isEqualTo(content));
        findings.assertNone();
    }

    private static Map<String, byte[]> maildir(Path folderDir) throws IOException {
        Map<String, byte[]> files = new TreeMap<>();
        for (String sub : List.of("new", "cur")) {
            Path d = folderDir.resolve(sub);
            if (Files.isDirectory(d)) {
                try (Stream<Path> list = Files.list(d)) {
                    for (Path f : list.toList()) {
                        files.put(sub + "/" + f.getFileName(), Files.readAllBytes(f));
                    }
                }
            }
        }
        return files;
    }

    // ---------------------------------------------------------------- curl

    private Tool.Result curl(String path, String... more) {
        Tool curl = Tool.require("curl");
        List<String> a = new ArrayList<>(List.of("-s", "-S", "--max-time", "60",
                "--url", "imap://127.0.0.1:" + proxy.imapPort() + path,
                "--user", alice.login() + ":" + alice.password()));
        a.addAll(List.of(more));
        Tool.Result r = curl.run(dir, TIMEOUT, a);
        assertThat(r.exit()).as("curl %s: %s", path, r.describe()).isZero();
        return r;
    }

    private long curlSize(String mailbox, long uid) {
        String out = curl("/" + mailbox, "-X", "UID FETCH " + uid + " (RFC822.SIZE)").out();
        Matcher m = Pattern.compile("RFC822\\.SIZE (\\d+)").matcher(out);
        assertThat(m.find()).as("RFC822.SIZE in %s", out).isTrue();
        return Long.parseLong(m.group(1));
    }

    @Test
    @Order(2)
    void curlFetchesWholeMessagesSectionsAndPartials() throws Exception {
        Findings findings = new Findings("curl");
        for (Item item : small) {
            findings.check(item, () -> curlOne(item));
        }
        findings.check(corpus.get("protected-headers"), this::curlSections);
        findings.assertNone();
    }

    private void curlOne(Item item) {
        long uid = uids.get(item.name());
        byte[] whole = curl("/" + folder + ";UID=" + uid).stdout();
        judge("curl", item, whole);
        assertThat(curlSize(folder, uid)).as("curl: RFC822.SIZE of %s", item).isEqualTo(whole.length);
        ByteArrayOutputStream pieces = new ByteArrayOutputStream();
        int chunk = Math.max(1_000, whole.length / 4 + 1); // uneven pieces, a short last one
        for (int at = 0; at < whole.length; at += chunk) {
            pieces.writeBytes(curl("/" + folder + ";UID=" + uid + ";PARTIAL=" + at + "." + chunk)
                    .stdout());
        }
        assertSameOctets("curl: " + item + " reassembled from partials", pieces.toByteArray(), whole);
        assertSameOctets("curl: " + item + " HEADER", curl("/" + folder + ";UID=" + uid + ";SECTION=HEADER")
                .stdout(), EncryptedCorpus.headerOf(whole));
        assertSameOctets("curl: " + item + " TEXT", curl("/" + folder + ";UID=" + uid + ";SECTION=TEXT")
                .stdout(), EncryptedCorpus.bodyOf(whole));
    }

    private void curlSections() throws Exception {
        Item hp = corpus.get("protected-headers");
        long uid = uids.get(hp.name());
        MimeMessage parsed = new MimeMessage(Session.getInstance(new Properties()),
                new ByteArrayInputStream(views.get(hp.name())));
        MimeMultipart mp = (MimeMultipart) parsed.getContent();
        for (int part = 1; part <= mp.getCount(); part++) {
            MimeBodyPart p = (MimeBodyPart) mp.getBodyPart(part - 1);
            byte[] expected;
            try (InputStream in = p.getRawInputStream()) {
                expected = in.readAllBytes();
            }
            assertSameOctets("curl: " + hp + " SECTION=" + part,
                    curl("/" + folder + ";UID=" + uid + ";SECTION=" + part).stdout(), expected);
        }
        byte[] attachment = curl("/" + folder + ";UID=" + uid + ";SECTION=2").stdout();
        assertSameOctets("curl: " + hp + " attachment decoded",
                Base64.getMimeDecoder().decode(attachment), hp.attachment());
        byte[] text = curl("/" + folder + ";UID=" + uid + ";SECTION=1").stdout();
        assertThat(new String(text, StandardCharsets.UTF_8)).as("curl: %s text part", hp).contains(hp.canary());
    }

    @Test
    @Order(3)
    void curlFetchesTheLargeMessageWholeAndInPartials() {
        Item large = corpus.get("large");
        long uid = largeUids.get("large");
        byte[] expected = views.get("large");
        long size = curlSize(largeFolder, uid);
        assertThat(size).as("RFC822.SIZE of the large message").isEqualTo(expected.length);
        byte[] whole = curl("/" + largeFolder + ";UID=" + uid).stdout();
        assertThat(whole.length).as("octets received vs RFC822.SIZE").isEqualTo(size);
        judge("curl", large, whole);
        ByteArrayOutputStream pieces = new ByteArrayOutputStream();
        int chunk = 4 << 20;
        for (long at = 0; at < size; at += chunk) {
            pieces.writeBytes(curl("/" + largeFolder + ";UID=" + uid + ";PARTIAL=" + at + "." + chunk)
                    .stdout());
        }
        assertSameOctets("curl: large reassembled from 4 MiB partials", pieces.toByteArray(), expected);
    }

    // ---------------------------------------------------------------- Angus Mail

    private static Session angus(int fetchSize) {
        Properties p = new Properties();
        p.put("mail.imap.host", "127.0.0.1");
        p.put("mail.imap.port", Integer.toString(proxy.imapPort()));
        p.put("mail.imap.connectiontimeout", "20000");
        p.put("mail.imap.timeout", "60000");
        p.put("mail.imap.fetchsize", Integer.toString(fetchSize));
        return Session.getInstance(p);
    }

    @Test
    @Order(4)
    void angusMailReadsTheViewThroughBodystructureSectionsAndPartials() throws Exception {
        try (Store store = angus(16_384).getStore("imap")) {
            store.connect(alice.login(), alice.password());
            Folder f = store.getFolder(folder);
            f.open(Folder.READ_ONLY);
            try {
                Findings findings = new Findings("Angus");
                for (Item item : small) {
                    findings.check(item, () -> angusOne(f, item));
                }
                findings.check(corpus.get("protected-headers"),
                        () -> assertAttachment(f, corpus.get("protected-headers"), uids));
                findings.assertNone();
            } finally {
                f.close(false);
            }
        }
    }

    private static void angusOne(Folder f, Item item) throws Exception {
        Message m = ((UIDFolder) f).getMessageByUID(uids.get(item.name()));
        assertThat(m).as("Angus: %s by UID", item).isNotNull();
        byte[] expected = views.get(item.name());
        assertThat(m.getSize()).as("Angus: RFC822.SIZE of %s", item).isEqualTo(expected.length);
        assertThat(m.getSubject()).as("Angus: ENVELOPE Subject of %s", item).isEqualTo(item.subject());
        ByteArrayOutputStream written = new ByteArrayOutputStream();
        m.writeTo(written); // BODY.PEEK[] in 16 KiB partials
        judge("Angus", item, written.toByteArray());
        String[] status = m.getHeader(PgpMimeDecryptor.STATUS_HEADER);
        switch (item.expect()) {
            case DECRYPTED -> assertThat(status).as("Angus: %s", item).hasSize(1);
            case NOT_DECRYPTED -> assertThat(status).as("Angus: %s", item).containsExactly("not-decrypted");
            case PLAIN -> assertThat(status).as("Angus: %s", item).isNull();
        }
        if (item.inline()) {
            assertThat(m.getContent()).as("Angus: %s text", item)
                    .isEqualTo(new String(corpus.gpgPlaintext(item), StandardCharsets.UTF_8));
        }
    }

    /** getContent() of the multipart (from BODYSTRUCTURE), the text part and the attachment fetched as sections. */
    private static void assertAttachment(Folder f, Item item, Map<String, Long> uidMap) throws Exception {
        Message m = ((UIDFolder) f).getMessageByUID(uidMap.get(item.name()));
        assertThat(m.getContentType()).as("Angus: %s Content-Type", item).startsWithIgnoringCase("multipart/mixed");
        Multipart mp = (Multipart) m.getContent();
        assertThat(mp.getCount()).as("Angus: %s parts", item).isEqualTo(2);
        BodyPart text = mp.getBodyPart(0);
        assertThat((String) text.getContent()).as("Angus: %s text part", item).contains(item.canary())
                .contains("Grüße");
        BodyPart file = mp.getBodyPart(1);
        assertThat(file.getFileName()).as("Angus: %s attachment name", item).isEqualTo("report.pdf");
        byte[] got;
        try (InputStream in = file.getInputStream()) {
            got = in.readAllBytes();
        }
        assertSameOctets("Angus: " + item + " attachment", got, item.attachment());
    }

    @Test
    @Order(5)
    void angusMailReadsTheLargeMessage() throws Exception {
        Item large = corpus.get("large");
        try (Store store = angus(1 << 20).getStore("imap")) {
            store.connect(alice.login(), alice.password());
            Folder f = store.getFolder(largeFolder);
            f.open(Folder.READ_ONLY);
            try {
                Message m = ((UIDFolder) f).getMessageByUID(largeUids.get("large"));
                assertThat(m.getSize()).as("Angus: RFC822.SIZE of the large message")
                        .isEqualTo(views.get("large").length);
                assertThat(m.getSubject()).isEqualTo(large.subject());
                assertAttachment(f, large, largeUids);
            } finally {
                f.close(false);
            }
        }
    }

    // ---------------------------------------------------------------- Python imaplib as Thunderbird

    @Test
    @Order(6)
    void thunderbirdListingShowsTheRealSubjects() throws Exception {
        Tool python = Tool.require("python3");
        Path script = dir.resolve("thunderbird_listing.py");
        try (InputStream in = getClass().getResourceAsStream("thunderbird_listing.py")) {
            assertThat(in).as("thunderbird_listing.py on the test classpath").isNotNull();
            Files.copy(in, script);
        }
        Tool.Result r = python.run(dir, TIMEOUT, List.of(script.toString(), "127.0.0.1",
                Integer.toString(proxy.imapPort()), alice.login(), folder),
                (alice.password() + "\n").getBytes(StandardCharsets.UTF_8), Map.of());
        assertThat(r.exit()).as(r.describe()).isZero();
        List<String> lines = r.out().lines().toList();
        assertThat(lines).as("one line per message").hasSize(small.size());
        Findings findings = new Findings("imaplib");
        for (String line : lines) {
            String[] f = line.split("\t");
            Item item = itemOf(uids, Long.parseLong(f[0]));
            findings.check(item, () -> imaplibOne(item, f));
        }
        findings.assertNone();
    }

    private static void imaplibOne(Item item, String[] f) {
        byte[] expected = views.get(item.name());
        byte[] fields = Base64.getDecoder().decode(f[2]);
        byte[] message = Base64.getDecoder().decode(f[4]);
        assertThat(PgpWorld.field(new String(fields, StandardCharsets.UTF_8), "Subject"))
                .as("imaplib: listed Subject of %s", item).isEqualTo(item.subject());
        assertSameOctets("imaplib: " + item + " listed header fields", fields,
                headerFields(expected, THUNDERBIRD_FIELDS));
        assertThat(Long.parseLong(f[1])).as("imaplib: listed RFC822.SIZE of %s", item).isEqualTo(expected.length);
        assertThat(Long.parseLong(f[3])).as("imaplib: RFC822.SIZE of %s when opened", item)
                .isEqualTo(message.length);
        judge("imaplib", item, message);
    }

    // ---------------------------------------------------------------- every FETCH item vs the provider's own

    /**
     * For each message, single FETCH items through the proxy against the same items the provider answers for the
     * expected octets stored in the reference folder: sizes, ENVELOPE, BODYSTRUCTURE, sections, partials.
     */
    @Test
    @Order(7)
    void everyFetchItemDescribesTheShownOctets(MailStack stack) throws Exception {
        List<String> items = new ArrayList<>(List.of("RFC822.SIZE", "ENVELOPE", "BODYSTRUCTURE", "BODY",
                "BODY.PEEK[HEADER]", "BODY.PEEK[TEXT]", "BODY.PEEK[1]", "BODY.PEEK[1.MIME]",
                "BODY.PEEK[HEADER.FIELDS (SUBJECT FROM CONTENT-TYPE X-MAILPROXY-STATUS)]",
                "BODY.PEEK[HEADER.FIELDS.NOT (SUBJECT RECEIVED)]", "BODY.PEEK[]<0.100>", "BODY.PEEK[]<100.5000>",
                "BODY.PEEK[TEXT]<10.50>", "RFC822.HEADER"));
        try (RawImap viaProxy = login(new RawImap(proxy.imapPort()), folder);
             RawImap direct = login(new RawImap(stack.clientSocketFactory().createSocket(stack.host(),
                     stack.imapsPort())), referenceFolder)) {
            int n = 0;
            List<String> differences = new ArrayList<>();
            for (Item item : small) {
                for (String fetchItem : items) {
                    String tag = "f" + (++n);
                    List<Response> got = viaProxy.command(tag, "UID FETCH " + uids.get(item.name()) + " ("
                            + fetchItem + ")");
                    List<Response> want = direct.command(tag, "UID FETCH " + referenceUids.get(item.name()) + " ("
                            + fetchItem + ")");
                    String g = normalized(got);
                    String w = normalized(want);
                    // type, subtype, encoding and parameter names are case-insensitive (RFC 2045 §5.1)
                    boolean structure = fetchItem.equals("BODYSTRUCTURE") || fetchItem.equals("BODY");
                    if (structure ? !g.equalsIgnoreCase(w) : !g.equals(w)) {
                        differences.add(item.name() + " " + fetchItem + ":\n  proxy    " + abbreviate(g)
                                + "\n  provider " + abbreviate(w));
                    }
                }
            }
            assertThat(differences).as("FETCH items through the proxy vs the provider's for the expected octets")
                    .isEmpty();
        }
    }

    private static RawImap login(RawImap c, String mailbox) throws IOException {
        assertThat(c.readLine()).startsWith("* OK");
        assertThat(RawImap.last(c.command("l1", "LOGIN " + RawImap.quoted(alice.login()) + " "
                + RawImap.quoted(alice.password())))).startsWith("l1 OK");
        assertThat(RawImap.last(c.command("l2", "EXAMINE " + RawImap.quoted(mailbox)))).startsWith("l2 OK");
        return c;
    }

    /** The FETCH responses without sequence number and UID, literals inlined; the tagged status word only. */
    private static String normalized(List<Response> responses) {
        StringBuilder sb = new StringBuilder();
        for (Response r : responses) {
            String text = r.text();
            if (text.startsWith("* ") && text.contains(" FETCH (")) {
                StringBuilder t = new StringBuilder(text.substring(text.indexOf(" FETCH (") + 1));
                for (byte[] lit : r.literals()) {
                    int at = t.indexOf("{" + lit.length + "}");
                    String inline = "{" + lit.length + "}" + new String(lit, StandardCharsets.UTF_8);
                    t.replace(at, at + ("{" + lit.length + "}").length(), inline);
                }
                sb.append(t.toString().replaceAll("UID \\d+ ?", "").replace(" )", ")")).append('\n');
            } else if (!text.startsWith("* ")) {
                sb.append(text.split(" ")[1]).append('\n');
            }
        }
        return sb.toString();
    }

    private static String abbreviate(String s) {
        String one = s.replace("\r", "\\r").replace("\n", "\\n");
        return one.length() <= 600 ? one : one.substring(0, 600) + "… (" + one.length() + " chars)";
    }

    // ---------------------------------------------------------------- afterwards

    @Test
    @Order(100)
    void theDaemonStillServesAndNoCanaryReachedTheLog() throws IOException {
        try (RawImap c = login(new RawImap(proxy.imapPort()), folder)) {
            List<Response> list = c.command("a1", "UID FETCH 1:* (UID RFC822.SIZE)");
            assertThat(RawImap.last(list)).startsWith("a1 OK");
            assertThat(list.stream().filter(r -> r.text().contains(" FETCH (")).count())
                    .as("a fresh session lists every message").isEqualTo(small.size());
            assertThat(RawImap.last(c.command("a2", "LOGOUT"))).startsWith("a2 OK");
        }
        List<ILoggingEvent> events = logs.events();
        assertThat(events).as("the run was logged at all").isNotEmpty();
        Map<String, String> canaries = new LinkedHashMap<>();
        corpus.items().forEach(i -> canaries.put(i.name(), i.canary()));
        // a protected Subject is as secret as the body
        corpus.items(Expect.DECRYPTED).stream().filter(i -> !PgpWorld.field(i.text(), "Subject").equals(i.subject()))
                .forEach(i -> canaries.put(i.name() + " (protected Subject)", i.subject()));
        for (ILoggingEvent e : events) {
            String text = CapturedLogs.everything(e);
            canaries.forEach((name, canary) -> assertThat(text)
                    .as("log event from %s holds the canary of %s", e.getLoggerName(), name).doesNotContain(canary));
        }
    }
}
