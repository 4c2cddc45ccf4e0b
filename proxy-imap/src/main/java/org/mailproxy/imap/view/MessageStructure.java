package org.mailproxy.imap.view;

import org.mailproxy.imap.codec.ImapValue;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.ByteArrayInputStream;
import java.util.List;
import java.util.Optional;

/**
 * The structure of a message the view serves: its size and where its header ends. Only the top level is known
 * here: the whole message, HEADER, TEXT, and part 1 of a single-part message.
 */
public final class MessageStructure {

    public record Range(long offset, long length) {
    }

    private final long size;
    private final long headerLength;

    private MessageStructure(long size, long headerLength) {
        this.size = size;
        this.headerLength = headerLength;
    }

    public static MessageStructure parse(InputStream message) throws IOException {
        InputStream in = new BufferedInputStream(message, 65536);
        long n = 0;
        long header = -1;
        int lineLength = 0;
        int b;
        while ((b = in.read()) >= 0) {
            n++;
            if (header < 0) {
                if (b == '\n') {
                    if (lineLength == 0 || lineLength == 1) {
                        header = n;
                    }
                    lineLength = 0;
                } else {
                    lineLength++;
                }
            }
        }
        return new MessageStructure(n, header < 0 ? n : header);
    }

    public byte[] toBytes() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(b)) {
            out.writeLong(size);
            out.writeLong(headerLength);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return b.toByteArray();
    }

    public static MessageStructure fromBytes(byte[] bytes) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
        long size = in.readLong();
        long header = in.readLong();
        if (size < 0 || header < 0 || header > size || in.available() != 0) {
            throw new IOException("malformed message structure");
        }
        return new MessageStructure(size, header);
    }

    public long size() {
        return size;
    }

    public ImapValue bodyStructure() {
        return body();
    }

    public ImapValue body() {
        return new ImapValue.ListValue(List.of(new ImapValue.Quoted("text"), new ImapValue.Quoted("plain"),
                new ImapValue.Atom("NIL"), new ImapValue.Atom("NIL"), new ImapValue.Atom("NIL"),
                new ImapValue.Quoted("7bit"), new ImapValue.Atom(Long.toString(size - headerLength)),
                new ImapValue.Atom("0")));
    }

    public Optional<Range> section(String spec) {
        return switch (spec) {
            case "" -> Optional.of(new Range(0, size));
            case "TEXT", "1" -> Optional.of(new Range(headerLength, size - headerLength));
            default -> spec.startsWith("HEADER") ? Optional.of(new Range(0, headerLength)) : Optional.empty();
        };
    }
}
