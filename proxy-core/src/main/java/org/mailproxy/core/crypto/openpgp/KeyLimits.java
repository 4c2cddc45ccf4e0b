package org.mailproxy.core.crypto.openpgp;

/**
 * Caps applied on key import (SECURITY.md 7; certificate flooding, CVE-2019-13050).
 *
 * <table>
 * <tr><th>limit</th><th>default</th></tr>
 * <tr><td>maxImportBytes: one import input</td><td>8 MiB</td></tr>
 * <tr><td>maxKeyBytes: one certificate after third-party certifications are dropped</td><td>256 KiB</td></tr>
 * <tr><td>maxUserIds</td><td>32</td></tr>
 * <tr><td>maxSubkeys</td><td>32</td></tr>
 * <tr><td>maxSignaturesPerComponent</td><td>32</td></tr>
 * <tr><td>maxKeys: certificates in one input</td><td>1000</td></tr>
 * </table>
 */
public record KeyLimits(int maxImportBytes, int maxKeyBytes, int maxUserIds, int maxSubkeys,
                        int maxSignaturesPerComponent, int maxKeys) {
    public static final KeyLimits DEFAULTS = new KeyLimits(8 << 20, 256 << 10, 32, 32, 32, 1000);
}
