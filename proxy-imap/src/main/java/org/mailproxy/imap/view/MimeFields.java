package org.mailproxy.imap.view;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The MIME header fields of one part as an IMAP server reads them for BODYSTRUCTURE (RFC 2045, RFC 2183, RFC 3282,
 * RFC 2557, RFC 1864), following Dovecot's lenient reading so our answers equal its answers for the same bytes:
 * <ul>
 *   <li>only the first occurrence of each Content-* field counts;</li>
 *   <li>type, subtype, parameter names and values, disposition and transfer encoding keep the case they were
 *       written in;</li>
 *   <li>parameter values are unquoted (backslash escapes removed, folding CRLFs dropped);</li>
 *   <li>RFC 2231 continuations ({@code name*0=..; name*1=..}) are joined into one parameter that comes after the
 *       plain ones, named {@code name*} when extended; the charset/language prefix and %-escapes are <em>not</em>
 *       decoded (a server reports them raw); continuations with a missing index stay separate;</li>
 *   <li>a Content-Type that is not {@code type/subtype} keeps what could be read (possibly {@code ""}) and loses its
 *       parameters;</li>
 *   <li>comments {@code (...)} are skipped wherever white space may appear.</li>
 * </ul>
 * Strings hold octets as ISO-8859-1 characters, so 8-bit header bytes pass through unchanged.
 */
final class MimeFields {
    String type;
    String subtype;
    List<String> params = List.of();
    String id;
    String description;
    String encoding;
    String md5;
    String disposition;
    List<String> dispositionParams;
    List<String> language;
    String location;
    boolean seenContentType;
    boolean broken;

    /**
     * One field: its name and its value as lines joined by LF (continuation lines keep their leading white space),
     * white space after the colon dropped.
     */
    record Field(String name, String value) {
    }

    /** Splits a header section (octets as ISO-8859-1, blank line optional) into fields; lines without a colon are skipped. */
    static List<Field> split(String header) {
        List<Field> out = new ArrayList<>();
        String name = null;
        StringBuilder value = null;
        int i = 0;
        while (i < header.length()) {
            int nl = header.indexOf('\n', i);
            int end = nl < 0 ? header.length() : nl;
            int next = nl < 0 ? header.length() : nl + 1;
            int contentEnd = end > i && header.charAt(end - 1) == '\r' ? end - 1 : end;
            String line = header.substring(i, contentEnd);
            i = next;
            if (line.isEmpty()) {
                break;
            }
            char first = line.charAt(0);
            if ((first == ' ' || first == '\t') && name != null) {
                value.append('\n').append(line);
                continue;
            }
            if (name != null) {
                out.add(new Field(name, value.toString()));
                name = null;
            }
            int colon = line.indexOf(':');
            if (colon <= 0) {
                continue;
            }
            String n = line.substring(0, colon).strip();
            if (n.isEmpty()) {
                continue;
            }
            int v = colon + 1;
            while (v < line.length() && (line.charAt(v) == ' ' || line.charAt(v) == '\t')) {
                v++;
            }
            if (v == line.length() && v > colon + 1) {
                v = colon + 2; // a value of white space only loses just the first character (as Dovecot reads it)
            }
            name = n;
            value = new StringBuilder(line.substring(v));
        }
        if (name != null) {
            out.add(new Field(name, value.toString()));
        }
        return out;
    }

    static MimeFields read(List<Field> fields) {
        MimeFields m = new MimeFields();
        for (Field f : fields) {
            String n = f.name();
            if (n.length() <= 8 || !n.regionMatches(true, 0, "Content-", 0, 8)) {
                continue;
            }
            String rest = n.substring(8);
            String v = f.value();
            if (rest.equalsIgnoreCase("Type")) {
                if (!m.seenContentType) {
                    m.seenContentType = true;
                    m.contentType(v);
                }
            } else if (rest.equalsIgnoreCase("Transfer-Encoding")) {
                if (m.encoding == null) {
                    Rfc822Reader r = new Rfc822Reader(v);
                    r.skipLwsp();
                    StringBuilder sb = new StringBuilder();
                    if (r.mimeToken(sb) >= 0 && r.skipLwsp() == 0 && sb.length() > 0) {
                        m.encoding = sb.toString();
                    }
                }
            } else if (rest.equalsIgnoreCase("ID")) {
                m.id = m.id == null ? v : m.id;
            } else if (rest.equalsIgnoreCase("Description")) {
                m.description = m.description == null ? v : m.description;
            } else if (rest.equalsIgnoreCase("MD5")) {
                m.md5 = m.md5 == null ? v : m.md5;
            } else if (rest.equalsIgnoreCase("Location")) {
                m.location = m.location == null ? v : m.location;
            } else if (rest.equalsIgnoreCase("Language")) {
                if (m.language == null) {
                    m.language(v);
                }
            } else if (rest.equalsIgnoreCase("Disposition")) {
                if (m.dispositionParams == null || m.dispositionParams.isEmpty()) {
                    m.disposition(v); // Dovecot: a later field replaces one without parameters
                }
            }
        }
        return m;
    }

    /** An upper bound of the octets these fields take in the serialized structure ({@link StructureCodec}). */
    long serializedSize() {
        long n = 0;
        for (String s : new String[] {type, subtype, id, description, encoding, md5, disposition, location}) {
            n += 4 + (s == null ? 0 : s.length());
        }
        for (List<String> l : List.of(params, dispositionParams == null ? List.<String>of() : dispositionParams,
                language == null ? List.<String>of() : language)) {
            n += 4;
            for (String s : l) {
                n += 4 + s.length();
            }
        }
        return n;
    }

