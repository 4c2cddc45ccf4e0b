package org.mailproxy.imap.view;

/**
 * A cursor over one unfolded header value for the structured MIME fields (RFC 2045 §5.1 tokens and parameters,
 * RFC 5322 §3.2 quoted strings and comments). Results follow the convention of the server we must match: a method
 * returns 1 when input remains, 0 at the end, -1 when the input is broken (an unclosed comment or quote).
 */
final class Rfc822Reader {
    private final String s;
    private int i;

    Rfc822Reader(String s) {
        this.s = s;
    }

    boolean atEnd() {
        return i >= s.length();
    }

    char peek() {
        return s.charAt(i);
    }

    void advance() {
        i++;
    }

    /** Skips white space, line breaks and comments. */
    int skipLwsp() {
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
                i++;
            } else if (c == '(') {
                if (skipComment() < 0) {
                    return -1;
                }
            } else {
                break;
            }
        }
        return i < s.length() ? 1 : 0;
    }

    private int skipComment() {
        int level = 1;
        i++;
        for (; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '(') {
                level++;
            } else if (c == ')') {
                if (--level == 0) {
                    i++;
                    return i < s.length() ? 1 : 0;
                }
            } else if (c == '\\') {
                i++;
                if (i >= s.length()) {
                    return -1;
                }
            }
        }
        return -1;
    }

    /** RFC 2045 token characters (8-bit octets tolerated), plus '.'. */
    static boolean tokenChar(char c) {
        if (c >= 0x80) {
            return true;
        }
        if (c <= 0x20 || c == 0x7f) {
            return false;
        }
        return "()<>@,;:\\\"/[]?=".indexOf(c) < 0;
    }

    /** RFC 5322 atext (8-bit octets tolerated). */
    static boolean atomChar(char c) {
        if (c >= 0x80) {
            return true;
        }
        if (c <= 0x20 || c == 0x7f) {
            return false;
        }
        return "()<>@,;:\\\".[]".indexOf(c) < 0;
    }

    int mimeToken(StringBuilder out) {
        int start = i;
        while (i < s.length() && tokenChar(s.charAt(i))) {
            i++;
        }
        out.append(s, start, i);
        if (i >= s.length()) {
            return 0;
        }
        return skipLwsp();
    }

    int atom(StringBuilder out) {
        if (i >= s.length() || !atomChar(s.charAt(i))) {
            return -1;
        }
        int start = i;
        while (i < s.length() && atomChar(s.charAt(i))) {
            i++;
        }
        out.append(s, start, i);
        return skipLwsp();
    }

    /** A quoted string starting at '"': escapes removed, folding line breaks removed (the white space kept). */
    int quotedString(StringBuilder out) {
        i++;
        for (; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"') {
                i++;
                return skipLwsp();
            } else if (c == '\n') {
                if (out.length() > 0 && out.charAt(out.length() - 1) == '\r') {
                    out.setLength(out.length() - 1);
                }
            } else if (c == '\\') {
                i++;
                if (i >= s.length()) {
                    return -1;
                }
                out.append(s.charAt(i));
            } else {
                out.append(c);
            }
        }
        return -1;
    }

    /** {@code type "/" subtype}; on failure {@code out} keeps the main type alone (or nothing). */
    int contentType(StringBuilder out) {
        if (skipLwsp() <= 0) {
            return -1;
        }
        if (mimeToken(out) <= 0 || out.length() == 0) {
            return -1;
        }
        if (s.charAt(i) != '/') {
            return -1;
        }
        int mainLength = out.length();
        i++;
        if (skipLwsp() <= 0) {
            return -1;
        }
        out.append('/');
        if (mimeToken(out) < 0 || out.length() == mainLength + 1) {
            out.setLength(mainLength);
            return -1;
        }
        return 1;
    }

    /** {@code ";" attribute "=" value}: 1 with kv filled, 0 at the end, -1 when broken. */
    int contentParam(String[] kv) {
        if (i >= s.length()) {
            return 0;
        }
        if (s.charAt(i) != ';') {
            return -1;
        }
        i++;
        if (skipLwsp() <= 0) {
            return -1;
        }
        StringBuilder key = new StringBuilder();
        if (mimeToken(key) <= 0) {
            return -1;
        }
        if (s.charAt(i) != '=') {
            return -1;
        }
        i++;
        StringBuilder value = new StringBuilder();
        int ret = skipLwsp();
        if (ret <= 0) {
            // no value: an empty one
        } else if (s.charAt(i) == '"') {
            ret = quotedString(value);
        } else if (s.charAt(i) == '=') {
            // name==?utf-8?b?...?= : an unquoted encoded-word, taken up to the next separator
            while (i < s.length() && ";\t \r\n".indexOf(s.charAt(i)) < 0) {
                value.append(s.charAt(i++));
            }
        } else {
            ret = mimeToken(value);
        }
        kv[0] = key.toString();
        kv[1] = value.toString();
        return ret < 0 ? -1 : 1;
    }
}
