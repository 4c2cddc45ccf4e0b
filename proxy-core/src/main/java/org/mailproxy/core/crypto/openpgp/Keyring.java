package org.mailproxy.core.crypto.openpgp;

import org.bouncycastle.bcpg.ArmoredInputStream;
import org.bouncycastle.bcpg.ArmoredOutputStream;
import org.bouncycastle.bcpg.BCPGInputStream;
import org.bouncycastle.bcpg.CompressionAlgorithmTags;
import org.bouncycastle.bcpg.HashAlgorithmTags;
import org.bouncycastle.bcpg.PacketFormat;
import org.bouncycastle.bcpg.SignatureSubpacketTags;
import org.bouncycastle.bcpg.SymmetricKeyAlgorithmTags;
import org.bouncycastle.bcpg.sig.Features;
import org.bouncycastle.openpgp.PGPException;
import org.bouncycastle.openpgp.PGPKeyRing;
import org.bouncycastle.openpgp.PGPObjectFactory;
import org.bouncycastle.openpgp.PGPPublicKey;
import org.bouncycastle.openpgp.PGPPublicKeyRing;
import org.bouncycastle.openpgp.PGPSecretKeyRing;
import org.bouncycastle.openpgp.PGPSignature;
import org.bouncycastle.openpgp.PGPUserAttributeSubpacketVector;
import org.bouncycastle.openpgp.api.OpenPGPCertificate;
import org.bouncycastle.openpgp.api.OpenPGPKey;
import org.bouncycastle.openpgp.api.OpenPGPKeyGenerator;
import org.bouncycastle.openpgp.api.SignatureParameters;
import org.bouncycastle.util.encoders.Hex;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.Period;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * The account's keys and its contacts' certificates, in {@code <data-dir>/keys}:
 * <pre>
 *   keys/certs/&lt;FINGERPRINT&gt;.pgp    one public certificate per file (own keys too)
 *   keys/secret/&lt;FINGERPRINT&gt;.pgp   secret keys, encrypted with the account passphrase (S2K)
 * </pre>
 * Directories are 0700 and files 0600 (SECURITY.md 23). Imported certificates are cleaned before they are stored:
 * third-party certifications and user attributes are dropped and counts are capped (SECURITY.md 7), and a
 * certificate without a validly self-signed user ID is refused. Methods are synchronized: the CLI and the daemon
 * touch the keyring rarely.
 */
public final class Keyring {
    private static final Set<PosixFilePermission> DIR_PERMS = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> FILE_PERMS = PosixFilePermissions.fromString("rw-------");

    /**
     * How long a generated key is valid unless asked otherwise: three years, GnuPG's default for new keys. An expiry
     * makes a lost or abandoned key stop being used by correspondents; the owner extends it while they hold it.
     */
    public static final Period DEFAULT_VALIDITY = Period.ofYears(3);

    private final Path certsDir;
    private final Path secretDir;
    private final KeyLimits limits;
    private final Map<String, OpenPGPCertificate> certs = new TreeMap<>();
    private final Map<String, OpenPGPKey> secrets = new TreeMap<>();

    private Keyring(Path dir, KeyLimits limits) {
        this.certsDir = dir.resolve("certs");
        this.secretDir = dir.resolve("secret");
        this.limits = limits;
    }

    /** Opens (creating if needed) the keyring in {@code keysDir}, usually {@code <data-dir>/keys}. */
    public static Keyring open(Path keysDir) throws IOException {
        return open(keysDir, KeyLimits.DEFAULTS);
    }

    public static Keyring open(Path keysDir, KeyLimits limits) throws IOException {
        Keyring k = new Keyring(keysDir, limits);
        createPrivateDir(keysDir);
        createPrivateDir(k.certsDir);
        createPrivateDir(k.secretDir);
        checkPermissions(keysDir);
        k.load();
        return k;
    }

