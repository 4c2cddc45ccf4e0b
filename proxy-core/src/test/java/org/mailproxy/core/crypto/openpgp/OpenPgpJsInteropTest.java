package org.mailproxy.core.crypto.openpgp;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * RFC 9580 v6 keys and SEIPDv2 against an implementation other than Bouncy Castle: OpenPGP.js, driven by
 * {@code openpgpjs/interop.cjs} under Node. The npm package is installed once into
 * {@code ~/.cache/mailproxy-test/openpgpjs}. Without node or npm the class is skipped, except under CI (environment
 * variable {@code CI} set), where a missing tool is a failure rather than a silent gap in coverage.
 */
@Tag("interop")
class OpenPgpJsInteropTest {
    static final String OPENPGPJS_VERSION = "6.3.2";
    private static final String SEIPD = "\"tag\":\"symEncryptedIntegrityProtectedData\"";
    private static final String PKESK = "\"tag\":\"publicKeyEncryptedSessionKey\"";

    static Path moduleDir;
    static Path script;
    static Path dir;
    static TestKeys keys;
    static Keyring ring;
    static UnlockedKey vera;
    static UnlockedKey alice;

    @BeforeAll
    static void setUp() throws Exception {
        for (String tool : List.of("node", "npm")) {
            if (!ExternalTool.onPath(tool)) {
                if (System.getenv("CI") != null) {
                    fail(tool + " is not installed but CI is set: install Node.js and npm (Debian packages nodejs "
                            + "and npm) to run the OpenPGP.js interoperability tests");
                }
                assumeTrue(false, tool + " is not installed: OpenPGP.js interop test skipped");
            }
        }
        moduleDir = Path.of(System.getProperty("user.home"), ".cache", "mailproxy-test", "openpgpjs");
        installOpenPgpJs();
        script = resource("openpgpjs/interop.cjs");
        dir = Files.createTempDirectory("openpgpjs");
        keys = new TestKeys(dir);
        ring = keys.keyringOf("ours", keys.vera, keys.alice);
        ring.importKeys(new java.io.ByteArrayInputStream(keys.export(keys.alice, true)));
        vera = keys.unlock(ring, keys.vera);
        alice = keys.unlock(ring, keys.alice);
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (vera != null) {
            vera.close();
        }
        if (alice != null) {
            alice.close();
        }
        if (dir != null) {
            try (var w = Files.walk(dir)) {
                w.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** {@code npm install} of the pinned version, unless that version is already in the cache directory. */
    private static void installOpenPgpJs() throws Exception {
        Path pkg = moduleDir.resolve("node_modules/openpgp/package.json");
        if (Files.isRegularFile(pkg) && installedVersion(pkg).equals(OPENPGPJS_VERSION)) {
            return;
        }
        Files.createDirectories(moduleDir);
        Result r = run(List.of("npm", "install", "--prefix", moduleDir.toString(), "--no-audit", "--no-fund",
                "openpgp@" + OPENPGPJS_VERSION), 300);
        if (r.exit != 0 || !Files.isRegularFile(pkg)) {
            throw new AssertionError("npm install openpgp@" + OPENPGPJS_VERSION + " failed: " + r.stderr);
        }
        assertThat(installedVersion(pkg)).isEqualTo(OPENPGPJS_VERSION);
    }

    private static String installedVersion(Path packageJson) throws IOException {
        Matcher m = Pattern.compile("\"version\"\\s*:\\s*\"([^\"]+)\"").matcher(Files.readString(packageJson));
        return m.find() ? m.group(1) : "";
    }

    private static Path resource(String name) throws URISyntaxException {
        return Path.of(OpenPgpJsInteropTest.class.getClassLoader().getResource(name).toURI());
    }

    // ---------------------------------------------------------------- (a) OpenPGP.js writes to our v6 key

    @Test
    void openPgpJsEncryptsAndSignsToOurV6KeyWithSeipdV2() throws Exception {
        Js js = Js.generate("v6", "jo@example.org");
        String joFpr = importCert(js);
        Path ourCert = exportCert(keys.vera);
        byte[] plain = message("from OpenPGP.js to a v6 key");
        Path in = write("a-plain", plain);
        Path msg = dir.resolve("a.pgp");
        String out = node("encrypt", ourCert, js.secret, in, msg);
        // OpenPGP.js must have chosen SEIPDv2 for our v6 certificate, which announces it
        assertThat(out).contains(PKESK + ",\"version\":6").contains(SEIPD + ",\"version\":2");
        try (DecryptionResult r = decrypt(vera, msg)) {
            assertThat(r.forUs()).isTrue();
            assertThat(r.aead()).isTrue();
            assertThat(TestKeys.plaintext(r)).isEqualTo(plain);
            assertThat(r.signatures()).hasSize(1);
            SignatureResult s = r.signatures().get(0);
            assertThat(s.status()).isEqualTo(SignatureResult.Status.VALID);
            assertThat(s.signerFingerprint()).contains(joFpr);
            assertThat(s.withFrom("jo@example.org").fromMatches()).isTrue();
        }
    }

    @Test
    void openPgpJsAnonymousRecipientToOurV6Key() throws Exception {
        // a v6 PKESK without the recipient's fingerprint: we must find our key by trying it
        Js js = Js.generate("v6", "ann@example.org");
        importCert(js);
        byte[] plain = message("to an anonymous v6 recipient");
        Path msg = dir.resolve("a-anon.pgp");
        String out = node("encrypt", exportCert(keys.vera), js.secret, write("a-anon-plain", plain), msg,
                "wildcard");
        assertThat(out).contains(PKESK + ",\"version\":6").contains(SEIPD + ",\"version\":2");
        try (DecryptionResult r = decrypt(vera, msg)) {
            assertThat(r.forUs()).isTrue();
            assertThat(r.recipientKeyIds()).containsExactly("0000000000000000");
            assertThat(TestKeys.plaintext(r)).isEqualTo(plain);
            assertThat(r.signatures()).extracting(SignatureResult::status)
                    .containsExactly(SignatureResult.Status.VALID);
        }
    }

    // ---------------------------------------------------------------- (b) we write to an OpenPGP.js v6 key

    @Test
    void openPgpJsDecryptsAndVerifiesWhatWeWriteToItsV6Key() throws Exception {
        Js js = Js.generate("v6", "kim@example.org");
        String kimFpr = importCert(js);
        byte[] plain = message("from us to an OpenPGP.js v6 key");
        Path msg = dir.resolve("b.pgp");
        encrypt(msg, List.of(kimFpr, keys.vera.fingerprint()), vera, plain);
        Path clear = dir.resolve("b-out");
        String out = node("decrypt", js.secret, exportCert(keys.vera), msg, clear);
        // every recipient is v6 and announces SEIPDv2: v6 PKESKs and SEIPDv2 with AES-256/OCB
        assertThat(out).contains(PKESK + ",\"version\":6").doesNotContain(PKESK + ",\"version\":3")
                .contains(SEIPD + ",\"version\":2,\"cipher\":\"aes256\",\"aead\":\"ocb\"");
        assertThat(Files.readAllBytes(clear)).isEqualTo(plain);
        assertThat(signatures(out)).containsExactly(signingKeyId(vera) + ":true");
    }

    @Test
    void openPgpJsV6KeyWithoutSeipdV2FeatureGetsSeipdV1FromUs() throws Exception {
        // OpenPGP.js's default v6 key does not set the SEIPDv2 Features bit: we must fall back to SEIPDv1 + MDC
        Js js = Js.generate("v6-seipdv1", "lou@example.org");
        String louFpr = importCert(js);
        byte[] plain = message("v6 key, SEIPDv1");
        Path msg = dir.resolve("b1.pgp");
        encrypt(msg, List.of(louFpr), vera, plain);
        Path clear = dir.resolve("b1-out");
        String out = node("decrypt", js.secret, exportCert(keys.vera), msg, clear);
        assertThat(out).contains(PKESK + ",\"version\":3").contains(SEIPD + ",\"version\":1");
        assertThat(Files.readAllBytes(clear)).isEqualTo(plain);
        assertThat(signatures(out)).containsExactly(signingKeyId(vera) + ":true");
        // and what OpenPGP.js writes back to that key's owner is SEIPDv1, which we read too
        Path back = dir.resolve("b1-back.pgp");
        node("encrypt", exportCert(keys.vera), js.secret, write("b1-plain", plain), back);
        try (DecryptionResult r = decrypt(vera, back)) {
            assertThat(TestKeys.plaintext(r)).isEqualTo(plain);
            assertThat(r.signatures()).extracting(SignatureResult::status)
                    .containsExactly(SignatureResult.Status.VALID);
        }
    }

    // ---------------------------------------------------------------- (c) v4 both ways

    @Test
    void v4KeysBothWays() throws Exception {
        Js js = Js.generate("v4", "max@example.org");
        String maxFpr = importCert(js);
        byte[] plain = message("v4 both ways");
        // ours -> OpenPGP.js: v4 recipients always get SEIPDv1 with MDC
        Path msg = dir.resolve("c.pgp");
        encrypt(msg, List.of(maxFpr, keys.alice.fingerprint()), alice, plain);
        Path clear = dir.resolve("c-out");
        String out = node("decrypt", js.secret, exportCert(keys.alice), msg, clear);
        assertThat(out).contains(SEIPD + ",\"version\":1").doesNotContain(SEIPD + ",\"version\":2");
        assertThat(Files.readAllBytes(clear)).isEqualTo(plain);
        assertThat(signatures(out)).containsExactly(signingKeyId(alice) + ":true");
        // OpenPGP.js -> ours: whichever SEIPD version it picks from our v4 certificate's Features, we read it
        Path back = dir.resolve("c-back.pgp");
        String wrote = node("encrypt", exportCert(keys.alice), js.secret, write("c-plain", plain), back);
        try (DecryptionResult r = decrypt(alice, back)) {
            assertThat(r.aead()).isEqualTo(wrote.contains(SEIPD + ",\"version\":2"));
            assertThat(TestKeys.plaintext(r)).isEqualTo(plain);
            assertThat(r.signatures()).hasSize(1);
            assertThat(r.signatures().get(0).status()).isEqualTo(SignatureResult.Status.VALID);
            assertThat(r.signatures().get(0).signerFingerprint()).contains(maxFpr);
        }
    }

    // ---------------------------------------------------------------- failure must show

    @Test
    void openPgpJsReportsASignatureByAnotherKeyAsNotValid() throws Exception {
        // the harness must be able to report a bad signature, or the ':true' assertions above prove nothing
        Js js = Js.generate("v6", "ned@example.org");
        String nedFpr = importCert(js);
        byte[] plain = message("signed by vera, checked against alice");
        Path msg = dir.resolve("d.pgp");
        encrypt(msg, List.of(nedFpr), vera, plain);
        String out = node("decrypt", js.secret, exportCert(keys.alice), msg, dir.resolve("d-out"));
        assertThat(signatures(out)).containsExactly(signingKeyId(vera) + ":false");
    }

    // ---------------------------------------------------------------- helpers

    /** A key pair generated by OpenPGP.js: unprotected armored secret key and certificate. */
    record Js(Path secret, Path cert, String fingerprint) {
        static Js generate(String version, String email) throws Exception {
            Path secret = dir.resolve(email + ".sec.asc");
            Path cert = dir.resolve(email + ".asc");
            String out = node("gen", version, email, secret, cert);
            Matcher m = Pattern.compile("\"fingerprint\":\"([0-9A-F]+)\",\"version\":(\\d)").matcher(out);
            assertThat(m.find()).as(out).isTrue();
            assertThat(m.group(2)).isEqualTo(version.startsWith("v6") ? "6" : "4");
            return new Js(secret, cert, m.group(1));
        }
    }

    private static String importCert(Js js) throws Exception {
        List<KeyInfo> infos;
        try (InputStream in = Files.newInputStream(js.cert)) {
            infos = ring.importKeys(in);
        }
        assertThat(infos).hasSize(1);
        KeyInfo k = infos.get(0);
        assertThat(k.fingerprint()).isEqualTo(js.fingerprint);
        assertThat(k.canEncrypt()).isTrue();
        assertThat(k.canSign()).isTrue();
        return k.fingerprint();
    }

    private static Path exportCert(KeyInfo key) throws Exception {
        Path p = dir.resolve(key.fingerprint() + ".asc");
        if (!Files.exists(p)) {
            try (OutputStream o = Files.newOutputStream(p)) {
                ring.export(key.fingerprint(), false, true, o);
            }
        }
        return p;
    }

    private static void encrypt(Path msg, List<String> to, UnlockedKey signer, byte[] plain) throws Exception {
        try (OutputStream o = Files.newOutputStream(msg);
             OutputStream e = new Encryptor(ring).open(o, to, signer, false)) {
            e.write(plain);
        }
    }

    private static DecryptionResult decrypt(UnlockedKey key, Path msg) throws Exception {
        try (InputStream in = Files.newInputStream(msg)) {
            return new Decryptor(ring, List.of(key), OpenPgpLimits.DEFAULTS, null).decrypt(in);
        }
    }

    private static String signingKeyId(UnlockedKey key) throws KeyException {
        return Decryptor.keyIdHex(key.signingKey().getKeyIdentifier().getKeyId());
    }

    /** {@code KEYID:valid} for each signature OpenPGP.js reported. */
    private static List<String> signatures(String json) {
        List<String> out = new ArrayList<>();
        Matcher m = Pattern.compile("\"keyID\":\"([0-9A-F]+)\",\"valid\":(true|false)").matcher(json);
        while (m.find()) {
            out.add(m.group(1) + ":" + m.group(2));
        }
        return out;
    }

    private static byte[] message(String text) {
        // binary-safe content: CRLF, a lone CR, non-ASCII and a NUL must all survive unchanged
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(("Subject: " + text + "\r\n\r\nline\r\nlone\rcr äöü\n").getBytes(StandardCharsets.UTF_8));
        b.write(0);
        b.writeBytes("x".repeat(5000).getBytes(StandardCharsets.US_ASCII));
        return b.toByteArray();
    }

    private static Path write(String name, byte[] data) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, data);
        return p;
    }

    private static String node(String op, Object... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("node", script.toString(), moduleDir.toString(), op));
        for (Object a : args) {
            cmd.add(a.toString());
        }
        Result r = run(cmd, 60);
        if (r.exit != 0) {
            throw new AssertionError("OpenPGP.js " + op + " failed: " + r.stderr);
        }
        return r.stdout;
    }

    private record Result(int exit, String stdout, String stderr) {
    }

    private static Result run(List<String> cmd, int timeoutSeconds) throws Exception {
        Path out = Files.createTempFile("ojs", ".out");
        Path err = Files.createTempFile("ojs", ".err");
        try {
            Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(String.join(" ", cmd) + " timed out");
            }
            return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
