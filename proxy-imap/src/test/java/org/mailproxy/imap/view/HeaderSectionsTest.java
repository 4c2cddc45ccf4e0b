package org.mailproxy.imap.view;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Header sections byte for byte, as Dovecot answers BODY[HEADER] and BODY[HEADER.FIELDS (...)]. */
class HeaderSectionsTest {
    private static final String HEADER = "From: Alice <alice@example.org>\r\n"
            + "Subject: a long\r\n subject, folded\r\n\tover lines\r\n"
            + "X-Mailproxy-Status: decrypted\r\n"
            + "to: bob@example.org\r\n"
            + "Date: Sun, 29 Nov 2026 08:00:00 +0000\r\n"
            + "\r\n";
    private static final String MESSAGE = HEADER + "Body line 1\r\nFrom: not a header\r\n";

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static String text(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    @Test
    void theHeaderEndsWithItsBlankLine() throws IOException {
        assertThat(text(HeaderSections.header(new ByteArrayInputStream(bytes(MESSAGE)), 4096))).isEqualTo(HEADER);
        // a message without a body and without a blank line: all of it
        assertThat(text(HeaderSections.header(new ByteArrayInputStream(bytes("Subject: x\r\n")), 4096)))
                .isEqualTo("Subject: x\r\n");
        // no header at all: just the blank line
        assertThat(text(HeaderSections.header(new ByteArrayInputStream(bytes("\r\nbody\r\n")), 4096)))
                .isEqualTo("\r\n");
        assertThatThrownBy(() -> HeaderSections.header(new ByteArrayInputStream(bytes(MESSAGE)), 40))
                .isInstanceOf(IOException.class);
    }

    @Test
    void fieldSubsetsKeepWholeFoldedFieldsAndTheBlankLine() {
        byte[] header = bytes(HEADER);
        assertThat(text(HeaderSections.fields(header, Set.of("SUBJECT", "To"), false))).isEqualTo(
                "Subject: a long\r\n subject, folded\r\n\tover lines\r\nto: bob@example.org\r\n\r\n");
        assertThat(text(HeaderSections.fields(header, Set.of("subject", "x-mailproxy-status", "date"), true)))
                .isEqualTo("From: Alice <alice@example.org>\r\nto: bob@example.org\r\n\r\n");
        assertThat(text(HeaderSections.fields(header, Set.of("Cc"), false))).isEqualTo("\r\n");
        // a field name that only starts like a wanted one does not match
        assertThat(text(HeaderSections.fields(bytes("Subjects: no\r\nSubject: yes\r\n\r\n"), Set.of("subject"), false)))
                .isEqualTo("Subject: yes\r\n\r\n");
    }
}