    /**
     * Throws when {@code dir} or anything below it is accessible to group or others, or is a symlink: the daemon
     * refuses to start on readable key material (SECURITY.md 23).
     */
    public static void checkPermissions(Path dir) throws IOException {
        List<Path> bad = new ArrayList<>();
        try (var walk = Files.walk(dir)) {
            walk.forEach(p -> {
                try {
                    if (Files.isSymbolicLink(p)) {
                        bad.add(p);
                        return;
                    }
                    Set<PosixFilePermission> perms = Files.getPosixFilePermissions(p);
                    for (PosixFilePermission perm : perms) {
                        if (perm.name().startsWith("GROUP") || perm.name().startsWith("OTHERS")) {
                            bad.add(p);
                            return;
                        }
                    }
                } catch (IOException e) {
                    bad.add(p);
                }
            });
        }
        if (!bad.isEmpty()) {
            throw new IOException("key material is accessible to other users (chmod go= or remove symlinks): " + bad);
        }
    }

    // ---------------------------------------------------------------- public API for `mailproxy keys`

    /**
     * Generates the account key: Ed25519 primary (certify), Ed25519 signing subkey and X25519 encryption subkey,
     * protected with {@code passphrase}. {@link KeyVersion#V4} uses the legacy EdDSA/ECDH encodings that GnuPG 2.2
     * reads; {@link KeyVersion#V6} the RFC 9580 ones. Secret keys use iterated-salted S2K with AES-256.
     */
    public synchronized KeyInfo generate(String email, char[] passphrase, KeyVersion version) throws KeyException {
        return generate(email, passphrase, version, DEFAULT_VALIDITY);
    }

    /**
     * As {@link #generate(String, char[], KeyVersion)}, valid for {@code validity} from now; {@code null} or zero:
     * the key never expires. The expiry is a key expiration time subpacket (RFC 9580 5.2.3.13) on the direct-key
     * signature, the user ID certification and both subkey bindings, so every implementation sees the same date.
     */
    public synchronized KeyInfo generate(String email, char[] passphrase, KeyVersion version, Period validity)
            throws KeyException {
        if (email == null || !email.contains("@") || email.contains("<") || email.contains(">")
                || email.chars().anyMatch(c -> c < 0x21)) {
            throw new KeyException("not a plain e-mail address: " + email);
        }
        if (passphrase == null || passphrase.length == 0) {
            throw new KeyException("the secret key needs a passphrase");
        }
        // OpenPGP timestamps are whole seconds; the expiry is counted from the same second.
        Date created = new Date(Instant.now().getEpochSecond() * 1000);
        long expirySeconds = expirySeconds(created.toInstant(), validity);
        SignatureParameters.Callback expiry = new SignatureParameters.Callback() {
            @Override
            public SignatureParameters apply(SignatureParameters p) {
                return p.setHashedSubpacketsFunction(sp -> withExpiry(sp, expirySeconds));
            }
        };
        try {
            boolean v6 = version == KeyVersion.V6;
            OpenPGPKeyGenerator gen = Providers.API.generateKey(version.packetVersion(), created, false);
            OpenPGPKeyGenerator.WithPrimaryKey builder = v6
                    ? gen.withPrimaryKey(g -> g.generateEd25519KeyPair(), expiry)
                    : gen.withPrimaryKey(g -> g.generateLegacyEd25519KeyPair(), expiry);
            // RFC 4880 implementations (GnuPG 2.2, OpenPGP.js for v4 keys) read algorithm preferences from the user
            // ID self-signature only; without them they fall back to AES-128 or even TripleDES.
            SignatureParameters.Callback userId = v6 ? expiry : new SignatureParameters.Callback() {
                @Override
                public SignatureParameters apply(SignatureParameters p) {
                    return p.setHashedSubpacketsFunction(sp -> {
                        withExpiry(sp, expirySeconds);
                        sp.removePacketsOfType(SignatureSubpacketTags.PREFERRED_SYM_ALGS);
                        sp.removePacketsOfType(SignatureSubpacketTags.PREFERRED_HASH_ALGS);
                        sp.removePacketsOfType(SignatureSubpacketTags.PREFERRED_COMP_ALGS);
                        sp.removePacketsOfType(SignatureSubpacketTags.FEATURES);
                        sp.setPreferredSymmetricAlgorithms(false, new int[]{SymmetricKeyAlgorithmTags.AES_256,
                                SymmetricKeyAlgorithmTags.AES_128});
                        sp.setPreferredHashAlgorithms(false, new int[]{HashAlgorithmTags.SHA512,
                                HashAlgorithmTags.SHA256});
                        sp.setPreferredCompressionAlgorithms(false, new int[]{CompressionAlgorithmTags.ZLIB,
                                CompressionAlgorithmTags.ZIP, CompressionAlgorithmTags.UNCOMPRESSED});
                        sp.setFeature(false, Features.FEATURE_MODIFICATION_DETECTION);
                        return sp;
                    });
                }
            };
            builder = builder.addUserId("<" + email + ">", userId);
            builder = v6
                    ? builder.addSigningSubkey(g -> g.generateEd25519KeyPair(), expiry, null)
                            .addEncryptionSubkey(g -> g.generateX25519KeyPair(), expiry)
                    : builder.addSigningSubkey(g -> g.generateLegacyEd25519KeyPair(), expiry, null)
                            .addEncryptionSubkey(g -> g.generateLegacyX25519KeyPair(), expiry);
            OpenPGPKey key = builder.build(passphrase.clone()); // the builder may wipe what it is given
            storeSecret(key.getPGPSecretKeyRing());
            return info(certs.get(fingerprint(key)));
        } catch (PGPException | IOException e) {
            throw new KeyException("key generation failed", e);
        }
    }

