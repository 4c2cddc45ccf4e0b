package org.mailproxy.imap.mailbox;

import java.util.Arrays;

/**
 * An RFC 9051 §9 {@code sequence-set} ({@code 1:3,7,10:*}) expanded into its numbers, for sets small enough to
 * look at one by one; {@code *} stands for the largest number in use (RFC 9051 §6.4.8: for UIDs, the last message's).
 */
public final class SequenceSet {

    private SequenceSet() {
    }

    /**
     * The numbers of {@code set} in ascending order without repeats, or null when the set is malformed, names more
     * than {@code max} numbers, or uses {@code *} while {@code star} is unknown (0).
     */
    public static long[] expand(String set, long star, int max) {
        long[] out = new long[Math.min(16, max)];
        int n = 0;
        for (String part : set.split(",", -1)) {
            int colon = part.indexOf(':');
            long lo;
            long hi;
            try {
                lo = number(colon < 0 ? part : part.substring(0, colon), star);
                hi = colon < 0 ? lo : number(part.substring(colon + 1), star);
            } catch (NumberFormatException e) {
                return null;
            }
            if (lo <= 0 || hi <= 0) {
                return null;
            }
            long a = Math.min(lo, hi);
            long b = Math.max(lo, hi);
            if (b - a >= max || n + (b - a + 1) > max) {
                return null;
            }
            for (long v = a; v <= b; v++) {
                if (n == out.length) {
                    out = Arrays.copyOf(out, Math.min(max, out.length * 2));
                }
                out[n++] = v;
            }
        }
        long[] r = Arrays.copyOf(out, n);
        Arrays.sort(r);
        int w = 0;
        for (int i = 0; i < r.length; i++) {
            if (w == 0 || r[w - 1] != r[i]) {
                r[w++] = r[i];
            }
        }
        return Arrays.copyOf(r, w);
    }

    private static long number(String s, long star) {
        if (s.equals("*")) {
            return star;
        }
        if (s.isEmpty() || s.length() > 10 || !s.chars().allMatch(Character::isDigit)) {
            throw new NumberFormatException(s);
        }
        return Long.parseLong(s);
    }
}
