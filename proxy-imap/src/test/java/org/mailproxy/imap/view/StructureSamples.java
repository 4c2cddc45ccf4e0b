package org.mailproxy.imap.view;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/** Messages of varied MIME shapes (CRLF), shared by the unit tests and the comparison with Dovecot. */
final class StructureSamples {

    private StructureSamples() {
    }

    static byte[] crlf(String text) {
        return text.replace("\r\n", "\n").replace("\n", "\r\n").getBytes(StandardCharsets.UTF_8);
    }

    static final String SINGLE = """
            From: Alice <alice@example.test>
            To: bob@example.test
            Subject: single
            MIME-Version: 1.0
            Content-Type: text/plain; charset=utf-8; format=flowed
            Content-Transfer-Encoding: quoted-printable

            Hello Bob,
            two lines=20
            and a third.
            """;

    static final String MIXED = """
            From: alice@example.test
            Subject: mixed
            MIME-Version: 1.0
            Content-Type: multipart/mixed; boundary="b1"

            --b1
            Content-Type: text/plain; charset=us-ascii

            See attached.
            --b1
            Content-Type: application/pdf; name="report.pdf"
            Content-Transfer-Encoding: base64
            Content-Disposition: attachment; filename="report.pdf"; size=12
            Content-ID: <pdf1@example.test>
            Content-Description: the report

            SGVsbG8gd29ybGQh
            --b1
            Content-Type: image/png
            Content-Transfer-Encoding: base64
            Content-Disposition: inline

            iVBORw0KGgo=
            --b1--
            """;

    static final String NESTED = """
            From: alice@example.test
            Subject: nested
            MIME-Version: 1.0
            Content-Type: multipart/mixed; boundary=outer

            --outer
            Content-Type: multipart/alternative; boundary="inner"

            --inner
            Content-Type: text/plain; charset=utf-8

            plain text
            --inner
            Content-Type: text/html; charset=utf-8

            <p>html</p>
            --inner--
            --outer
            Content-Type: text/csv; name=data.csv
            Content-Disposition: attachment; filename=data.csv

            a,b
            1,2
            --outer--
            """;

    static final String RFC822 = """
            From: alice@example.test
            Subject: forward
            MIME-Version: 1.0
            Content-Type: multipart/mixed; boundary="fw"

            --fw
            Content-Type: text/plain

            Forwarded below.
            --fw
            Content-Type: message/rfc822
            Content-Disposition: attachment

            Date: Sat, 28 Nov 2026 10:00:00 +0000
            From: Carol <carol@example.test>
            To: alice@example.test, "Dan D." <dan@example.test>
            Subject: original
            Message-ID: <orig@example.test>
            MIME-Version: 1.0
            Content-Type: multipart/alternative; boundary="alt"

            --alt
            Content-Type: text/plain

            original text
            --alt
            Content-Type: text/html

            <b>original</b>
            --alt--

            --fw
            Content-Type: message/rfc822

            From: eve@example.test
            Subject: plain inner

            just a body
            of two lines
            --fw--
            """;

    static final String SIGNED = """
            From: alice@example.test
            Subject: signed
            MIME-Version: 1.0
            Content-Type: multipart/signed; micalg=pgp-sha256;
             protocol="application/pgp-signature"; boundary="sig"

            This is an OpenPGP/MIME signed message (RFC 4880 and 3156)
            --sig
            Content-Type: text/plain; charset=utf-8
            Content-Transfer-Encoding: 7bit

            signed text
            --sig
            Content-Type: application/pgp-signature; name="signature.asc"
            Content-Description: OpenPGP digital signature
            Content-Disposition: attachment; filename="signature.asc"

            -----BEGIN PGP SIGNATURE-----

            iQEzBAEBCAAdFiEE
            =abcd
            -----END PGP SIGNATURE-----

            --sig--
            """;

    static final String NO_CONTENT_TYPE = """
            From: alice@example.test
            Subject: no mime at all

            Just text,
            no MIME headers.
            """;

    static final String RFC2231 = """
            From: alice@example.test
            Subject: rfc2231
            MIME-Version: 1.0
            Content-Type: multipart/mixed; boundary="r"

            --r
            Content-Type: application/octet-stream;
             name*0="long file ";
             name*1="name.bin"
            Content-Disposition: attachment;
             filename*0*=utf-8''%E2%82%AC%20rates;
             filename*1*=%20and%20more.txt
            Content-Transfer-Encoding: base64

            AAAA
            --r
            Content-Type: text/plain; charset*=utf-8''%E2%82%AC; title*=us-ascii'en'This%20is
            Content-Disposition: inline; filename="=?utf-8?q?na=C3=AFve?=.txt"

            x
            --r--
            """;

