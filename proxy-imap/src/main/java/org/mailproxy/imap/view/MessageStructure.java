package org.mailproxy.imap.view;

import org.mailproxy.imap.codec.ImapValue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The MIME structure of a decrypted message, computed once from its octets so the view can answer
 * {@code BODYSTRUCTURE}, {@code BODY} and section fetches ({@code BODY[1.2]}, {@code BODY[1.2.MIME]},
 * {@code BODY[2.HEADER]}, {@code BODY[2.TEXT]}, {@code BODY[HEADER]}, {@code BODY[TEXT]}) exactly as the provider's
 * server would for the same octets (RFC 9051 §6.4.5, §7.5.2). It is kept in the cache entry's metadata
 * ({@link #toBytes()}, at most {@link #MAX_SERIALIZED} octets) and read back on every fetch ({@link #fromBytes}).
 *
 * <p>What is matched, and how (checked against Dovecot by {@code MessageStructureMailStackTest}):
 * <ul>
 *   <li>Parts: see {@link StructureParser} for delimiters (the CRLF before a delimiter belongs to it, prefix match,
 *       epilogue and preamble belong to the multipart, an unclosed boundary runs to the end).</li>
 *   <li>Fields: see {@link MimeFields} (first field wins, case kept, RFC 2231 continuations joined but not decoded).
 *   </li>
 *   <li>A part without Content-Type is {@code "text" "plain" ("charset" "us-ascii")}; a text part without a charset
 *       parameter gets {@code "charset" "us-ascii"} appended after its parameters; a missing
 *       Content-Transfer-Encoding is {@code "7bit"} (lower case, as Dovecot writes it); a part of a multipart/digest
 *       without Content-Type is message/rfc822.</li>
 *   <li>A multipart without parts (no boundary parameter, or no delimiter in its body) shows one empty text/plain
 *       part, since the grammar needs at least one.</li>
 *   <li>BODYSTRUCTURE always writes every extension field (md5, disposition, language, location for a single
 *       part; parameters, disposition, language, location for a multipart), NIL when absent.</li>
 *   <li>Strings with CR, LF, 8-bit octets or more than four quote/backslash characters are literals; folded
 *       unstructured values (Content-ID, -Description, -MD5, -Location) are unfolded.</li>
 *   <li>Sizes and line counts are octets and LFs of the bytes as given. The view's bytes are CRLF throughout; a
 *       message with bare LFs is measured as it is (a server that stores LF would count each as two octets), so
 *       callers must hand CRLF text, which the decrypted view does.</li>
 *   <li>Sections: see {@link #section}; one that does not exist is {@link Optional#empty()}, which Dovecot
 *       answers with an empty string.</li>
 *   <li>A header cut short by a delimiter, or followed by an empty body, gives the line break before the
 *       delimiter to the delimiter; a message/rfc822 part holding such a message keeps it in its own size.</li>
 * </ul>
 *
 * <p>Limits ({@link Limits}): parts, nesting depth and octets of one part's header; beyond them parsing fails with
 * an {@link IOException} (the view then does not serve the message decrypted rather than serve a wrong structure).
 * Memory is bounded by those limits, not by the size of the message.
 */
public final class MessageStructure {

    /** The largest serialized form (the cache's metadata limit). */
    public static final int MAX_SERIALIZED = 1 << 20;

    /**
     * Parsing limits.
     *
     * @param maxParts       MIME parts in the whole message (every node, the message itself included)
     * @param maxDepth       nesting of parts (the message is depth 0; a message/rfc822 counts one level)
     * @param maxHeaderBytes octets of one part's header section
     */
    public record Limits(int maxParts, int maxDepth, int maxHeaderBytes) {
        public static final Limits DEFAULT = new Limits(1000, 50, 256 * 1024);

        public Limits {
            if (maxParts < 1 || maxDepth < 1 || maxHeaderBytes < 1) {
                throw new IllegalArgumentException("limits must be positive");
            }
        }
    }

    /** A byte range of the message: {@code length} octets from {@code offset}. */
    public record Range(long offset, long length) {
    }

    private static final ImapValue NIL = new ImapValue.Atom("NIL");

    private final MimePart root;
    private final long size;

    MessageStructure(MimePart root, long size) {
        this.root = root;
        this.size = size;
    }

    /** Parses a whole message with {@link Limits#DEFAULT}. */
    public static MessageStructure parse(InputStream message) throws IOException {
        return parse(message, Limits.DEFAULT);
    }

    /** Parses a whole message (CRLF lines), streaming: only offsets, counts and header fields are kept. */
    public static MessageStructure parse(InputStream message, Limits limits) throws IOException {
        MimePart root = new StructureParser(message, limits).parse();
        return new MessageStructure(root, root.bodyOffset + root.bodyLength);
    }

    /** The compact form for the cache entry's metadata. */
    public byte[] toBytes() {
        return StructureCodec.encode(root, size);
    }

    /** Reads {@link #toBytes()} back, checking every count and range; anything else fails with an IOException. */
    public static MessageStructure fromBytes(byte[] bytes) throws IOException {
        return StructureCodec.decode(bytes, Limits.DEFAULT);
    }

    /** Total octets of the message (RFC822.SIZE). */
    public long size() {
        return size;
    }

    /** FETCH BODYSTRUCTURE: with extension data. */
    public ImapValue bodyStructure() {
        return write(root, true);
    }

    /** FETCH BODY: without extension data. */
    public ImapValue body() {
        return write(root, false);
    }

    /**
     * The octets {@code BODY[<spec>]} returns: {@code ""} the whole message; {@code HEADER}, {@code HEADER.FIELDS
     * (...)}, {@code HEADER.FIELDS.NOT (...)} the message header (the caller picks the fields with
     * {@link HeaderSections#fields}); {@code TEXT} its body; {@code 1.2} a part's body; {@code 1.2.MIME} its MIME
     * header; {@code 3.HEADER}/{@code 3.TEXT} (and {@code 3.HEADER.FIELDS ...}) the header and body of the message
     * in message/rfc822 part 3. Numbering as RFC 9051 §6.4.5: the parts of a multipart count from 1; a message that
     * is not multipart has one part, its body; the parts of a message/rfc822 part are those of the message it holds
     * ({@code 3.1} is its first part, or its body when it is not multipart).
     *
     * <p>Where the RFC leaves room, Dovecot's answers (all checked against it): {@code n.HEADER}/{@code n.TEXT} of a
     * part that is not message/rfc822 do not exist; {@code n.1} of a leaf inside a multipart is the leaf's body, but
     * a message's body has no part 1 ({@code BODY[1.1]} of a single-part message is empty); {@code 1.MIME} of a
     * single-part message is the message header; {@code 1} of a message that is itself message/rfc822 is the whole
     * encapsulated message.
     *
     * @return the range, or empty when the section does not exist (or the spec is not a section); Dovecot then
     *         answers with an empty string, and so should the caller
     */
    public Optional<Range> section(String spec) {
        String s = spec.strip().toUpperCase(Locale.ROOT);
        MimePart part = root;
        int i = 0;
        boolean numbered = false;
        boolean stepped = false;
        boolean body = false;
        while (i < s.length() && Character.isDigit(s.charAt(i))) {
            int dot = s.indexOf('.', i);
            int end = dot < 0 ? s.length() : dot;
            String number = s.substring(i, end);
            if (!number.chars().allMatch(Character::isDigit) || number.startsWith("0") || number.length() > 9) {
                return Optional.empty();
            }
            int n = Integer.parseInt(number);
            if (part.is(MimePart.MULTIPART)) {
                if (n > part.children.size()) {
                    return Optional.empty();
                }
                part = part.children.get(n - 1);
                body = false;
            } else if (n != 1 || body) {
                return Optional.empty(); // a single part has one part, its body, which has none
            } else {
                body = true;
            }
            numbered = true;
            i = dot < 0 ? s.length() : dot + 1;
            if (dot >= 0 && i == s.length()) {
                return Optional.empty(); // a trailing dot
            }
            String next = s.substring(i);
            stepped = false;
            if (part.is(MimePart.RFC822) && (!next.isEmpty() && Character.isDigit(next.charAt(0))
                    || next.startsWith("HEADER") || next.startsWith("TEXT"))) {
                part = part.children.get(0); // deeper numbers, HEADER and TEXT address the encapsulated message
                stepped = true;
                body = false;
            }
        }
        String rest = s.substring(i);
        if (rest.isEmpty()) {
            return Optional.of(numbered ? body(part) : new Range(0, size));
        }
        if (rest.equals("MIME")) {
            return numbered ? Optional.of(header(part)) : Optional.empty();
        }
        if (numbered && !stepped) {
            return Optional.empty(); // HEADER and TEXT exist only for the message and message/rfc822 parts
        }
        if (rest.equals("HEADER") || rest.startsWith("HEADER.FIELDS")) {
            return Optional.of(header(part));
        }
        return rest.equals("TEXT") ? Optional.of(body(part)) : Optional.empty();
    }

    private static Range header(MimePart p) {
        return new Range(p.headerOffset, p.headerLength);
    }

    private static Range body(MimePart p) {
        return new Range(p.bodyOffset, p.bodyLength);
    }

    MimePart root() {
        return root;
    }

    // --- BODYSTRUCTURE (RFC 9051 §7.5.2) ---

    private static ImapValue write(MimePart p, boolean extended) {
        return p.is(MimePart.MULTIPART) ? multipart(p, extended) : single(p, extended);
    }

    private static ImapValue multipart(MimePart p, boolean extended) {
        List<ImapValue> items = new ArrayList<>();
        if (p.children.isEmpty()) {
            items.add(emptyPart(extended));
        }
        for (MimePart child : p.children) {
            ImapValue v = write(child, extended);
            items.add(new ImapValue.ListValue(((ImapValue.ListValue) v).items(), !items.isEmpty()));
        }
        items.add(string(p.fields.subtype));
        if (extended) {
            items.add(p.fields.params.isEmpty() ? NIL : params(p.fields.params, false));
            common(p.fields, items);
        }
        return new ImapValue.ListValue(items);
    }

    private static ImapValue emptyPart(boolean extended) {
        List<ImapValue> items = new ArrayList<>(List.of(new ImapValue.Quoted("text"), new ImapValue.Quoted("plain"),
                new ImapValue.ListValue(List.of(new ImapValue.Quoted("charset"), new ImapValue.Quoted("us-ascii"))),
                NIL, NIL, new ImapValue.Quoted("7bit"), new ImapValue.Atom("0"), new ImapValue.Atom("0")));
        if (extended) {
            items.addAll(List.of(NIL, NIL, NIL, NIL));
        }
        return new ImapValue.ListValue(items);
    }

    private static ImapValue single(MimePart p, boolean extended) {
        MimeFields f = p.fields;
        List<ImapValue> items = new ArrayList<>();
        boolean text = false;
        if (p.is(MimePart.RFC822)) {
            items.add(new ImapValue.Quoted("message"));
            items.add(new ImapValue.Quoted("rfc822"));
        } else if (f.type == null) {
            text = true;
            items.add(new ImapValue.Quoted("text"));
            items.add(new ImapValue.Quoted("plain"));
        } else {
            text = f.type.equalsIgnoreCase("text");
            items.add(string(f.type));
            items.add(string(f.subtype));
        }
        items.add(params(f.params, text));
        items.add(nstringNoLf(f.id));
        items.add(nstringNoLf(f.description));
        items.add(f.encoding == null ? new ImapValue.Quoted("7bit") : string(f.encoding));
        items.add(number(p.bodyLength));
        if (text) {
            items.add(number(p.lines));
        } else if (p.is(MimePart.RFC822)) {
            MimePart message = p.children.get(0);
            items.add(joinAddresses(EnvelopeBuilder.envelope(message.envelope)));
            items.add(write(message, extended));
            items.add(number(p.lines));
        }
        if (extended) {
            items.add(nstringNoLf(f.md5));
            common(f, items);
        }
        return new ImapValue.ListValue(items);
    }

    /**
     * RFC 9051 §9 {@code env-from = "(" 1*address ")"}: the addresses of a list follow each other without a space,
     * as Dovecot writes them.
     */
    private static ImapValue joinAddresses(ImapValue envelope) {
        List<ImapValue> fields = new ArrayList<>();
        for (ImapValue field : ((ImapValue.ListValue) envelope).items()) {
            if (field instanceof ImapValue.ListValue addresses && fields.size() >= 2 && fields.size() <= 7) {
                List<ImapValue> joined = new ArrayList<>();
                for (ImapValue a : addresses.items()) {
                    joined.add(new ImapValue.ListValue(((ImapValue.ListValue) a).items(), !joined.isEmpty()));
                }
                field = new ImapValue.ListValue(joined);
            }
            fields.add(field);
        }
        return new ImapValue.ListValue(fields);
    }

    /** disposition, language, location. */
    private static void common(MimeFields f, List<ImapValue> items) {
        if (f.disposition == null) {
            items.add(NIL);
        } else {
            items.add(new ImapValue.ListValue(List.of(string(f.disposition), params(f.dispositionParams, false))));
        }
        if (f.language == null) {
            items.add(NIL);
        } else {
            items.add(new ImapValue.ListValue(f.language.stream().map(MessageStructure::string).toList()));
        }
        items.add(nstringNoLf(f.location));
    }

    private static ImapValue params(List<String> params, boolean defaultCharset) {
        if (!defaultCharset && params.isEmpty()) {
            return NIL;
        }
        List<ImapValue> items = new ArrayList<>();
        boolean charset = false;
        for (int k = 0; k < params.size(); k += 2) {
            charset |= params.get(k).equalsIgnoreCase("charset");
            items.add(string(params.get(k)));
            items.add(string(params.get(k + 1)));
        }
        if (defaultCharset && !charset) {
            items.add(new ImapValue.Quoted("charset"));
            items.add(new ImapValue.Quoted("us-ascii"));
        }
        return new ImapValue.ListValue(items);
    }

    private static ImapValue number(long n) {
        return new ImapValue.Atom(Long.toString(n));
    }

    /** A string as Dovecot writes one: quoted when it can be, else a literal of its octets. */
    static ImapValue string(String s) {
        if (s == null) {
            return NIL;
        }
        int escapes = 0;
        for (int k = 0; k < s.length(); k++) {
            char c = s.charAt(k);
            if (c == '"' || c == '\\') {
                if (escapes++ >= 4) {
                    return literal(s);
                }
            } else if (c == '\r' || c == '\n' || c >= 0x80 || c == 0) {
                return literal(s);
            }
        }
        return new ImapValue.Quoted(s);
    }

    private static ImapValue literal(String s) {
        return new ImapValue.Literal(s.getBytes(StandardCharsets.ISO_8859_1));
    }

    /** An unstructured value unfolded: line breaks dropped, a space put where a line did not start with one. */
    private static ImapValue nstringNoLf(String s) {
        if (s == null || s.indexOf('\r') < 0 && s.indexOf('\n') < 0) {
            return string(s);
        }
        StringBuilder b = new StringBuilder();
        for (int k = 0; k < s.length(); k++) {
            char c = s.charAt(k);
            if (c != '\r' && c != '\n') {
                b.append(c);
            } else if (k + 1 < s.length() && " \t\r\n".indexOf(s.charAt(k + 1)) < 0) {
                b.append(' ');
            }
        }
        return string(b.toString());
    }
}
