package org.mailproxy.core.cache;

import java.nio.ByteBuffer;
import java.util.HexFormat;

/**
 * Where one message lives: the mailbox as an opaque id (HMAC of its name, so names never reach the disk), its
 * UIDVALIDITY and UID (RFC 3501 §2.3.1.1: the pair identifies a message for good). Both numbers are unsigned 32-bit
 * and may appear in file names.
 */
record EntryKey(byte[] mailboxId, long uidValidity, long uid) {
    static final int MAILBOX_ID_LENGTH = 16;

    EntryKey {
        if (mailboxId.length != MAILBOX_ID_LENGTH) {
            throw new IllegalArgumentException("mailbox id length");
        }
        check("UIDVALIDITY", uidValidity);
        check("UID", uid);
        mailboxId = mailboxId.clone();
    }

    private static void check(String what, long n) {
        if (n < 1 || n > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException(what + " outside 1..2^32-1: " + n);
        }
    }

    @Override
    public byte[] mailboxId() {
        return mailboxId.clone();
    }

    /** Directory name of the mailbox. */
    String mailboxDir() {
        return HexFormat.of().formatHex(mailboxId);
    }

    /** File name inside the mailbox directory. */
    String fileName() {
        return uidValidity + "-" + uid + MessageCache.ENTRY_SUFFIX;
    }

    /** Bound into every tag of the entry's file. */
    byte[] identity() {
        return ByteBuffer.allocate(MAILBOX_ID_LENGTH + 16).put(mailboxId).putLong(uidValidity).putLong(uid).array();
    }
}