    /** Our expiry replaces the five-year one Bouncy Castle puts on a new key's signatures by default. */
    private static org.bouncycastle.openpgp.PGPSignatureSubpacketGenerator withExpiry(
            org.bouncycastle.openpgp.PGPSignatureSubpacketGenerator sp, long expirySeconds) {
        sp.removePacketsOfType(SignatureSubpacketTags.KEY_EXPIRE_TIME);
        if (expirySeconds > 0) {
            sp.setKeyExpirationTime(false, expirySeconds);
        }
        return sp;
    }

    /** Seconds from {@code created} to {@code created + validity} in UTC; 0 for never. */
    private static long expirySeconds(Instant created, Period validity) throws KeyException {
        if (validity == null || validity.isZero()) {
            return 0;
        }
        if (validity.isNegative()) {
            throw new KeyException("a key cannot expire before it is created: " + validity);
        }
        long seconds;
        try {
            seconds = created.atOffset(ZoneOffset.UTC).plus(validity).toEpochSecond() - created.getEpochSecond();
        } catch (ArithmeticException | java.time.DateTimeException e) {
            seconds = -1;
        }
        // the subpacket holds an unsigned 32-bit count of seconds (RFC 9580 5.2.3.13)
        if (seconds <= 0 || seconds > 0xFFFFFFFFL) {
            throw new KeyException("validity " + validity + " is out of range (at most about 136 years)");
        }
        return seconds;
    }