    static final String PREAMBLE_EPILOGUE = """
            From: alice@example.test
            Subject: preamble
            MIME-Version: 1.0
            Content-Type: multipart/mixed; boundary="pe"

            This is the preamble.
            It has two lines.
            --pe
            Content-Type: text/plain

            first
            --pe
            Content-Type: text/plain

            second

            --pe--
            This is the epilogue.
            It also has lines.
            """;

    static final String UNCLOSED = """
            From: alice@example.test
            Subject: unclosed
            MIME-Version: 1.0
            Content-Type: multipart/mixed; boundary="u"

            --u
            Content-Type: text/plain

            one
            --u
            Content-Type: text/plain

            two never closed
            still two
            """;

    static final String ODD_FIELDS = """
            From: alice@example.test
            Subject: odd
            MIME-Version: 1.0
            Content-Type: Multipart/Mixed; Boundary="odd" (a comment)

            --odd
            Content-Type: TEXT/HTML; CHARSET="UTF-8"
            Content-Transfer-Encoding: QUOTED-PRINTABLE
            Content-Language: en-GB, de
            Content-Location: http://example.test/a
            Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==
            Content-Description: a folded
             description

            <p>x</p>
            --odd
            Content-Type: text/plain; charset="us-ascii"; name="quote\\"d \\\\ name"
            Content-ID: <id-2@example.test>

            --odd
            Content-Type: application/x-empty
            Content-Disposition: ATTACHMENT

            --odd
            content-type: text/plain
            Content-Type: application/octet-stream

            the first Content-Type counts
            --odd--
            """;

    static final String NO_BOUNDARY = """
            From: alice@example.test
            Subject: no boundary
            MIME-Version: 1.0
            Content-Type: multipart/mixed

            --x
            Content-Type: text/plain

            lost
            --x--
            """;

    static final String DIGEST = """
            From: alice@example.test
            Subject: digest
            MIME-Version: 1.0
            Content-Type: multipart/digest; boundary="d"

            --d

            From: one@example.test
            Subject: first

            first digest message
            --d
            Content-Type: text/plain

            not a message
            --d--
            """;

    static final String EMPTY_BODIES = """
            From: alice@example.test
            Subject: empty bodies
            MIME-Version: 1.0
            Content-Type: multipart/mixed; boundary="e"

            --e
            Content-Type: text/plain

            --e

            --e
            Content-Type: multipart/alternative; boundary="e2"

            --e2--
            --e--""";

    static final String TOP_RFC822 = """
            From: alice@example.test
            Subject: top-level message/rfc822
            MIME-Version: 1.0
            Content-Type: message/rfc822

            From: inner@example.test
            Subject: inner
            Content-Type: multipart/mixed; boundary="t"

            --t
            Content-Type: text/plain

            inner one
            --t
            Content-Type: text/plain

            inner two
            --t--
            """;

    static final String NESTED_EPILOGUE = """
            From: alice@example.test
            Subject: nested epilogue
            MIME-Version: 1.0
            Content-Type: multipart/mixed; boundary=o

            --o
            Content-Type: multipart/alternative; boundary=i

            --i
            Content-Type: text/plain

            a
            --i--
            inner epilogue
            --o
            Content-Type: multipart/alternative; boundary=j

            --j
            Content-Type: text/plain

            b
            --j--  trailing text on the close line

            --o
            Content-Type: text/plain

            c
            --o--
            """;

    static final String REOPENED = """
            From: alice@example.test
            Subject: reopened
            MIME-Version: 1.0
            Content-Type: multipart/mixed; boundary="r"

            --r
            Content-Type: text/plain

            one
            --r--
            --r
            Content-Type: text/plain

            after the close delimiter
            --r--
            """;

    static final String CLOSED_AT_ONCE = """
            From: alice@example.test
            Subject: closed at once
            MIME-Version: 1.0
            Content-Type: multipart/mixed; boundary="c"

            --c--
            --c
            Content-Type: text/plain

            text
            """;

    static final String ENVELOPES = """
            From: alice@example.test
            Subject: envelopes
            MIME-Version: 1.0
            Content-Type: multipart/mixed; boundary="env"

            --env
            Content-Type: message/rfc822

            Date: Sun, 29 Nov 2026 08:00:00 +0100 (CET)
            From: "Grüße, Anna" <anna@example.test>
            Sender: list@example.test
            Reply-To: <reply@example.test> (the list)
            To: undisclosed-recipients:;
            Cc: Team: b@example.test, C <c@example.test>;, d@example.test
            Bcc: =?utf-8?q?Ren=C3=A9?= <rene@example.test>
            Subject: =?utf-8?q?caf=C3=A9?= and a
             folded subject é
            In-Reply-To: <prev@example.test>
            Message-ID: <env@example.test>

            body
            --env--
            """;

