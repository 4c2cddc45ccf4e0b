package org.mailproxy.imap.view;

import org.mailproxy.core.cache.CacheEntry;
import org.mailproxy.core.mime.HeaderField;
import org.mailproxy.core.mime.Headers;
import org.mailproxy.imap.codec.ImapValue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The answer to one requested FETCH item from the view of a message, so that every item describes the same octets
 * (RFC 9051 §6.4.5, §7.5.2): sizes and structure from the view's {@link MessageStructure}, octets as a range of the
 * cache entry to stream, header field subsets cut by {@link HeaderSections}, partials applied to the section.
 */
public final class ViewAnswers {

    /** Header sections larger than this are refused rather than held in memory (a header, not a body). */
    static final int MAX_HEADER_BYTES = 1 << 20;
    private static final ImapValue EMPTY = new ImapValue.Quoted("");

    private ViewAnswers() {
    }

    /** What to send for an item. */
    public sealed interface Answer {
    }

    /** A complete value (an atom, a list, a small literal). */
    public record Value(ImapValue value) implements Answer {
    }

    /** A literal of {@code length} octets read from the cache entry at {@code offset}. */
    public record Octets(long offset, long length) implements Answer {
    }

    public static Answer answer(FetchRequest.Item item, MessageStructure structure, CacheEntry entry)
            throws IOException {
        return switch (item.kind()) {
            case SIZE -> new Value(new ImapValue.Atom(Long.toString(structure.size())));
            case BODYSTRUCTURE -> new Value(structure.bodyStructure());
            case BODY -> new Value(structure.body());
            case ENVELOPE -> new Value(EnvelopeBuilder.envelope(headerFields(structure, entry)));
            case SECTION -> section(item, structure, entry);
            case BINARY, OTHER -> throw new IllegalArgumentException("not answered from the view: " + item.name());
        };
    }

    private static List<HeaderField> headerFields(MessageStructure structure, CacheEntry entry) throws IOException {
        byte[] header = read(structure.section("HEADER").orElseThrow(), entry);
        return Headers.read(new ByteArrayInputStream(header), MAX_HEADER_BYTES, 10_000);
    }

    private static Answer section(FetchRequest.Item item, MessageStructure structure, CacheEntry entry)
            throws IOException {
        String spec = switch (item.name()) {
            case "RFC822" -> "";
            case "RFC822.HEADER" -> "HEADER";
            case "RFC822.TEXT" -> "TEXT";
            default -> item.section();
        };
        int fields = spec.indexOf("HEADER.FIELDS");
        if (fields >= 0) {
            Optional<MessageStructure.Range> header = structure.section(spec.substring(0, fields) + "HEADER");
            if (header.isEmpty()) {
                return new Value(EMPTY);
            }
            boolean not = spec.startsWith("HEADER.FIELDS.NOT", fields);
            byte[] cut = HeaderSections.fields(read(header.get(), entry), names(spec), not);
            return new Value(new ImapValue.Literal(partial(cut, item)));
        }
        Optional<MessageStructure.Range> range = structure.section(spec);
        if (range.isEmpty()) {
            return new Value(EMPTY); // as Dovecot answers a section that does not exist
        }
        long offset = range.get().offset();
        long length = range.get().length();
        if (item.origin() >= 0) {
            long origin = Math.min(item.origin(), length);
            offset += origin;
            length -= origin;
            if (item.count() >= 0) {
                length = Math.min(length, item.count());
            }
        }
        return new Octets(offset, length);
    }

    private static byte[] partial(byte[] octets, FetchRequest.Item item) {
        if (item.origin() < 0) {
            return octets;
        }
        int from = (int) Math.min(item.origin(), octets.length);
        int to = item.count() < 0 ? octets.length : (int) Math.min(octets.length, from + item.count());
        return Arrays.copyOfRange(octets, from, to);
    }

    /** The field names of {@code HEADER.FIELDS (A B)}. */
    static Set<String> names(String spec) {
        int open = spec.indexOf('(');
        int close = spec.lastIndexOf(')');
        Set<String> out = new LinkedHashSet<>();
        if (open < 0 || close < open) {
            return out;
        }
        for (String n : spec.substring(open + 1, close).trim().split(" +")) {
            if (!n.isEmpty()) {
                out.add(n);
            }
        }
        return out;
    }

    private static byte[] read(MessageStructure.Range range, CacheEntry entry) throws IOException {
        if (range.length() > MAX_HEADER_BYTES) {
            throw new IOException("header section larger than " + MAX_HEADER_BYTES + " octets");
        }
        try (InputStream in = entry.openStream(range.offset(), range.length())) {
            return in.readNBytes((int) range.length());
        }
    }
}
