package org.mailproxy.imap.view;

import org.apache.james.mime4j.MimeException;
import org.apache.james.mime4j.codec.DecodeMonitor;
import org.apache.james.mime4j.codec.DecoderUtil;
import org.apache.james.mime4j.parser.AbstractContentHandler;
import org.apache.james.mime4j.parser.MimeStreamParser;
import org.apache.james.mime4j.stream.BodyDescriptor;
import org.apache.james.mime4j.stream.MimeConfig;
import org.mailproxy.core.cache.CacheEntry;
import org.mailproxy.core.mime.HeaderField;
import org.mailproxy.core.mime.Headers;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Evaluates SEARCH's content keys (RFC 9051 §6.4.4) against the view of a message, as a server does: header keys
 * match a substring of the named field's decoded value (RFC 2047 words decoded, case ignored), BODY a substring of
 * the decoded text of its text parts, TEXT the header or the body, LARGER/SMALLER the view's size.
 */
public final class ViewSearch {

    /** Text read per part at most; a larger text part is searched in its first this many characters. */
    private static final int MAX_PART_CHARS = 16 << 20;

    private ViewSearch() {
    }

    /** Whether the message matches each key, in order. */
    public static boolean[] matches(List<SearchCriteria.Key> keys, MessageStructure structure, CacheEntry entry)
            throws IOException {
        boolean[] out = new boolean[keys.size()];
        List<HeaderField> header = null;
        String body = null;
        for (int k = 0; k < keys.size(); k++) {
            SearchCriteria.Key key = keys.get(k);
            String name = key.name();
            if (name.equals("LARGER") || name.equals("SMALLER")) {
                long n = parse(key.arguments().get(0));
                out[k] = name.equals("LARGER") ? structure.size() > n : structure.size() < n;
                continue;
            }
            if (header == null) {
                byte[] h;
                var range = structure.section("HEADER").orElseThrow();
                try (InputStream in = entry.openStream(range.offset(), Math.min(range.length(), ViewAnswers.MAX_HEADER_BYTES))) {
                    h = in.readAllBytes();
                }
                header = Headers.read(new ByteArrayInputStream(h), ViewAnswers.MAX_HEADER_BYTES, 10_000);
            }
            String wanted = lower(key.arguments().get(key.arguments().size() - 1));
            switch (name) {
                case "HEADER" -> out[k] = fieldContains(header, key.arguments().get(0), wanted);
                case "SUBJECT", "FROM", "TO", "CC", "BCC" -> out[k] = fieldContains(header, name, wanted);
                case "BODY", "TEXT" -> {
                    if (body == null) {
                        body = bodyText(entry);
                    }
                    out[k] = body.contains(wanted) || name.equals("TEXT") && headerContains(header, wanted);
                }
                default -> out[k] = false;
            }
        }
        return out;
    }

    private static long parse(String n) {
        try {
            return Long.parseLong(n);
        } catch (NumberFormatException e) {
            return Long.MAX_VALUE;
        }
    }

    private static boolean fieldContains(List<HeaderField> header, String field, String wanted) {
        for (HeaderField f : header) {
            if (f.is(field) && lower(decoded(f)).contains(wanted)) {
                return true;
            }
        }
        return false;
    }

    private static boolean headerContains(List<HeaderField> header, String wanted) {
        for (HeaderField f : header) {
            if (lower(f.name() + ": " + decoded(f)).contains(wanted)) {
                return true;
            }
        }
        return false;
    }

    private static String decoded(HeaderField f) {
        return DecoderUtil.decodeEncodedWords(f.unfolded().strip(), DecodeMonitor.SILENT);
    }

    private static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }

    /** The decoded text of every text part, lower-cased, separated by newlines. */
    private static String bodyText(CacheEntry entry) throws IOException {
        StringBuilder text = new StringBuilder();
        MimeStreamParser parser = new MimeStreamParser(MimeConfig.PERMISSIVE);
        parser.setContentDecoding(true);
        parser.setContentHandler(new AbstractContentHandler() {
            @Override
            public void body(BodyDescriptor bd, InputStream is) throws IOException {
                if (!"text".equalsIgnoreCase(bd.getMediaType())) {
                    return;
                }
                Charset cs;
                try {
                    cs = bd.getCharset() == null ? StandardCharsets.US_ASCII : Charset.forName(bd.getCharset());
                } catch (RuntimeException e) {
                    cs = StandardCharsets.UTF_8;
                }
                char[] buf = new char[8192];
                int total = 0;
                try (var reader = new java.io.InputStreamReader(is, cs)) {
                    int n;
                    while ((n = reader.read(buf)) > 0 && total < MAX_PART_CHARS) {
                        text.append(buf, 0, n);
                        total += n;
                    }
                }
                text.append('\n');
            }
        });
        try (InputStream in = entry.openStream(0)) {
            parser.parse(in);
        } catch (MimeException e) {
            throw new IOException("unparseable message: " + e.getMessage(), e);
        }
        return lower(text.toString());
    }

    /** For callers that keep results per key. */
    public static List<Boolean> asList(boolean[] b) {
        List<Boolean> out = new ArrayList<>(b.length);
        for (boolean x : b) {
            out.add(x);
        }
        return out;
    }
}