    /** Whether this part is {@code text/*} as a server decides it: the main type alone, without case. */
    boolean isText() {
        return type == null || type.equalsIgnoreCase("text");
    }

    boolean isMultipart() {
        return type != null && type.equalsIgnoreCase("multipart") && subtype != null && !broken;
    }

    boolean isMessageRfc822() {
        return type != null && type.equalsIgnoreCase("message") && "rfc822".equalsIgnoreCase(subtype) && !broken;
    }

    /**
     * The boundary parameter (first one, any case). RFC 2046 §5.1.1 allows 70 octets, but servers compare longer
     * ones whole; beyond {@code max} octets only that prefix is compared.
     */
    String boundary(int max) {
        for (int k = 0; k < params.size(); k += 2) {
            if (params.get(k).equalsIgnoreCase("boundary")) {
                String b = params.get(k + 1);
                return b.length() > max ? b.substring(0, max) : b;
            }
        }
        return null;
    }

    private void contentType(String v) {
        Rfc822Reader r = new Rfc822Reader(v);
        r.skipLwsp();
        StringBuilder sb = new StringBuilder();
        int ret = r.contentType(sb);
        String s = sb.toString();
        int slash = s.indexOf('/');
        type = slash < 0 ? s : s.substring(0, slash);
        subtype = slash < 0 ? "" : s.substring(slash + 1);
        if (ret < 0) {
            broken = slash < 0;
            return;
        }
        params = parameters(r);
    }

    private void disposition(String v) {
        Rfc822Reader r = new Rfc822Reader(v);
        r.skipLwsp();
        StringBuilder sb = new StringBuilder();
        if (r.mimeToken(sb) < 0) {
            return;
        }
        disposition = sb.toString();
        dispositionParams = parameters(r);
    }

    private void language(String v) {
        Rfc822Reader r = new Rfc822Reader(v);
        List<String> langs = new ArrayList<>();
        r.skipLwsp();
        while (!r.atEnd()) {
            StringBuilder sb = new StringBuilder();
            if (r.atom(sb) < 0) {
                break;
            }
            langs.add(sb.toString());
            if (r.atEnd() || r.peek() != ',') {
                break;
            }
            r.advance();
            r.skipLwsp();
        }
        if (!langs.isEmpty()) {
            language = List.copyOf(langs);
        }
    }

    /** RFC 2045 parameters with RFC 2231 continuations joined (see the class comment); name, value, name, value... */
    static List<String> parameters(Rfc822Reader r) {
        List<String> result = new ArrayList<>();
        List<Continuation> continued = new ArrayList<>();
        int ret;
        String[] kv = new String[2];
        int lastIndex = 0;
        while ((ret = r.contentParam(kv)) != 0) {
            if (ret < 0) {
                if (r.atEnd()) {
                    break;
                }
                r.advance();
                continue;
            }
            String key = kv[0];
            int star = key.indexOf('*');
            boolean plain = true;
            if (star >= 0) {
                int p = star;
                int index = lastIndex;
                if (p + 1 < key.length()) {
                    p++;
                    index = 0;
                    while (p < key.length() && key.charAt(p) >= '0' && key.charAt(p) <= '9') {
                        index = index * 10 + key.charAt(p) - '0';
                        p++;
                    }
                }
                boolean extended = false;
                if (p < key.length() && key.charAt(p) == '*') {
                    extended = true;
                    p++;
                }
                lastIndex = index;
                if (p >= key.length()) {
                    continued.add(new Continuation(key.substring(0, star), index, extended, kv[1]));
                    plain = false;
                }
            }
            if (plain) {
                result.add(key);
                result.add(kv[1]);
            }
        }
        if (continued.isEmpty()) {
            return List.copyOf(result);
        }
        continued.sort(Comparator.comparing((Continuation c) -> c.key, String.CASE_INSENSITIVE_ORDER)
                .thenComparingInt(c -> c.index));
        int i = 0;
        while (i < continued.size()) {
            boolean ok = true;
            boolean haveExtended = false;
            int nextIndex = 0;
            int j = i;
            for (; j < continued.size(); j++) {
                if (!continued.get(i).key.equalsIgnoreCase(continued.get(j).key)) {
                    break;
                }
                if (continued.get(j).index != nextIndex) {
                    ok = false;
                }
                haveExtended |= continued.get(j).extended;
                nextIndex++;
            }
            if (!ok) {
                for (int k = i; k < j; k++) {
                    Continuation c = continued.get(k);
                    result.add(c.key + "*" + c.index + (c.extended ? "*" : ""));
                    result.add(c.value);
                }
            } else {
                StringBuilder sb = new StringBuilder();
                if (!continued.get(i).extended && haveExtended) {
                    sb.append("''");
                }
                for (int k = i; k < j; k++) {
                    Continuation c = continued.get(k);
                    if (!c.extended && haveExtended) {
                        percentEscape(sb, c.value);
                    } else {
                        sb.append(c.value);
                    }
                }
                result.add(haveExtended ? continued.get(i).key + "*" : continued.get(i).key);
                result.add(sb.toString());
            }
            i = j;
        }
        return List.copyOf(result);
    }

    /** A plain section joined to extended ones is written %-escaped so the whole value stays one RFC 2231 value. */
    private static void percentEscape(StringBuilder sb, String v) {
        for (int k = 0; k < v.length(); k++) {
            char c = v.charAt(k);
            if (c == '%' || c < 0x20 || c >= 0x7f || c == '*' || c == '\'') {
                sb.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4 & 0xf, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            } else {
                sb.append(c);
            }
        }
    }

    private record Continuation(String key, int index, boolean extended, String value) {
    }
}
