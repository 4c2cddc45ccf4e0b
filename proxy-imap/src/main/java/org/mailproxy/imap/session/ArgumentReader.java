package org.mailproxy.imap.session;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the arguments of a small, complete command that the proxy answers itself (LOGIN, AUTHENTICATE): atoms,
 * quoted strings and literals (RFC 9051 4.1-4.3). Input is the command's pieces in order, line, literal, line...,
 * with the tag and verb already removed from the first line and literal markers removed from the lines.
 */
final class ArgumentReader {

    private ArgumentReader() {
    }

    static List<byte[]> parse(List<byte[]> segments) throws IllegalArgumentException {
        List<byte[]> args = new ArrayList<>();
        for (int s = 0; s < segments.size(); s++) {
            byte[] seg = segments.get(s);
            if (s % 2 == 1) {
                args.add(seg);
                continue;
            }
            int i = 0;
            while (i < seg.length) {
                byte b = seg[i];
                if (b == ' ') {
                    i++;
                } else if (b == '"') {
                    ByteArrayOutputStream out = new ByteArrayOutputStream();
                    i++;
                    while (true) {
                        if (i >= seg.length) {
                            throw new IllegalArgumentException("unterminated quoted string");
                        }
                        byte c = seg[i++];
                        if (c == '"') {
                            break;
                        }
                        if (c == '\\') {
                            if (i >= seg.length) {
                                throw new IllegalArgumentException("unterminated quoted string");
                            }
                            c = seg[i++];
                            if (c != '"' && c != '\\') {
                                throw new IllegalArgumentException("invalid escape in quoted string");
                            }
                        }
                        out.write(c);
                    }
                    args.add(out.toByteArray());
                } else {
                    int j = i;
                    while (j < seg.length && seg[j] != ' ') {
                        j++;
                    }
                    byte[] atom = new byte[j - i];
                    System.arraycopy(seg, i, atom, 0, atom.length);
                    args.add(atom);
                    i = j;
                }
            }
        }
        return args;
    }
}
