package org.mailproxy.core.crypto.openpgp;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.time.Period;

import static org.assertj.core.api.Assertions.assertThat;

/** The daemon's view of the keyring follows `mailproxy keys` run beside it, and the lookup picks usable keys only. */
class LiveKeyringTest {
    private static final char[] PASS = "pass".toCharArray();

    @TempDir
    Path dir;

    @Test
    void aKeyImportedByAnotherProcessIsFoundWithoutRestart() throws Exception {
        Path keys = dir.resolve("keys");
        Keyring.open(keys);
        LiveKeyring live = new LiveKeyring(keys);
        KeyLookup lookup = address -> KeyLookup.keyring(live.get()).encryptionKeyFor(address);
        assertThat(lookup.encryptionKeyFor("bob@example.org")).isEmpty();
        Keyring first = live.get();
        assertThat(live.get()).as("unchanged directory, same instance").isSameAs(first);

        // what `mailproxy keys import` does in its own process: another Keyring on the same directory
        Keyring elsewhere = Keyring.open(dir.resolve("elsewhere"));
        KeyInfo bob = elsewhere.generate("bob@example.org", PASS, KeyVersion.V4);
        ByteArrayOutputStream cert = new ByteArrayOutputStream();
        elsewhere.export(bob.fingerprint(), false, false, cert);
        Thread.sleep(20); // directory timestamps have at least millisecond resolution here
        Keyring.open(keys).importKeys(new ByteArrayInputStream(cert.toByteArray()));

        assertThat(lookup.encryptionKeyFor("Bob@Example.org")).contains(bob.fingerprint());
        assertThat(Keyring.open(keys).delete(bob.fingerprint())).isTrue();
        assertThat(lookup.encryptionKeyFor("bob@example.org")).isEmpty();
    }

    @Test
    void theLookupPrefersTheNewestKeyForAnAddress() throws Exception {
        Keyring ring = Keyring.open(dir.resolve("keys"));
        KeyInfo older = ring.generate("carol@example.org", PASS, KeyVersion.V4, Period.ZERO);
        Thread.sleep(1100); // creation times are whole seconds
        KeyInfo newer = ring.generate("carol@example.org", PASS, KeyVersion.V4, Period.ZERO);
        assertThat(KeyLookup.keyring(ring).encryptionKeyFor("carol@example.org")).contains(newer.fingerprint());
        assertThat(older.fingerprint()).isNotEqualTo(newer.fingerprint());
        assertThat(KeyLookup.keyring(ring).encryptionKeyFor("nobody@example.org")).isEmpty();
    }
}
