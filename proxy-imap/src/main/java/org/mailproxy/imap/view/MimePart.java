package org.mailproxy.imap.view;

import org.mailproxy.core.mime.HeaderField;

import java.util.ArrayList;
import java.util.List;

/**
 * One node of a {@link MessageStructure}: where its header and body lie in the message, how many lines its body
 * has, its MIME fields and its children (the parts of a multipart, or the one encapsulated message of a
 * message/rfc822 part). Mutable only while the parser builds it.
 */
final class MimePart {
    static final int MULTIPART = 1;
    static final int RFC822 = 2;
    static final int TEXT = 4;

    long headerOffset;
    long headerLength;
    long bodyOffset;
    long bodyLength;
    long lines;
    int flags;
    MimeFields fields = new MimeFields();
    /** The ENVELOPE fields of an encapsulated message (the child of a message/rfc822 part); null elsewhere. */
    List<HeaderField> envelope;
    final List<MimePart> children = new ArrayList<>();

    boolean is(int flag) {
        return (flags & flag) != 0;
    }
}