    static final String PLAIN_NO_NEWLINE_HEADER = "From: alice@example.test\r\nSubject: header only";

    /** Awkward field values, one part each, so one difference does not hide another. */
    static final String[] EDGE_PARTS = {
        "Content-Type: text/plain; name=\"caf\u00e9 \u20ac.txt\"\nContent-Description: 8-bit d\u00e9scription\n\nx",
        "Content-Type: text/plain; name=\"a\\\\b\\\"c\\\"d\\\"e\\\"f\"\n\nfive escapes",
        "Content-Type: text\n\nno subtype",
        "Content-Type: ;charset=utf-8\n\nno type",
        "Content-Type: application/x-y; name*0=\"one\"; name*2=\"three\"\n\nmissing index",
        "Content-Type: application/x-y; title*0=\"plain %part\"; title*1*=%41%42; title*2=\"end\"\n\nmixed sections",
        "Content-Type: Application/X-Y; NAME=Foo; Charset=UTF-8\n\nparameter case",
        "Content-Disposition: attachment\nContent-Disposition: inline; filename=second\n\ntwo dispositions",
        "Content-Disposition: ; filename=x\n\nno disposition type",
        "Content-ID:   <spaced@example.test>   \nContent-Location: \n\ntrailing spaces, empty location",
        "Content-Language: en, , de\n\nodd languages",
        "Content-Transfer-Encoding: base64 (a comment)\n\nencoding with a comment",
        "Content-Transfer-Encoding: x y\n\nbroken encoding",
        "Content-Type: text/plain (comment); charset=utf-8 (another)\n\ncomments",
        "Content-Type: text/plain; name=\"unterminated\n\nunterminated quote",
        "Content-Type: text/plain; foo; bar=; baz=1\n\nparameters without values",
        "Content-Type: text/plain; name==?utf-8?b?w6k=?=; x=1\n\nunquoted encoded word",
        "Content-Description: =?utf-8?q?caf=C3=A9?= and \"quotes\" and \\\n\nencoded description",
        "Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\nRnJvbTogYUBiLmMNCg0KYm9keQ0K",
        "Content-Type: text/plain\nno colon on this line\nContent-ID: <after@example.test>\n\nline without colon",
        "Content-MD5:\n Q2hlY2s=\nContent-Description: a\n\tfolded with a tab\n\nfolded values",
        "Content-Type: multipart/mixed; boundary=\"\"\n\n--\n\nempty boundary",
        "Content-Type: message/rfc822\n\nFrom: x@example.test\n",
        "Content-Type: message/rfc822\n\nFrom: y@example.test\nSubject: cut",
        "Content-Type: multipart/mixed; boundary=\"in\"\n\n--in\nContent-Type: message/rfc822\n\nSubject: cut\n--in--\n",
    };

    /** More awkward fields: empty and blank values, name case and spacing, 8-bit in quoted values, many sections. */
    static final String[] EDGE_PARTS_2 = {
        "Content-ID:\nContent-Description:    \nContent-Location:\t\n\nempty and blank values",
        "CONTENT-TYPE : Text/HTML ; Charset = \"utf-8\"\nCONTENT-DISPOSITION:Inline\n\nname case and spacing",
        "Content-Type: MESSAGE/RFC822\n\nSubject: upper case type\n\nbody",
        "Content-Type: message/rfc822\n\n\nno header at all",
        "Content-Type: multipart/MIXED; boundary=\"x\"; Boundary=\"y\"\n\n--x\n\nfirst boundary parameter wins\n--x--\n",
        "Content-Type: text/plain; name=\"gr\u00fc\u00dfe.txt\"; charset=\"iso-8859-1\"\n\n8-bit quoted value",
        "Content-Type: application/x-z; p*0=a; p*1=b; p*2=c; p*3=d; p*4=e; p*5=f; p*6=g; p*7=h; p*8=i; p*9=j;"
                + " p*10=k; p*11=l\n\ntwelve sections",
        "Content-Type: application/x-z; q*1=second; q*0=first; r*=us-ascii''single%20extended\n\nout of order",
        "Content-Language: DE-at\nContent-Language: fr\n\ntwo language fields",
        "Content-Language: ,en\n\nleading comma",
        "Content-Location: http://example.test/a\n  /very/long/path\n\nfolded location",
        "Content-Type: text/plain;\n\tcharset=utf-8;\n\tformat=flowed;\n\tdelsp=yes\n\ntab-folded parameters",
        "Content-Type: text/plain; charset=\"a\nb\"\n\nline break in a quoted value (invalid)",
        "Content-Type: image/jpeg; name=\"a (not a comment).jpg\"\nContent-Disposition: inline (comment);"
                + " filename=x.jpg (comment)\n\ncomments and parentheses",
    };

