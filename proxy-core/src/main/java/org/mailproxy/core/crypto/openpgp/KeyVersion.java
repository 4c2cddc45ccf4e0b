package org.mailproxy.core.crypto.openpgp;

/**
 * Which key format {@link Keyring#generate} writes. {@link #V4} (RFC 4880 with legacy EdDSA/ECDH Curve25519) is what
 * GnuPG 2.2 and most peers read today; {@link #V6} (RFC 9580 Ed25519/X25519, SEIPDv2) only on request.
 */
public enum KeyVersion {
    V4(4),
    V6(6);

    private final int packetVersion;

    KeyVersion(int packetVersion) {
        this.packetVersion = packetVersion;
    }

    int packetVersion() {
        return packetVersion;
    }
}
