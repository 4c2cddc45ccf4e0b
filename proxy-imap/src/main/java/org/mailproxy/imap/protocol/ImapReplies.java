package org.mailproxy.imap.protocol;

import java.nio.charset.StandardCharsets;

/** The one place where responses the proxy makes itself, and {@link ImapError}s, become wire bytes. */
public final class ImapReplies {

    private ImapReplies() {
    }

    /** {@code tag SP status [SP "[" code "]"] SP text CRLF}; a null tag gives an untagged {@code *} response. */
    public static byte[] render(String tag, ImapError error) {
        return status(tag, error.status().name(), error.code(), error.text());
    }

    public static byte[] ok(String tag, String code, String text) {
        return status(tag, "OK", code, text);
    }

    public static byte[] status(String tag, String status, String code, String text) {
        StringBuilder sb = new StringBuilder(64);
        sb.append(tag == null ? "*" : tag).append(' ').append(status).append(' ');
        if (code != null) {
            sb.append('[').append(code).append("] ");
        }
        sb.append(text).append("\r\n");
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** An untagged data response such as {@code * CAPABILITY ...}. */
    public static byte[] untagged(String text) {
        return ("* " + text + "\r\n").getBytes(StandardCharsets.UTF_8);
    }

    /** A continuation request (RFC 9051 7.5). */
    public static byte[] continuation(String text) {
        return ("+ " + text + "\r\n").getBytes(StandardCharsets.UTF_8);
    }
}
