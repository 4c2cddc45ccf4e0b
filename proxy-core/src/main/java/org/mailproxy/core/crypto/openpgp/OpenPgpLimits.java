package org.mailproxy.core.crypto.openpgp;

/**
 * Limits on one incoming message (SECURITY.md 5, 6; RFC 9580 §13.14).
 *
 * <table>
 * <tr><th>limit</th><th>default</th></tr>
 * <tr><td>maxPlaintextBytes: decompressed budget shared by all layers, also the spool's hard cap</td><td>256 MiB</td></tr>
 * <tr><td>maxPackets: packets read after the session key, all layers together</td><td>64</td></tr>
 * <tr><td>maxRecipients: PKESK packets in front of the encrypted data</td><td>256</td></tr>
 * <tr><td>maxCompressionLayers</td><td>1</td></tr>
 * <tr><td>maxArmorLineLength</td><td>1024</td></tr>
 * <tr><td>spoolMemoryThreshold: plaintext kept in memory before the spool moves to an encrypted file</td><td>1 MiB</td></tr>
 * </table>
 */
public record OpenPgpLimits(long maxPlaintextBytes, int maxPackets, int maxRecipients, int maxCompressionLayers,
                            int maxArmorLineLength, int spoolMemoryThreshold) {
    public static final OpenPgpLimits DEFAULTS = new OpenPgpLimits(256L << 20, 64, 256, 1, 1024, 1 << 20);

    public OpenPgpLimits withMaxPlaintextBytes(long bytes) {
        return new OpenPgpLimits(bytes, maxPackets, maxRecipients, maxCompressionLayers, maxArmorLineLength,
                spoolMemoryThreshold);
    }
}
