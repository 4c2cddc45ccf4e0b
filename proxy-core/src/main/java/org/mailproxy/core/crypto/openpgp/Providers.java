package org.mailproxy.core.crypto.openpgp;

import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openpgp.api.OpenPGPApi;
import org.bouncycastle.openpgp.api.OpenPGPImplementation;
import org.bouncycastle.openpgp.api.bc.BcOpenPGPApi;
import org.bouncycastle.openpgp.api.bc.BcOpenPGPImplementation;
import org.bouncycastle.openpgp.operator.KeyFingerPrintCalculator;
import org.bouncycastle.openpgp.operator.bc.BcKeyFingerprintCalculator;

import java.security.Provider;
import java.security.SecureRandom;
import java.security.Security;

/**
 * The providers this package uses. Bouncy Castle is never registered globally: it is passed explicitly for the
 * curve and signature operations, while bulk AES-CFB and SHA run through the JDK's own providers, whose AES uses the
 * CPU's AES instructions (several times faster than Bouncy Castle's pure-Java engine).
 */
final class Providers {
    static final Provider BC = new BouncyCastleProvider();
    static final SecureRandom RANDOM = new SecureRandom();
    static final OpenPGPImplementation IMPLEMENTATION = new BcOpenPGPImplementation();
    static final OpenPGPApi API = new BcOpenPGPApi(IMPLEMENTATION);
    static final KeyFingerPrintCalculator FINGERPRINTS = new BcKeyFingerprintCalculator();

    private Providers() {
    }

    /** The JDK provider for message digests. */
    static Provider jdkDigest() {
        Provider p = Security.getProvider("SUN");
        return p != null ? p : BC;
    }

    /** The JDK provider for AES/CFB and AES/CTR, or Bouncy Castle when a stripped JDK lacks it. */
    static Provider jdkCipher() {
        Provider p = Security.getProvider("SunJCE");
        return p != null ? p : BC;
    }
}