    /**
     * Imports every certificate and secret key in {@code in}: binary or armored, one or many (the output of
     * {@code gpg --export} or {@code gpg --export-secret-keys}, also several armored blocks in a row). Secret keys
     * keep the protection they came with. A certificate already present is merged by replacement.
     */
    public synchronized List<KeyInfo> importKeys(InputStream in) throws KeyException {
        byte[] data;
        try {
            data = readCapped(in, limits.maxImportBytes());
        } catch (IOException e) {
            throw new KeyException("cannot read key input: " + e.getMessage(), e);
        }
        List<PGPKeyRing> rings = new ArrayList<>();
        try {
            for (byte[] block : binaryBlocks(data)) {
                PGPObjectFactory f = new PGPObjectFactory(new BCPGInputStream(new ByteArrayInputStream(block)),
                        Providers.FINGERPRINTS);
                Object o;
                while ((o = f.nextObject()) != null) {
                    if (o instanceof PGPKeyRing ring) {
                        if (rings.size() >= limits.maxKeys()) {
                            throw new KeyException("more than " + limits.maxKeys() + " keys in one import");
                        }
                        rings.add(ring);
                    }
                }
            }
        } catch (IOException e) {
            throw new KeyException("malformed key data: " + e.getMessage(), e);
        }
        if (rings.isEmpty()) {
            throw new KeyException("no OpenPGP key found in the input");
        }
        List<KeyInfo> out = new ArrayList<>();
        try {
            for (PGPKeyRing ring : rings) {
                PGPPublicKeyRing pub = sanitize(publicRing(ring));
                if (ring instanceof PGPSecretKeyRing sec) {
                    storeSecret(PGPSecretKeyRing.replacePublicKeys(sec, pub));
                } else {
                    storeCert(pub);
                }
                out.add(info(certs.get(Hex.toHexString(pub.getPublicKey().getFingerprint()).toUpperCase(Locale.ROOT))));
            }
        } catch (IOException e) {
            throw new KeyException("cannot store key: " + e.getMessage(), e);
        }
        return out;
    }

    /** Writes the certificate (or, with {@code secret}, the still passphrase-protected secret key). */
    public synchronized void export(String fingerprintOrEmail, boolean secret, boolean armor, OutputStream out)
            throws KeyException, IOException {
        OpenPGPCertificate cert = resolve(fingerprintOrEmail);
        byte[] bytes;
        if (secret) {
            OpenPGPKey key = secrets.get(fingerprint(cert));
            if (key == null) {
                throw new KeyException("no secret key for " + fingerprint(cert));
            }
            bytes = key.getPGPSecretKeyRing().getEncoded(PacketFormat.ROUNDTRIP);
        } else {
            bytes = cert.getPGPPublicKeyRing().getEncoded(PacketFormat.ROUNDTRIP);
        }
        if (armor) {
            ArmoredOutputStream a = ArmoredOutputStream.builder().clearHeaders().build(nonClosing(out));
            a.write(bytes);
            a.close();
        } else {
            out.write(bytes);
        }
        out.flush();
    }

    public synchronized List<KeyInfo> list() {
        List<KeyInfo> out = new ArrayList<>();
        for (OpenPGPCertificate c : certs.values()) {
            out.add(info(c));
        }
        return out;
    }

    public synchronized Optional<KeyInfo> find(String fingerprintOrEmail) {
        try {
            return Optional.of(info(resolve(fingerprintOrEmail)));
        } catch (KeyException e) {
            return Optional.empty();
        }
    }

    /** Fingerprints of usable certificates with a valid user ID for {@code email}, newest first. */
    public synchronized List<String> fingerprintsFor(String email) {
        return certificatesFor(email).stream().map(Keyring::fingerprint).toList();
    }

    /** Deletes the certificate and any secret key; returns false when the fingerprint is unknown. */
    public synchronized boolean delete(String fingerprint) throws IOException {
        String fpr = normalizeFingerprint(fingerprint);
        boolean had = certs.remove(fpr) != null;
        had |= secrets.remove(fpr) != null;
        had |= Files.deleteIfExists(certsDir.resolve(fpr + ".pgp"));
        had |= Files.deleteIfExists(secretDir.resolve(fpr + ".pgp"));
        return had;
    }

    /**
     * Unlocks the secret key {@code fingerprintOrEmail} for decrypting and signing in this process. The passphrase
     * is wiped after use.
     */
    public synchronized UnlockedKey unlock(String fingerprintOrEmail, PassphraseSource source) throws KeyException {
        OpenPGPCertificate cert = resolve(fingerprintOrEmail);
        OpenPGPKey key = secrets.get(fingerprint(cert));
        if (key == null) {
            throw new KeyException("no secret key for " + fingerprint(cert));
        }
        char[] pass;
        try {
            pass = source.passphrase();
        } catch (IOException e) {
            throw new KeyException("cannot read the passphrase: " + e.getMessage(), e);
        }
        try {
            return UnlockedKey.unlock(key, pass);
        } finally {
            Arrays.fill(pass, '\0');
        }
    }

