package org.mailproxy.e2e;

import jakarta.mail.Folder;
import jakarta.mail.Message;
import jakarta.mail.Session;
import jakarta.mail.Store;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.Assumptions;
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

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * mbsync (isync) pulls a seeded mailbox through the proxy into a local maildir: every folder, messages of varied
 * sizes (multi-MB base64 attachments, 8-bit bodies, long header lines). Each local file must hold exactly the
 * bytes Dovecot stored; the only differences allowed are isync's own: a maildir store keeps LF line ends (CRLF
 * becomes LF), and mbsync adds one {@code X-TUID} header line to every message it propagates, so it can find the
 * message again after an interrupted run. A second run must transfer nothing. mbsync relies on exact literal sizes and
 * UIDPLUS, so a proxy that changes a single octet or miscounts a literal fails here.
 */
@RequiresMailStack
class MbsyncE2eTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(90);
    private static final List<String> FOLDERS = List.of("INBOX", "Sent", "Drafts", "Trash");
    private static final Pattern TUID = Pattern.compile("(?m)^X-TUID: [^\n]*\n");
    private static boolean seeded;

    @TempDir
    Path dir;

    private Tool mbsync;
    /** isync 1.5 renamed SSLType to TLSType; 1.4 (Debian 12) knows only the old name. */
    private String tlsKeyword;

    @BeforeEach
    void needsMbsync(@TempDir Path scratch) {
        mbsync = Tool.require("mbsync");
        Tool.Result version = mbsync.run(scratch, TIMEOUT, List.of("--version"));
        Matcher m = Pattern.compile("isync (\\d+)\\.(\\d+)").matcher(version.out());
        assertThat(m.find()).as("mbsync --version: %s", version.out()).isTrue();
        int major = Integer.parseInt(m.group(1));
        int minor = Integer.parseInt(m.group(2));
        Assumptions.assumeTrue(major > 1 || minor >= 4, "mbsync " + major + "." + minor
                + " predates the Far/Near channel syntax (isync 1.4)");
        tlsKeyword = major > 1 || minor >= 5 ? "TLSType" : "SSLType";
    }

    /** carol's mailbox, filled once for the whole class: the runs only read it. */
    private static synchronized void seed(MailStack stack) {
        if (seeded) {
            return;
        }
        MailUser carol = stack.carol();
        stack.clearMailbox(carol);
        String from = stack.alice().email();
        String to = carol.email();
        stack.deliver(carol, TestMessages.plain(from, to, id(), "A small message.\r\n"));
        stack.deliver(carol, TestMessages.eightBit(from, to, id()));
        stack.deliver(carol, TestMessages.longHeaders(from, to, id()));
        stack.deliver(carol, TestMessages.withAttachment(from, to, id(), 1_500_000, 1));
        stack.deliver(carol, TestMessages.withAttachment(from, to, id(), 4_000_000, 2));
        stack.deliver(carol, "Sent", TestMessages.plain(to, from, id(), "Sent by carol.\r\n"));
        stack.deliver(carol, "Drafts", TestMessages.eightBit(to, from, id()));
        seeded = true;
    }

    private static String id() {
        return UUID.randomUUID().toString();
    }

    private Path writeConfig(RunningProxy proxy, Local local, MailUser user) throws IOException {
        return writeConfig(proxy, local, user, "*", "Pull");
    }

    private Path writeConfig(RunningProxy proxy, Local local, MailUser user, String patterns, String sync)
            throws IOException {
        Path near = dir.resolve("near");
        Files.createDirectories(near);
        Path pass = dir.resolve("pass");
        Files.writeString(pass, user.password());
        Files.setPosixFilePermissions(pass, PosixFilePermissions.fromString("rw-------"));
        String tls = switch (local) {
            case OFF -> tlsKeyword + " None\n"
                    // isync refuses to send a password in the clear unless told to; on loopback that is the point.
                    + "AuthMechs LOGIN\n";
            case STARTTLS -> tlsKeyword + " STARTTLS\nCertificateFile " + proxy.localCert() + "\n";
            case IMPLICIT -> tlsKeyword + " IMAPS\nCertificateFile " + proxy.localCert() + "\n";
        };
        String rc = "IMAPAccount proxy\n"
                + "Host 127.0.0.1\n"
                + "Port " + proxy.imapPort() + "\n"
                + "User " + user.login() + "\n"
                + "PassCmd \"cat " + pass + "\"\n"
                + tls
                + "\n"
                + "IMAPStore far\n"
                + "Account proxy\n"
                + "\n"
                + "MaildirStore near\n"
                + "Path " + near + "/\n"
                + "Inbox " + near + "/INBOX\n"
                + "SubFolders Verbatim\n"
                + "\n"
                + "Channel mail\n"
                + "Far :far:\n"
                + "Near :near:\n"
                + "Patterns " + patterns + "\n"
                + "Create Near\n"
                + "Sync " + sync + "\n"
                + "SyncState *\n";
        Path file = dir.resolve("mbsyncrc");
        Files.writeString(file, rc);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        return file;
    }

    /** Local files per folder: folder/name to content. */
    private Map<String, byte[]> localFiles() throws IOException {
        Map<String, byte[]> files = new TreeMap<>();
        for (String folder : FOLDERS) {
            for (String sub : List.of("new", "cur")) {
                Path d = dir.resolve("near").resolve(folder).resolve(sub);
                if (!Files.isDirectory(d)) {
                    continue;
                }
                try (Stream<Path> list = Files.list(d)) {
                    for (Path f : list.toList()) {
                        files.put(folder + "/" + sub + "/" + f.getFileName(), Files.readAllBytes(f));
                    }
                }
            }
        }
        return files;
    }

    private static List<String> digests(List<byte[]> contents) {
        List<String> out = new ArrayList<>();
        for (byte[] c : contents) {
            out.add(sha256(c) + " (" + c.length + " octets)");
        }
        out.sort(null);
        return out;
    }

    private static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** What a maildir store of isync writes for a message it fetched: the same octets with LF line ends. */
    private static byte[] asMaildirStoresIt(byte[] imap) {
        return new String(imap, StandardCharsets.ISO_8859_1).replace("\r\n", "\n").getBytes(StandardCharsets.ISO_8859_1);
    }

    /** A local file without the one {@code X-TUID} line mbsync put into its header; fails if there is not one. */
    private static byte[] withoutTuid(String name, byte[] local) {
        String text = new String(local, StandardCharsets.ISO_8859_1);
        int headerEnd = text.indexOf("\n\n");
        Matcher m = TUID.matcher(text);
        assertThat(m.find() && m.start() < headerEnd).as("%s has mbsync's X-TUID header line", name).isTrue();
        String stripped = text.substring(0, m.start()) + text.substring(m.end());
        return stripped.getBytes(StandardCharsets.ISO_8859_1);
    }

    private void syncTwice(MailStack stack, Local local, Upstream upstream) throws IOException {
        seed(stack);
        MailUser carol = stack.carol();
        try (RunningProxy proxy = RunningProxy.start(stack, dir, local, upstream)) {
            Path rc = writeConfig(proxy, local, carol);
            Tool.Result first = mbsync.run(dir, TIMEOUT, List.of("-c", rc.toString(), "-a"));
            assertThat(first.exit()).as(first.describe()).isZero();

            Map<String, byte[]> after1 = localFiles();
            for (String folder : FOLDERS) {
                List<byte[]> expected = stack.messages(carol, folder).stream()
                        .map(StoredMessage::content).map(MbsyncE2eTest::asMaildirStoresIt).toList();
                List<byte[]> got = after1.entrySet().stream()
                        .filter(e -> e.getKey().startsWith(folder + "/"))
                        .map(e -> withoutTuid(e.getKey(), e.getValue())).toList();
                assertThat(digests(got)).as("%s: local maildir vs Dovecot's files", folder)
                        .isEqualTo(digests(expected));
            }
            assertThat(after1).as("all seeded messages arrived").hasSize(7);

            Tool.Result second = mbsync.run(dir, TIMEOUT, List.of("-c", rc.toString(), "-a", "-V"));
            assertThat(second.exit()).as(second.describe()).isZero();
            Map<String, byte[]> after2 = localFiles();
            // A re-fetched message would be a new file (new name), a re-flagged one a renamed file.
            assertThat(after2.keySet()).as("the second sync changes nothing; its log:\n%s", second.out())
                    .isEqualTo(after1.keySet());
            after1.forEach((name, content) -> assertThat(after2.get(name)).as(name).isEqualTo(content));
        }
    }

    /**
     * The other direction: a message written into the local maildir is uploaded with APPEND (a multi-MB literal
     * through the proxy) and Dovecot stores it with CRLF line ends; a second run uploads nothing again.
     */
    @Test
    void pushesALocalMessage(MailStack stack) throws IOException {
        MailUser bob = stack.bob();
        stack.clearMailbox(bob);
        String marker = id();
        byte[] crlf = TestMessages.withAttachment(bob.email(), stack.alice().email(), marker, 2_000_000, 4);
        byte[] local = asMaildirStoresIt(crlf);
        try (RunningProxy proxy = RunningProxy.start(stack, dir, Local.STARTTLS, Upstream.IMPLICIT)) {
            Path rc = writeConfig(proxy, Local.STARTTLS, bob, "Drafts", "All");
            Tool.Result first = mbsync.run(dir, TIMEOUT, List.of("-c", rc.toString(), "-a"));
            assertThat(first.exit()).as(first.describe()).isZero();
            Path newDir = dir.resolve("near").resolve("Drafts").resolve("new");
            assertThat(newDir).isDirectory();
            Files.write(newDir.resolve("1772445600.e2e_1.client"), local);

            for (int run = 1; run <= 2; run++) {
                Tool.Result r = mbsync.run(dir, TIMEOUT, List.of("-c", rc.toString(), "-a"));
                assertThat(r.exit()).as(r.describe()).isZero();
                List<StoredMessage> drafts = stack.messages(bob, "Drafts");
                assertThat(drafts).as("Dovecot's Drafts after run %d", run).hasSize(1);
                byte[] stored = drafts.get(0).content();
                // mbsync may tag what it uploads with its X-TUID line; everything else must be the octets pushed.
                String text = new String(stored, StandardCharsets.ISO_8859_1);
                Matcher tuid = Pattern.compile("(?m)^X-TUID: [^\r\n]*\r\n").matcher(text);
                if (tuid.find() && tuid.start() < text.indexOf("\r\n\r\n")) {
                    stored = (text.substring(0, tuid.start()) + text.substring(tuid.end()))
                            .getBytes(StandardCharsets.ISO_8859_1);
                }
                assertThat(stored).as("Dovecot's copy vs the local file with CRLF").isEqualTo(crlf);
            }
        }
    }

    /**
     * Many small messages: mbsync keeps many commands in flight at once (its pipeline), so the proxy's own tags
     * upstream and the order of tagged responses are exercised. Seeded directly in Dovecot over IMAPS in one session.
     */
    @Test
    void syncsManyMessagesPipelined(MailStack stack) throws Exception {
        MailUser alice = stack.alice();
        String folderName = "Bulk" + id().substring(0, 8);
        int count = 150;
        Properties p = new Properties();
        p.put("mail.imaps.ssl.socketFactory", stack.clientSocketFactory());
        p.put("mail.imaps.ssl.checkserveridentity", "true");
        Session session = Session.getInstance(p);
        try (Store store = session.getStore("imaps")) {
            store.connect(stack.host(), stack.imapsPort(), alice.login(), alice.password());
            Folder folder = store.getFolder(folderName);
            assertThat(folder.create(Folder.HOLDS_MESSAGES)).isTrue();
            Message[] messages = new Message[count];
            for (int i = 0; i < count; i++) {
                byte[] raw = TestMessages.plain(stack.bob().email(), alice.email(), id(),
                        ("message " + i + "\r\n").repeat(1 + i % 40));
                messages[i] = new MimeMessage(session, new ByteArrayInputStream(raw));
            }
            folder.appendMessages(messages);
        }
        List<byte[]> expected = stack.messages(alice, folderName).stream()
                .map(StoredMessage::content).map(MbsyncE2eTest::asMaildirStoresIt).toList();
        assertThat(expected).hasSize(count);

        try (RunningProxy proxy = RunningProxy.start(stack, dir, Local.OFF, Upstream.IMPLICIT)) {
            Path rc = writeConfig(proxy, Local.OFF, alice, folderName, "Pull");
            Tool.Result r = mbsync.run(dir, TIMEOUT, List.of("-c", rc.toString(), "-a"));
            assertThat(r.exit()).as(r.describe()).isZero();
        }
        List<byte[]> got = new ArrayList<>();
        for (String sub : List.of("new", "cur")) {
            Path d = dir.resolve("near").resolve(folderName).resolve(sub);
            try (Stream<Path> list = Files.list(d)) {
                for (Path f : list.toList()) {
                    got.add(withoutTuid(f.getFileName().toString(), Files.readAllBytes(f)));
                }
            }
        }
        assertThat(digests(got)).as("local maildir vs Dovecot's files").isEqualTo(digests(expected));
    }

    @ParameterizedTest
    @EnumSource(Local.class)
    void syncsThroughEachLocalMode(Local local, MailStack stack) throws IOException {
        syncTwice(stack, local, Upstream.IMPLICIT);
    }

    @Test
    void syncsOverUpstreamStarttls(MailStack stack) throws IOException {
        syncTwice(stack, Local.STARTTLS, Upstream.STARTTLS);
    }
}
