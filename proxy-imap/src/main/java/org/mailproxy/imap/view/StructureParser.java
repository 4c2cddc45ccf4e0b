package org.mailproxy.imap.view;

import org.mailproxy.core.mime.HeaderField;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * Reads a message once, line by line, and records where every MIME part's header and body lie. Only the first
 * octets of each line are looked at (enough to recognise a boundary delimiter) and only header sections are kept
 * (each at most {@code maxHeaderBytes}), so memory does not depend on the size of the bodies or the length of
 * their lines.
 *
 * <p>Boundaries are recognised as an IMAP server does (RFC 2046 §5.1.1, read leniently): a line that starts with
 * {@code --} and a boundary of any enclosing multipart (the innermost, longest match wins; text after the boundary
 * is ignored) ends every part nested in that multipart; the line break before the delimiter belongs to the
 * delimiter, so it is neither in the ended part's size nor in its line count. {@code --boundary--} ends the
 * multipart's parts; what follows until the enclosing boundary (or the end) is the epilogue, part of the
 * multipart's body but of no child (a later {@code --boundary} line is epilogue too). A boundary that never closes
 * leaves its last part running to the end of its enclosing part. A multipart without a boundary parameter has no
 * children.
 *
 * <p>Two details follow Dovecot, whose answers the view must repeat: when the delimiter directly follows a close
 * delimiter line (no epilogue), the line break stays in the part before it; when it lies in a header (a header cut
 * short by the delimiter, or a blank line followed by an empty body), that header loses it while the
 * message/rfc822 part around that header keeps it.
 *
 * <p>Why not mime4j: its token stream gives no byte offsets of headers and bodies, decides boundaries by RFC 2046
 * alone (Dovecot's prefix match, longest match and line-break quirks above decide what clients already see), and
 * unfolds fields its own way. Limits (SECURITY.md 21) are the parts, depth and header size of
 * {@link MessageStructure.Limits} plus the serialized size; line length and content size need none, as neither
 * is kept.
 */
final class StructureParser {
    /** Longest boundary compared whole (RFC 5322 §2.1.1 line limit); a longer one is compared by this prefix. */
    private static final int MAX_BOUNDARY = 998;
    /** Octets of a line inspected for a delimiter: "--", a boundary, "--". */
    private static final int PREFIX = MAX_BOUNDARY + 4;
    /** Serialized octets of a part besides its strings: offsets, counts, flags, list and child counts. */
    private static final int PART_OVERHEAD = 5 * 8 + 1 + 4 + 4;
    private static final Set<String> ENVELOPE_FIELDS = Set.of("date", "subject", "from", "sender", "reply-to", "to",
            "cc", "bcc", "in-reply-to", "message-id");

    private final MessageStructure.Limits limits;
    private final InputStream in;
    private final byte[] buffer = new byte[64 * 1024];
    private int position;
    private int limit;

    private byte[] prefix = new byte[256];
    private int prefixLength;
    private long lineStart;
    private long lineLength;
    private boolean lineEndsWithLf;
    private boolean lineEndsWithCrLf;

    private long offset;
    private long lfCount;
    private int partCount;
    /** Serialized octets of what has been kept so far (see {@link StructureCodec}). */
    private long retained;

    private final Deque<Open> open = new ArrayDeque<>();

    /** A part being read. */
    private static final class Open {
        final MimePart part;
        final boolean parentIsDigest;
        final boolean encapsulated;
        ByteArrayOutputStream header = new ByteArrayOutputStream();
        boolean inHeader = true;
        byte[] headerBytes;
        byte[] boundary;
        long lfAtBodyStart;

        Open(MimePart part, boolean parentIsDigest, boolean encapsulated) {
            this.part = part;
            this.parentIsDigest = parentIsDigest;
            this.encapsulated = encapsulated;
        }
    }

    StructureParser(InputStream in, MessageStructure.Limits limits) {
        this.in = in;
        this.limits = limits;
    }

    MimePart parse() throws IOException {
        MimePart root = newPart(0, false, false, 0);
        boolean previousCrLf = false;
        boolean previousDelimiter = false;
        while (readLine()) {
            Open boundaryOwner = prefixLength >= 2 && prefix[0] == '-' && prefix[1] == '-' ? findBoundary() : null;
            if (boundaryOwner != null) {
                // The line break before a delimiter belongs to it, unless that line break ended a delimiter line
                // itself (a close delimiter right before the enclosing boundary: no epilogue to take it from).
                long end = lineStart == 0 || previousDelimiter ? lineStart : lineStart - (previousCrLf ? 2 : 1);
                long lfAtEnd = lineStart == 0 || previousDelimiter ? lfCount : lfCount - 1;
                Open top = open.peek();
                boolean headerCut = top != boundaryOwner && end != lineStart
                        && (top.inHeader || end < top.part.bodyOffset);
                if (headerCut) {
                    // The line break taken by the delimiter lies in a header (cut short by the delimiter, or
                    // followed by an empty body): that header loses it, but the part around it (the
                    // message/rfc822 holding it) keeps it in its body, as Dovecot counts it.
                    close(open.pop(), end, lfAtEnd);
                    if (open.peek() != boundaryOwner) {
                        close(open.pop(), lineStart, lfCount);
                    }
                }
                while (open.peek() != boundaryOwner) {
                    close(open.pop(), end, lfAtEnd);
                }
                int b = boundaryOwner.boundary.length;
                boolean closing = prefixLength >= 2 + b + 2 && prefix[2 + b] == '-' && prefix[3 + b] == '-';
                if (closing) {
                    boundaryOwner.boundary = null; // the epilogue follows
                } else {
                    MimePart child = newPart(lineStart + lineLength,
                            "digest".equalsIgnoreCase(boundaryOwner.part.fields.subtype), false, open.size());
                    boundaryOwner.part.children.add(child);
                }
            } else if (open.peek().inHeader) {
                headerLine(open.peek());
            }
            lfCount += lineEndsWithLf ? 1 : 0;
            previousCrLf = lineEndsWithCrLf;
            previousDelimiter = boundaryOwner != null;
        }
        while (!open.isEmpty()) {
            close(open.pop(), offset, lfCount);
        }
        return root;
    }

    private MimePart newPart(long at, boolean parentIsDigest, boolean encapsulated, int depth) throws IOException {
        if (++partCount > limits.maxParts()) {
            throw new IOException("message has more than " + limits.maxParts() + " MIME parts");
        }
        if (depth >= limits.maxDepth()) {
            throw new IOException("MIME parts nested deeper than " + limits.maxDepth());
        }
        MimePart part = new MimePart();
        part.headerOffset = at;
        open.push(new Open(part, parentIsDigest, encapsulated));
        return part;
    }

    /** The innermost enclosing multipart whose boundary begins this line (longest boundary if several). */
    private Open findBoundary() {
        Open best = null;
        for (Iterator<Open> it = open.iterator(); it.hasNext(); ) {
            Open o = it.next();
            byte[] b = o.boundary;
            if (b == null || prefixLength < 2 + b.length || best != null && best.boundary.length >= b.length) {
                continue;
            }
            boolean match = true;
            for (int k = 0; k < b.length && match; k++) {
                match = prefix[2 + k] == b[k];
            }
            if (match) {
                best = o;
            }
        }
        return best;
    }

    private void headerLine(Open o) throws IOException {
        if (o.header.size() + lineLength > limits.maxHeaderBytes()) {
            throw new IOException("MIME header larger than " + limits.maxHeaderBytes() + " octets");
        }
        o.header.write(prefix, 0, prefixLength); // a header line is whole in the prefix buffer (see readLine)
        boolean blank = lineLength == 1 && lineEndsWithLf || lineLength == 2 && lineEndsWithCrLf;
        if (blank) {
            endHeader(o, lineStart + lineLength, lfCount + 1);
        }
    }

    /** The header is complete: read its MIME fields and decide what the body holds. */
    private void endHeader(Open o, long bodyStart, long lfAtBodyStart) throws IOException {
        MimePart p = o.part;
        o.inHeader = false;
        p.headerLength = bodyStart - p.headerOffset;
        p.bodyOffset = bodyStart;
        o.lfAtBodyStart = lfAtBodyStart;
        o.headerBytes = o.header.toByteArray();
        String header = new String(o.headerBytes, StandardCharsets.ISO_8859_1);
        List<MimeFields.Field> fields = MimeFields.split(header);
        p.fields = MimeFields.read(fields);
        retained += PART_OVERHEAD + p.fields.serializedSize();
        if (o.encapsulated) {
            p.envelope = envelopeFields(o.headerBytes);
            for (HeaderField h : p.envelope) {
                retained += 8 + h.name().length() + 3L * h.value().length(); // UTF-8: at most 3 octets a char
            }
        }
        if (retained > MessageStructure.MAX_SERIALIZED - 64) {
            // What is kept must fit the cache entry's metadata; hostile headers could otherwise make it huge.
            throw new IOException("MIME structure larger than " + MessageStructure.MAX_SERIALIZED + " octets");
        }
        if (!p.fields.seenContentType && o.parentIsDigest) {
            p.flags |= MimePart.RFC822; // RFC 2046 §5.1.5: a digest's parts default to message/rfc822
        } else if (p.fields.isMessageRfc822()) {
            p.flags |= MimePart.RFC822;
        } else if (p.fields.isMultipart()) {
            p.flags |= MimePart.MULTIPART;
        } else if (p.fields.isText()) {
            p.flags |= MimePart.TEXT;
        }
        o.header = null;
        if (p.is(MimePart.MULTIPART)) {
            String b = p.fields.boundary(MAX_BOUNDARY);
            o.boundary = b == null ? null : b.getBytes(StandardCharsets.ISO_8859_1);
        } else if (p.is(MimePart.RFC822)) {
            MimePart message = newPart(bodyStart, false, true, open.size());
            p.children.add(message);
        }
    }

    private void close(Open o, long end, long lfAtEnd) throws IOException {
        MimePart p = o.part;
        if (o.inHeader) {
            // The header never ended (no blank line before the end or the next delimiter): all of it is header.
            long headerEnd = Math.max(p.headerOffset, end);
            endHeader(o, headerEnd, lfAtEnd);
            if (p.is(MimePart.RFC822)) {
                close(open.pop(), headerEnd, lfAtEnd);
            }
        }
        if (end < p.bodyOffset) {
            // An empty body: the line break before the delimiter is the header's blank line, and it still belongs
            // to the delimiter, so the header loses it (as Dovecot counts it).
            p.headerLength = Math.max(0, end - p.headerOffset);
            p.bodyOffset = p.headerOffset + p.headerLength;
        }
        p.bodyLength = Math.max(0, end - p.bodyOffset);
        p.lines = p.bodyLength == 0 ? 0 : Math.max(0, lfAtEnd - o.lfAtBodyStart);
    }

    /**
     * Reads the next line: its start, length and line end; the first {@link #PREFIX} octets go to {@link #prefix},
     * except in a header, where the whole line is needed and is kept up to the header limit.
     */
    private boolean readLine() throws IOException {
        lineStart = offset;
        lineLength = 0;
        prefixLength = 0;
        lineEndsWithLf = false;
        lineEndsWithCrLf = false;
        int keep = !open.isEmpty() && open.peek().inHeader ? limits.maxHeaderBytes() + 1 : PREFIX;
        boolean lastCr = false;
        while (true) {
            if (position == limit) {
                int n = in.read(buffer, 0, buffer.length);
                position = 0;
                limit = Math.max(n, 0);
                if (n < 0) {
                    return lineLength > 0;
                }
                continue;
            }
            int start = position;
            int nl = -1;
            for (int k = position; k < limit; k++) {
                if (buffer[k] == '\n') {
                    nl = k;
                    break;
                }
            }
            int end = nl < 0 ? limit : nl + 1;
            int n = end - start;
            int copy = Math.min(n, keep - prefixLength);
            if (copy > 0) {
                if (prefixLength + copy > prefix.length) {
                    prefix = java.util.Arrays.copyOf(prefix, Math.max(prefix.length * 2, prefixLength + copy));
                }
                System.arraycopy(buffer, start, prefix, prefixLength, copy);
                prefixLength += copy;
            }
            if (nl >= 0) {
                lineEndsWithLf = true;
                lineEndsWithCrLf = nl > start ? buffer[nl - 1] == '\r' : lastCr;
            } else if (n > 0) {
                lastCr = buffer[limit - 1] == '\r';
            }
            lineLength += n;
            offset += n;
            position = end;
            if (nl >= 0) {
                return true;
            }
        }
    }

    /** The first of each ENVELOPE field of an encapsulated message, raw (RFC 9051 §7.5.2), for {@link EnvelopeBuilder}. */
    private static List<HeaderField> envelopeFields(byte[] header) {
        List<HeaderField> out = new ArrayList<>();
        for (MimeFields.Field f : MimeFields.split(new String(header, StandardCharsets.ISO_8859_1))) {
            String name = f.name().toLowerCase(java.util.Locale.ROOT);
            if (ENVELOPE_FIELDS.contains(name) && out.stream().noneMatch(h -> h.is(name))) {
                String value = new String(f.value().getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
                try {
                    out.add(new HeaderField(f.name(), value));
                } catch (IllegalArgumentException e) {
                    // a field with a NUL is left out, as if absent
                }
            }
        }
        return List.copyOf(out);
    }
}