    // ---------------------------------------------------------------- package-private lookups

    synchronized OpenPGPCertificate certificate(String fingerprint) {
        return certs.get(fingerprint);
    }

    /** The certificate that holds the (sub)key {@code keyId}, or null. */
    synchronized OpenPGPCertificate certificateForKeyId(long keyId) {
        for (OpenPGPCertificate c : certs.values()) {
            for (OpenPGPCertificate.OpenPGPComponentKey k : c.getKeys()) {
                if (k.getKeyIdentifier().getKeyId() == keyId) {
                    return c;
                }
            }
        }
        return null;
    }

    synchronized List<OpenPGPCertificate> certificatesFor(String email) {
        String want = email.toLowerCase(Locale.ROOT);
        List<OpenPGPCertificate> out = new ArrayList<>();
        for (OpenPGPCertificate c : certs.values()) {
            if (hasUserIdFor(c, want)) {
                out.add(c);
            }
        }
        out.sort((a, b) -> b.getPrimaryKey().getCreationTime().compareTo(a.getPrimaryKey().getCreationTime()));
        return out;
    }

    /** Whether a validly self-signed user ID of {@code cert} carries the address {@code email}. */
    static boolean hasUserIdFor(OpenPGPCertificate cert, String email) {
        String want = email.toLowerCase(Locale.ROOT);
        for (OpenPGPCertificate.OpenPGPUserId uid : cert.getValidUserIds()) {
            if (want.equals(addressOf(uid.getUserId()))) {
                return true;
            }
        }
        return false;
    }

    /** The address in a user ID: the part in angle brackets, or the whole ID when it is a bare address. */
    static String addressOf(String userId) {
        int lt = userId.lastIndexOf('<');
        int gt = userId.lastIndexOf('>');
        String a = lt >= 0 && gt > lt ? userId.substring(lt + 1, gt) : userId.trim();
        return a.toLowerCase(Locale.ROOT);
    }

    static String fingerprint(OpenPGPCertificate cert) {
        return Hex.toHexString(cert.getFingerprint()).toUpperCase(Locale.ROOT);
    }

    // ---------------------------------------------------------------- internals

    private OpenPGPCertificate resolve(String query) throws KeyException {
        if (query == null || query.isBlank()) {
            throw new KeyException("no key named");
        }
        if (query.contains("@")) {
            List<OpenPGPCertificate> c = certificatesFor(query.trim());
            if (c.isEmpty()) {
                throw new KeyException("no key for " + query);
            }
            return c.get(0);
        }
        OpenPGPCertificate c = certs.get(normalizeFingerprint(query));
        if (c == null) {
            throw new KeyException("no key with fingerprint " + query);
        }
        return c;
    }

    private static String normalizeFingerprint(String fpr) {
        String s = fpr.replace(" ", "").toUpperCase(Locale.ROOT);
        if (s.startsWith("0X")) {
            s = s.substring(2);
        }
        if (!s.matches("[0-9A-F]{40}|[0-9A-F]{64}")) {
            throw new IllegalArgumentException("not a v4 or v6 fingerprint: " + fpr);
        }
        return s;
    }

