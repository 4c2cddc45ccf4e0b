package org.mailproxy.core.mime;

import org.mailproxy.core.crypto.openpgp.DetachedSigner;
import org.mailproxy.core.crypto.openpgp.KeyException;
import org.mailproxy.core.crypto.openpgp.UnlockedKey;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;

/**
 * Writes a message as PGP/MIME {@code multipart/signed} (RFC 3156 §5) while its body streams through: the original
 * content fields and body become the first part, hashed as they are written, and the detached signature follows
 * as the second part. The other header fields stay on the outside. The CRLF before the closing boundary belongs to
 * the boundary (RFC 2046 §5.1.1), so it is written but not signed.
 */
public final class PgpMimeSigner {
    private static final SecureRandom RANDOM = new SecureRandom();

    private PgpMimeSigner() {
    }

    /**
     * @param wireOut           receives the whole message (header and body); not closed
     * @param headersOfOriginal the original message's header fields
     * @param extraOuter        generated fields for the outer header (e.g. {@code Autocrypt:})
     * @return where the original body goes (CRLF lines); closing it writes the signature and the closing boundary
     */
    public static OutputStream open(OutputStream wireOut, List<HeaderField> headersOfOriginal, UnlockedKey signer,
                                    List<HeaderField> extraOuter) throws IOException, KeyException {
        DetachedSigner.Session signature = DetachedSigner.start(signer);
        byte[] rnd = new byte[12];
        RANDOM.nextBytes(rnd);
        String boundary = "----=_mailproxy_s_" + HexFormat.of().formatHex(rnd);
        StringBuilder head = new StringBuilder();
        StringBuilder part = new StringBuilder();
        boolean hasType = false;
        // A single part whose octets may be 8-bit is signed quoted-printable (RFC 3156 3: signed data is 7-bit)
        boolean reencode = needsSevenBit(headersOfOriginal);
        for (HeaderField f : headersOfOriginal) {
            if (f.is("MIME-Version") || reencode && f.is("Content-Transfer-Encoding")) {
                continue;
            }
            if (f.lowerName().startsWith("content-")) {
                hasType |= f.is("Content-Type");
                part.append(f.toWire());
            } else {
                head.append(f.toWire());
            }
        }
        if (reencode) {
            part.append("Content-Transfer-Encoding: quoted-printable\r\n");
        }
        if (!hasType) {
            part.append("Content-Type: text/plain; charset=us-ascii\r\n");
        }
        part.append("\r\n");
        for (HeaderField f : extraOuter) {
            head.append(f.toWire());
        }
        head.append("MIME-Version: 1.0\r\n");
        head.append("Content-Type: multipart/signed; micalg=").append(DetachedSigner.MICALG)
                .append("; protocol=\"application/pgp-signature\";\r\n boundary=\"").append(boundary)
                .append("\"\r\n\r\n");
        head.append("This is an OpenPGP/MIME signed message (RFC 4880 and 3156)\r\n");
        head.append("--").append(boundary).append("\r\n");
        wireOut.write(head.toString().getBytes(StandardCharsets.UTF_8));
        byte[] partHead = part.toString().getBytes(StandardCharsets.UTF_8);
        wireOut.write(partHead);
        signature.update(partHead, 0, partHead.length);

        OutputStream signed = new OutputStream() {
            /** The last two octets written, hashed only once more follows: they may be the boundary's CRLF. */
            private final byte[] held = new byte[2];
            private int heldCount;
            private boolean closed;

            @Override
            public void write(int b) throws IOException {
                write(new byte[]{(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                if (len == 0) {
                    return;
                }
                wireOut.write(b, off, len);
                if (len >= 2) {
                    signature.update(held, 0, heldCount);
                    signature.update(b, off, len - 2);
                    held[0] = b[off + len - 2];
                    held[1] = b[off + len - 1];
                    heldCount = 2;
                } else if (heldCount < 2) {
                    held[heldCount++] = b[off];
                } else {
                    signature.update(held, 0, 1);
                    held[0] = held[1];
                    held[1] = b[off];
                }
            }

            @Override
            public void close() throws IOException {
                if (closed) {
                    return;
                }
                closed = true;
                boolean endsWithCrlf = heldCount == 2 && held[0] == '\r' && held[1] == '\n';
                if (!endsWithCrlf) {
                    signature.update(held, 0, heldCount);
                    wireOut.write("\r\n".getBytes(StandardCharsets.US_ASCII));
                }
                StringBuilder tail = new StringBuilder();
                tail.append("--").append(boundary).append("\r\n");
                tail.append("Content-Type: application/pgp-signature; name=\"signature.asc\"\r\n");
                tail.append("Content-Description: OpenPGP digital signature\r\n");
                tail.append("Content-Disposition: attachment; filename=\"signature.asc\"\r\n\r\n");
                wireOut.write(tail.toString().getBytes(StandardCharsets.US_ASCII));
                CrlfOutputStream crlf = new CrlfOutputStream(wireOut);
                crlf.write(signature.finish());
                crlf.flush();
                wireOut.write(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.US_ASCII));
                wireOut.flush();
            }
        };
        if (!reencode) {
            return signed;
        }
        return new OutputStream() {
            private final QuotedPrintableOutputStream qp = new QuotedPrintableOutputStream(signed);

            @Override
            public void write(int b) throws IOException {
                qp.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                qp.write(b, off, len);
            }

            @Override
            public void close() throws IOException {
                qp.close();
                signed.close();
            }
        };
    }

    /**
     * Whether the body is one part that may hold 8-bit octets: no multipart (its parts carry their own encodings)
     * and no 7-bit-safe transfer encoding (base64, quoted-printable).
     */
    private static boolean needsSevenBit(List<HeaderField> headers) {
        String type = Headers.mediaType(Headers.first(headers, "Content-Type"));
        if (type.startsWith("multipart/") || type.startsWith("message/")) {
            return false;
        }
        String cte = Headers.first(headers, "Content-Transfer-Encoding").map(HeaderField::unfolded).orElse("7bit")
                .toLowerCase(java.util.Locale.ROOT);
        return !cte.equals("base64") && !cte.equals("quoted-printable");
    }
}