    static String edgeMessage() {
        return edgeMessage(EDGE_PARTS);
    }

    static String edgeMessage(String[] parts) {
        StringBuilder b = new StringBuilder("From: alice@example.test\nSubject: edges\nMIME-Version: 1.0\n"
                + "Content-Type: multipart/mixed; boundary=edge\n\n");
        for (String part : parts) {
            b.append("--edge\n").append(part).append('\n');
        }
        return b.append("--edge--\n").toString();
    }

    static final String BOUNDARY_TRICKS = """
            From: alice@example.test
            Subject: boundary tricks
            MIME-Version: 1.0
            Content-Type: multipart/mixed; boundary="same"

            --same   	
            Content-Type: multipart/alternative; boundary="same"

            --same
            Content-Type: text/plain

            inner uses the outer boundary
            --same--
            --same
            Content-Type: multipart/mixed; boundary="0123456789012345678901234567890123456789012345678901234567890123456789-tail"

            --0123456789012345678901234567890123456789012345678901234567890123456789-other
            Content-Type: text/plain

            long boundary: the first 70 octets decide
            --0123456789012345678901234567890123456789012345678901234567890123456789--
            --same
            Content-Type: text/plain
            --same
            Content-Type: text/plain

            a header cut by a delimiter above
            --samex
            still in the part above: the boundary matches as a prefix
            --same--
            """;

    static String deep(int depth) {
        StringBuilder b = new StringBuilder("From: alice@example.test\nSubject: deep\nMIME-Version: 1.0\n");
        for (int k = 0; k < depth; k++) {
            b.append("Content-Type: multipart/mixed; boundary=\"d").append(k).append("\"\n\n--d").append(k).append('\n');
        }
        b.append("Content-Type: text/plain\n\ndeepest\n");
        for (int k = depth - 1; k >= 0; k--) {
            b.append("--d").append(k).append("--\n");
        }
        return b.toString();
    }

    /** Every small sample by name. */
    static Map<String, byte[]> all() {
        Map<String, byte[]> m = new LinkedHashMap<>();
        m.put("single", crlf(SINGLE));
        m.put("mixed", crlf(MIXED));
        m.put("nested", crlf(NESTED));
        m.put("rfc822", crlf(RFC822));
        m.put("signed", crlf(SIGNED));
        m.put("noContentType", crlf(NO_CONTENT_TYPE));
        m.put("rfc2231", crlf(RFC2231));
        m.put("preambleEpilogue", crlf(PREAMBLE_EPILOGUE));
        m.put("unclosed", crlf(UNCLOSED));
        m.put("oddFields", crlf(ODD_FIELDS));
        m.put("noBoundary", crlf(NO_BOUNDARY));
        m.put("digest", crlf(DIGEST));
        m.put("emptyBodies", crlf(EMPTY_BODIES));
        m.put("topRfc822", crlf(TOP_RFC822));
        m.put("nestedEpilogue", crlf(NESTED_EPILOGUE));
        m.put("edges", crlf(edgeMessage()));
        m.put("edges2", crlf(edgeMessage(EDGE_PARTS_2)));
        m.put("boundaryTricks", crlf(BOUNDARY_TRICKS));
        m.put("deep", crlf(deep(20)));
        m.put("reopened", crlf(REOPENED));
        m.put("closedAtOnce", crlf(CLOSED_AT_ONCE));
        m.put("envelopes", crlf(ENVELOPES));
        m.put("headerOnly", crlf(PLAIN_NO_NEWLINE_HEADER));
        return m;
    }

    /** A multipart/mixed with a text part and a base64 attachment of about {@code attachmentBytes} octets. */
    static byte[] large(int attachmentBytes) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(attachmentBytes * 4 / 3 + 4096);
        out.writeBytes(crlf("""
                From: alice@example.test
                Subject: large
                MIME-Version: 1.0
                Content-Type: multipart/mixed; boundary="big"

                --big
                Content-Type: text/plain

                A large attachment follows.
                --big
                Content-Type: application/octet-stream; name="big.bin"
                Content-Transfer-Encoding: base64
                Content-Disposition: attachment; filename="big.bin"

                """));
        byte[] data = new byte[attachmentBytes];
        new Random(7).nextBytes(data);
        out.writeBytes(Base64.getMimeEncoder().encode(data));
        out.writeBytes(crlf("\n--big--\n"));
        return out.toByteArray();
    }
}