    private void load() throws IOException {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(certsDir, "*.pgp")) {
            for (Path p : ds) {
                PGPPublicKeyRing ring = new PGPPublicKeyRing(Files.readAllBytes(p), Providers.FINGERPRINTS);
                OpenPGPCertificate c = new OpenPGPCertificate(ring, Providers.IMPLEMENTATION);
                certs.put(fingerprint(c), c);
            }
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(secretDir, "*.pgp")) {
            for (Path p : ds) {
                try {
                    PGPSecretKeyRing ring = new PGPSecretKeyRing(Files.readAllBytes(p), Providers.FINGERPRINTS);
                    OpenPGPKey k = new OpenPGPKey(ring, Providers.IMPLEMENTATION);
                    secrets.put(fingerprint(k), k);
                    certs.putIfAbsent(fingerprint(k), k.toCertificate());
                } catch (PGPException e) {
                    throw new IOException("unreadable secret key " + p.getFileName(), e);
                }
            }
        }
    }

    private void storeSecret(PGPSecretKeyRing ring) throws IOException {
        OpenPGPKey key = new OpenPGPKey(ring, Providers.IMPLEMENTATION);
        String fpr = fingerprint(key);
        writePrivate(secretDir.resolve(fpr + ".pgp"), ring.getEncoded(PacketFormat.ROUNDTRIP));
        secrets.put(fpr, key);
        storeCert(key.toCertificate().getPGPPublicKeyRing());
    }

    private void storeCert(PGPPublicKeyRing ring) throws IOException {
        OpenPGPCertificate c = new OpenPGPCertificate(ring, Providers.IMPLEMENTATION);
        // a revoked or expired certificate is still stored: its state is what we need to learn from it
        if (c.getValidUserIds().isEmpty() && c.getRevocation() == null
                && c.getValidUserIds(c.getPrimaryKey().getCreationTime()).isEmpty()) {
            throw new IOException("certificate " + fingerprint(c) + " has no validly self-signed user ID");
        }
        String fpr = fingerprint(c);
        writePrivate(certsDir.resolve(fpr + ".pgp"), ring.getEncoded(PacketFormat.ROUNDTRIP));
        certs.put(fpr, c);
    }

    private static PGPPublicKeyRing publicRing(PGPKeyRing ring) {
        if (ring instanceof PGPPublicKeyRing p) {
            return p;
        }
        List<PGPPublicKey> keys = new ArrayList<>();
        for (Iterator<PGPPublicKey> it = ring.getPublicKeys(); it.hasNext(); ) {
            keys.add(it.next());
        }
        return new PGPPublicKeyRing(keys);
    }

    /**
     * Drops third-party certifications and user attributes and enforces the count limits (SECURITY.md 7). Binding
     * and back-signatures are checked by the certificate model when keys are selected.
     */
    private PGPPublicKeyRing sanitize(PGPPublicKeyRing ring) throws IOException {
        PGPPublicKey primary = ring.getPublicKey();
        long own = primary.getKeyID();
        PGPPublicKey clean = primary;
        int uids = 0;
        for (Iterator<String> it = primary.getUserIDs(); it.hasNext(); ) {
            String uid = it.next();
            uids++;
            int kept = 0;
            for (Iterator<PGPSignature> s = primary.getSignaturesForID(uid); s.hasNext(); ) {
                PGPSignature sig = s.next();
                if (sig.getKeyID() != own) {
                    clean = PGPPublicKey.removeCertification(clean, uid, sig);
                } else {
                    kept++;
                }
            }
            if (kept > limits.maxSignaturesPerComponent()) {
                throw new IOException("too many self-signatures on a user ID");
            }
        }
        if (uids > limits.maxUserIds()) {
            throw new IOException("more than " + limits.maxUserIds() + " user IDs");
        }
        for (Iterator<PGPUserAttributeSubpacketVector> it = primary.getUserAttributes(); it.hasNext(); ) {
            PGPPublicKey stripped = PGPPublicKey.removeCertification(clean, it.next());
            if (stripped != null) {
                clean = stripped;
            }
        }
        int direct = 0;
        for (Iterator<PGPSignature> it = primary.getKeySignatures(); it.hasNext(); ) {
            PGPSignature sig = it.next();
            if (sig.getKeyID() != own) {
                PGPPublicKey stripped = PGPPublicKey.removeCertification(clean, sig);
                if (stripped != null) {
                    clean = stripped;
                }
            } else {
                direct++;
            }
        }
        if (direct > limits.maxSignaturesPerComponent()) {
            throw new IOException("too many direct-key signatures");
        }
        List<PGPPublicKey> keys = new ArrayList<>();
        keys.add(clean);
        int subkeys = 0;
        for (Iterator<PGPPublicKey> it = ring.getPublicKeys(); it.hasNext(); ) {
            PGPPublicKey k = it.next();
            if (k.isMasterKey()) {
                continue;
            }
            if (++subkeys > limits.maxSubkeys()) {
                throw new IOException("more than " + limits.maxSubkeys() + " subkeys");
            }
            int sigs = 0;
            for (Iterator<PGPSignature> s = k.getSignatures(); s.hasNext(); s.next()) {
                sigs++;
            }
            if (sigs > limits.maxSignaturesPerComponent()) {
                throw new IOException("too many signatures on a subkey");
            }
            keys.add(k);
        }
        PGPPublicKeyRing out = new PGPPublicKeyRing(keys);
        if (out.getEncoded().length > limits.maxKeyBytes()) {
            throw new IOException("certificate larger than " + limits.maxKeyBytes() + " bytes");
        }
        return out;
    }

    private KeyInfo info(OpenPGPCertificate c) {
        Date exp = c.getExpirationTime();
        Date now = new Date();
        return new KeyInfo(fingerprint(c), c.getPrimaryKey().getVersion(),
                (c.getValidUserIds().isEmpty() ? c.getAllUserIds() : c.getValidUserIds()).stream()
                        .map(OpenPGPCertificate.OpenPGPUserId::getUserId).toList(),
                secrets.containsKey(fingerprint(c)), c.getPrimaryKey().getCreationTime().toInstant(),
                Optional.ofNullable(exp).map(Date::toInstant), c.getRevocation() != null,
                !c.getEncryptionKeys(now).isEmpty(), !c.getSigningKeys(now).isEmpty());
    }

    /** Splits armored input into its blocks and de-armors each; binary input is one block. */
    private static List<byte[]> binaryBlocks(byte[] data) throws IOException {
        String head = new String(data, 0, Math.min(data.length, 4096), StandardCharsets.ISO_8859_1);
        if (!head.contains("-----BEGIN PGP")) {
            return List.of(data);
        }
        String all = new String(data, StandardCharsets.ISO_8859_1);
        List<byte[]> out = new ArrayList<>();
        int from = 0;
        while (true) {
            int begin = all.indexOf("-----BEGIN PGP", from);
            if (begin < 0) {
                break;
            }
            int end = all.indexOf("-----END PGP", begin);
            if (end < 0) {
                throw new IOException("armor without END line");
            }
            int eol = all.indexOf('\n', end);
            int stop = eol < 0 ? all.length() : eol + 1;
            byte[] armored = all.substring(begin, stop).getBytes(StandardCharsets.ISO_8859_1);
            try (ArmoredInputStream ain = ArmoredInputStream.builder().setIgnoreCRC(true)
                    .build(new ByteArrayInputStream(armored))) {
                out.add(ain.readAllBytes());
            }
            from = stop;
        }
        return out;
    }

    static byte[] readCapped(InputStream in, int max) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        int n;
        while ((n = in.read(buf)) > 0) {
            if (bos.size() + n > max) {
                throw new IOException("input larger than " + max + " bytes");
            }
            bos.write(buf, 0, n);
        }
        return bos.toByteArray();
    }

    private static void createPrivateDir(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(DIR_PERMS));
        }
        Files.setPosixFilePermissions(dir, DIR_PERMS);
    }

    private static void writePrivate(Path target, byte[] bytes) throws IOException {
        Path tmp = Files.createTempFile(target.getParent(), ".tmp", ".pgp",
                PosixFilePermissions.asFileAttribute(FILE_PERMS));
        try {
            Files.write(tmp, bytes);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static OutputStream nonClosing(OutputStream out) {
        return new java.io.FilterOutputStream(out) {
            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
            }

            @Override
            public void close() throws IOException {
                flush();
            }
        };
    }

}
