package org.mailproxy.imap.view;

import org.mailproxy.core.mime.HeaderField;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The serialized form of a {@link MessageStructure} kept in a cache entry's metadata: a magic and version, the
 * message size, then the parts depth first. Decoding trusts nothing: the metadata is authenticated by the cache,
 * but a format change or a bug must give an IOException (the entry is then rebuilt), never a structure whose
 * ranges point outside the message or whose tree breaks the BODYSTRUCTURE grammar.
 */
final class StructureCodec {
    private static final int MAGIC = 0x4d505331; // "MPS1"
    private static final int VERSION = 1;
    /** Any string or list the parser keeps fits, since the parser bounds the whole form (never more than left). */
    private static final int MAX_STRING = MessageStructure.MAX_SERIALIZED;
    private static final int MAX_LIST = MessageStructure.MAX_SERIALIZED / 4;

    private StructureCodec() {
    }

    static byte[] encode(MimePart root, long size) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(MAGIC);
            out.writeByte(VERSION);
            out.writeLong(size);
            part(out, root);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (bytes.size() > MessageStructure.MAX_SERIALIZED) {
            // The parser keeps at most that much (StructureParser counts it), so this is a bug, not input.
            throw new IllegalStateException("structure larger than " + MessageStructure.MAX_SERIALIZED + " octets");
        }
        return bytes.toByteArray();
    }

    private static void part(DataOutputStream out, MimePart p) throws IOException {
        out.writeLong(p.headerOffset);
        out.writeLong(p.headerLength);
        out.writeLong(p.bodyOffset);
        out.writeLong(p.bodyLength);
        out.writeLong(p.lines);
        out.writeByte(p.flags);
        MimeFields f = p.fields;
        for (String s : new String[] {f.type, f.subtype, f.id, f.description, f.encoding, f.md5, f.disposition,
                f.location}) {
            string(out, s, StandardCharsets.ISO_8859_1);
        }
        list(out, f.params);
        list(out, f.dispositionParams);
        list(out, f.language);
        if (p.envelope == null) {
            out.writeInt(-1);
        } else {
            out.writeInt(p.envelope.size());
            for (HeaderField h : p.envelope) {
                string(out, h.name(), StandardCharsets.UTF_8);
                string(out, h.value(), StandardCharsets.UTF_8);
            }
        }
        out.writeInt(p.children.size());
        for (MimePart c : p.children) {
            part(out, c);
        }
    }

    private static void string(DataOutputStream out, String s, java.nio.charset.Charset cs) throws IOException {
        if (s == null) {
            out.writeInt(-1);
            return;
        }
        byte[] b = s.getBytes(cs);
        out.writeInt(b.length);
        out.write(b);
    }

    private static void list(DataOutputStream out, List<String> l) throws IOException {
        if (l == null) {
            out.writeInt(-1);
            return;
        }
        out.writeInt(l.size());
        for (String s : l) {
            string(out, s, StandardCharsets.ISO_8859_1);
        }
    }

    static MessageStructure decode(byte[] bytes, MessageStructure.Limits limits) throws IOException {
        if (bytes.length > MessageStructure.MAX_SERIALIZED) {
            throw new IOException("structure metadata too large");
        }
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
            if (in.readInt() != MAGIC || in.readUnsignedByte() != VERSION) {
                throw new IOException("not a message structure (magic or version)");
            }
            long size = in.readLong();
            if (size < 0) {
                throw new IOException("negative message size");
            }
            Reader r = new Reader(in, limits, size);
            MimePart root = r.part(0, 0, size, false);
            if (in.available() != 0) {
                throw new IOException("trailing octets after the structure");
            }
            if (root.headerOffset != 0 || root.bodyOffset + root.bodyLength != size) {
                throw new IOException("root part does not span the message");
            }
            return new MessageStructure(root, size);
        } catch (java.io.EOFException e) {
            throw new IOException("truncated structure metadata", e);
        }
    }

    private static final class Reader {
        private final DataInputStream in;
        private final MessageStructure.Limits limits;
        private final long size;
        private int parts;

        Reader(DataInputStream in, MessageStructure.Limits limits, long size) {
            this.in = in;
            this.limits = limits;
            this.size = size;
        }

        /** A part that must lie within [from, to) of the message. */
        MimePart part(int depth, long from, long to, boolean encapsulated) throws IOException {
            if (++parts > limits.maxParts() || depth >= limits.maxDepth()) {
                throw new IOException("structure beyond the part or depth limits");
            }
            MimePart p = new MimePart();
            p.headerOffset = in.readLong();
            p.headerLength = in.readLong();
            p.bodyOffset = in.readLong();
            p.bodyLength = in.readLong();
            p.lines = in.readLong();
            p.flags = in.readUnsignedByte();
            if (p.headerOffset < from || p.headerLength < 0 || p.bodyLength < 0 || p.lines < 0
                    || p.bodyOffset < p.headerOffset + p.headerLength || p.bodyOffset + p.bodyLength > to
                    || p.lines > p.bodyLength || p.bodyOffset > size) {
                throw new IOException("part range outside its parent");
            }
            int flags = p.flags;
            if ((flags & ~7) != 0 || Integer.bitCount(flags) > 1) {
                throw new IOException("invalid part flags");
            }
            MimeFields f = p.fields;
            f.type = string(StandardCharsets.ISO_8859_1);
            f.subtype = string(StandardCharsets.ISO_8859_1);
            f.id = string(StandardCharsets.ISO_8859_1);
            f.description = string(StandardCharsets.ISO_8859_1);
            f.encoding = string(StandardCharsets.ISO_8859_1);
            f.md5 = string(StandardCharsets.ISO_8859_1);
            f.disposition = string(StandardCharsets.ISO_8859_1);
            f.location = string(StandardCharsets.ISO_8859_1);
            List<String> params = list();
            if (params == null || params.size() % 2 != 0) {
                throw new IOException("invalid parameter list");
            }
            f.params = params;
            f.dispositionParams = list();
            if (f.dispositionParams != null && f.dispositionParams.size() % 2 != 0) {
                throw new IOException("invalid disposition parameter list");
            }
            if (f.disposition == null && f.dispositionParams != null || f.disposition != null && f.dispositionParams == null) {
                throw new IOException("disposition without its parameters");
            }
            f.language = list();
            if (f.language != null && f.language.isEmpty()) {
                throw new IOException("empty language list");
            }
            if (f.type != null && f.subtype == null) {
                throw new IOException("type without subtype");
            }
            int envelope = in.readInt();
            if (envelope < -1 || envelope > 10 || envelope >= 0 != encapsulated) {
                throw new IOException("invalid envelope field count");
            }
            if (envelope >= 0) {
                List<HeaderField> fields = new ArrayList<>();
                for (int k = 0; k < envelope; k++) {
                    String name = string(StandardCharsets.UTF_8);
                    String value = string(StandardCharsets.UTF_8);
                    if (name == null || value == null) {
                        throw new IOException("invalid envelope field");
                    }
                    try {
                        fields.add(new HeaderField(name, value));
                    } catch (IllegalArgumentException e) {
                        throw new IOException("invalid envelope field", e);
                    }
                }
                p.envelope = List.copyOf(fields);
            }
            int children = in.readInt();
            boolean multipart = (flags & MimePart.MULTIPART) != 0;
            boolean rfc822 = (flags & MimePart.RFC822) != 0;
            if (children < 0 || children > limits.maxParts() || rfc822 && children != 1
                    || !multipart && !rfc822 && children != 0) {
                throw new IOException("invalid number of children");
            }
            long bodyEnd = p.bodyOffset + p.bodyLength;
            long cursor = p.bodyOffset;
            for (int k = 0; k < children; k++) {
                MimePart c = part(depth + 1, cursor, bodyEnd, rfc822);
                cursor = c.bodyOffset + c.bodyLength;
                p.children.add(c);
            }
            return p;
        }

        private String string(java.nio.charset.Charset cs) throws IOException {
            int n = in.readInt();
            if (n == -1) {
                return null;
            }
            if (n < 0 || n > MAX_STRING || n > in.available()) {
                throw new IOException("invalid string length");
            }
            return new String(in.readNBytes(n), cs);
        }

        private List<String> list() throws IOException {
            int n = in.readInt();
            if (n == -1) {
                return null;
            }
            if (n < 0 || n > MAX_LIST || n > in.available()) {
                throw new IOException("invalid list length");
            }
            List<String> out = new ArrayList<>(n);
            for (int k = 0; k < n; k++) {
                String s = string(StandardCharsets.ISO_8859_1);
                if (s == null) {
                    throw new IOException("null in a list");
                }
                out.add(s);
            }
            return List.copyOf(out);
        }
    }
}
