package org.mailproxy.core.mime;

import org.mailproxy.core.crypto.openpgp.DetachedVerifier;
import org.mailproxy.core.crypto.openpgp.SignatureResult;
import org.mailproxy.core.crypto.openpgp.spool.Spool;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/**
 * Verifies a {@code multipart/signed; protocol="application/pgp-signature"} body (RFC 3156 §5, RFC 1847 §2.1):
 * the first part, byte-exact from the line after the first delimiter up to (not including) the CRLF before the
 * next delimiter, against the detached signature in the second part. Streaming; the signed part goes through a
 * spool. Lines longer than 1 MiB or a signature part over 64 KiB end verification without a result.
 */
final class MultipartSignedVerifier {
    private static final int MAX_LINE = 1 << 20;
    private static final int MAX_SIGNATURE = 64 << 10;

    private MultipartSignedVerifier() {
    }

    static Optional<SignatureResult> verify(InputStream body, String boundary, DetachedVerifier verifier,
                                            long maxBytes, int memoryThreshold, Path spoolDir) throws IOException {
        byte[] delim = ("--" + boundary).getBytes(StandardCharsets.US_ASCII);
        try (Spool part1 = new Spool(memoryThreshold, maxBytes, spoolDir)) {
            ByteArrayOutputStream sigHeader = new ByteArrayOutputStream();
            ByteArrayOutputStream sig = new ByteArrayOutputStream();
            int state = 0; // 0 preamble, 1 signed part, 2 signature headers, 3 signature body, 4 done
            try (OutputStream p1 = part1.output()) {
                byte[] pendingEol = null;
                ByteArrayOutputStream line = new ByteArrayOutputStream();
                while (state != 4) {
                    int eol = readLine(body, line);
                    if (eol < 0 && line.size() == 0) {
                        break;
                    }
                    byte[] l = line.toByteArray();
                    int contentLen = l.length - Math.max(eol, 0);
                    int delimKind = delimiter(l, contentLen, delim); // 0 none, 1 delimiter, 2 close delimiter
                    switch (state) {
                        case 0 -> {
                            if (delimKind == 1) {
                                state = 1;
                            } else if (delimKind == 2) {
                                return Optional.empty();
                            }
                        }
                        case 1 -> {
                            if (delimKind == 1) {
                                state = 2; // the line end before the delimiter belongs to it
                            } else if (delimKind == 2) {
                                return Optional.empty();
                            } else {
                                if (pendingEol != null) {
                                    p1.write(pendingEol);
                                }
                                p1.write(l, 0, contentLen);
                                pendingEol = java.util.Arrays.copyOfRange(l, contentLen, l.length);
                            }
                        }
                        case 2 -> {
                            if (contentLen == 0) {
                                String h = sigHeader.toString(StandardCharsets.ISO_8859_1).toLowerCase(Locale.ROOT);
                                if (!h.contains("application/pgp-signature")) {
                                    return Optional.empty();
                                }
                                state = 3;
                            } else if (sigHeader.size() + l.length > MAX_SIGNATURE) {
                                return Optional.empty();
                            } else {
                                sigHeader.write(l);
                            }
                        }
                        case 3 -> {
                            if (delimKind != 0) {
                                state = 4;
                            } else if (sig.size() + l.length > MAX_SIGNATURE) {
                                return Optional.empty();
                            } else {
                                sig.write(l);
                            }
                        }
                        default -> {
                        }
                    }
                    if (eol < 0) {
                        break;
                    }
                }
            }
            if (state < 3) {
                return Optional.empty();
            }
            try (InputStream signed = part1.openStream()) {
                return Optional.of(verifier.verify(sig.toByteArray(), signed));
            }
        }
    }

    /** 0: not a delimiter; 1: "--boundary"; 2: "--boundary--" (trailing whitespace allowed, RFC 2046 §5.1.1). */
    private static int delimiter(byte[] l, int len, byte[] delim) {
        if (len < delim.length) {
            return 0;
        }
        for (int i = 0; i < delim.length; i++) {
            if (l[i] != delim[i]) {
                return 0;
            }
        }
        int i = delim.length;
        int kind = 1;
        if (i + 1 < len && l[i] == '-' && l[i + 1] == '-') {
            kind = 2;
            i += 2;
        }
        for (; i < len; i++) {
            if (l[i] != ' ' && l[i] != '\t') {
                return 0;
            }
        }
        return kind;
    }

    /**
     * Reads one line with its terminator into {@code line}; returns the terminator length (2 CRLF, 1 LF, 0 none at
     * end of input) or -1 at end of input.
     */
    private static int readLine(InputStream in, ByteArrayOutputStream line) throws IOException {
        line.reset();
        int b;
        int prev = -1;
        while ((b = in.read()) >= 0) {
            line.write(b);
            if (line.size() > MAX_LINE) {
                throw new IOException("line longer than " + MAX_LINE);
            }
            if (b == '\n') {
                return prev == '\r' ? 2 : 1;
            }
            prev = b;
        }
        return line.size() == 0 ? -1 : 0;
    }
}
