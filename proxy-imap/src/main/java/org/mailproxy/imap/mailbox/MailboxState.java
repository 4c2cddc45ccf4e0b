package org.mailproxy.imap.mailbox;

import java.util.Arrays;

/**
 * The selected mailbox as one session sees it: message sequence number to UID (RFC 9051 2.3.1), kept correct from
 * the untagged responses that change it: EXISTS (new messages, UID not yet known), EXPUNGE (renumbers everything
 * after), VANISHED (RFC 7162 3.2.10, by UID) and FETCH responses that carry a UID. The FETCH rewriter uses it to
 * know which message a sequence-number FETCH is about.
 *
 * <p>UIDs are unsigned 32-bit (RFC 9051 2.3.1.1) and kept in an {@code int[]}: 4 octets per message. 0 means
 * "not known yet". Not thread-safe: owned by one session on its event loop.
 */
public final class MailboxState {

    private int[] uids = new int[64];
    private int size;

    /** A new mailbox is being selected (or the selection was closed): forget everything. */
    public void reset() {
        size = 0;
        uids = new int[64];
    }

    public int size() {
        return size;
    }

    /** {@code * n EXISTS}: the mailbox now has n messages; new ones have unknown UIDs. */
    public void exists(long n) {
        if (n < 0 || n > Integer.MAX_VALUE - 8) {
            return;
        }
        int count = (int) n;
        if (count > uids.length) {
            uids = Arrays.copyOf(uids, Math.max(count, uids.length * 2));
        }
        if (count > size) {
            Arrays.fill(uids, size, count, 0);
        }
        // EXISTS never shrinks a mailbox (RFC 9051 7.4.1); a smaller number means we missed an EXPUNGE: trust it.
        size = count;
    }

    /** {@code * seq EXPUNGE}: the message is gone and every later one moves down by one. */
    public void expunge(long seq) {
        if (seq < 1 || seq > size) {
            return;
        }
        int i = (int) seq - 1;
        System.arraycopy(uids, i + 1, uids, i, size - i - 1);
        size--;
    }

    /** {@code * seq FETCH (UID uid ...)}. */
    public void fetched(long seq, long uid) {
        if (seq < 1 || uid < 1 || uid > 0xFFFF_FFFFL) {
            return;
        }
        if (seq > size) {
            exists(seq);
        }
        uids[(int) seq - 1] = (int) uid;
    }

    /** {@code * VANISHED [(EARLIER)] uid-set}: removes the messages with those UIDs, wherever they are. */
    public void vanished(String uidSet) {
        int w = 0;
        for (int r = 0; r < size; r++) {
            long uid = Integer.toUnsignedLong(uids[r]);
            if (uid == 0 || !UidSet.contains(uidSet, uid)) {
                uids[w++] = uids[r];
            }
        }
        size = w;
    }

    /** The UID of message {@code seq}, or 0 when not known (yet) or out of range. */
    public long uid(long seq) {
        if (seq < 1 || seq > size) {
            return 0;
        }
        return Integer.toUnsignedLong(uids[(int) seq - 1]);
    }

    /** Whether the UID of every message is known (after a FETCH of them all with UIDs). */
    public boolean allKnown() {
        for (int i = 0; i < size; i++) {
            if (uids[i] == 0) {
                return false;
            }
        }
        return true;
    }

    /** The sequence number of the message with {@code uid}, or 0 when it is not known. */
    public long sequence(long uid) {
        for (int i = 0; i < size; i++) {
            if (Integer.toUnsignedLong(uids[i]) == uid) {
                return i + 1;
            }
        }
        return 0;
    }

    /** RFC 9051 9 {@code sequence-set} of UIDs: {@code 1:3,7,10:*}. */
    static final class UidSet {
        private UidSet() {
        }

        static boolean contains(String set, long uid) {
            for (String part : set.split(",")) {
                int colon = part.indexOf(':');
                try {
                    if (colon < 0) {
                        if (!part.equals("*") && Long.parseLong(part) == uid) {
                            return true;
                        }
                    } else {
                        String a = part.substring(0, colon);
                        String b = part.substring(colon + 1);
                        long lo = a.equals("*") ? Long.MAX_VALUE : Long.parseLong(a);
                        long hi = b.equals("*") ? Long.MAX_VALUE : Long.parseLong(b);
                        if (uid >= Math.min(lo, hi) && uid <= Math.max(lo, hi)) {
                            return true;
                        }
                    }
                } catch (NumberFormatException e) {
                    return false;
                }
            }
            return false;
        }
    }
}
