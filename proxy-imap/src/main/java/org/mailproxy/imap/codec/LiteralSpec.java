package org.mailproxy.imap.codec;

import java.nio.charset.StandardCharsets;

/**
 * A literal announcement at the end of a line: {@code {n}} (synchronizing), {@code {n+}} (non-synchronizing,
 * RFC 7888) or {@code ~{n}} (literal8, RFC 3516). The octets that follow are counted exactly, never scanned.
 */
public record LiteralSpec(long size, boolean synchronizing, boolean binary) {

    public LiteralSpec {
        if (size < 0) {
            throw new IllegalArgumentException("negative literal size");
        }
    }

    public static LiteralSpec sync(long size) {
        return new LiteralSpec(size, true, false);
    }

    public static LiteralSpec nonSync(long size) {
        return new LiteralSpec(size, false, false);
    }

    public LiteralSpec asSynchronizing() {
        return new LiteralSpec(size, true, binary);
    }

    public byte[] marker() {
        return ((binary ? "~{" : "{") + size + (synchronizing ? "}" : "+}")).getBytes(StandardCharsets.US_ASCII);
    }

    @Override
    public String toString() {
        return new String(marker(), StandardCharsets.US_ASCII);
    }
}
