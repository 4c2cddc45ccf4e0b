package org.mailproxy.core.mime;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;

/** Turns every bare LF into CRLF (Bouncy Castle's armor writes the platform line end; mail needs CRLF). */
public final class CrlfOutputStream extends FilterOutputStream {
    private int last = -1;

    public CrlfOutputStream(OutputStream out) {
        super(out);
    }

    @Override
    public void write(int b) throws IOException {
        if (b == '\n' && last != '\r') {
            out.write('\r');
        }
        out.write(b);
        last = b;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        int start = off;
        for (int i = off; i < off + len; i++) {
            if (b[i] == '\n' && (i > off ? b[i - 1] : (byte) last) != '\r') {
                out.write(b, start, i - start);
                out.write('\r');
                start = i;
            }
        }
        out.write(b, start, off + len - start);
        if (len > 0) {
            last = b[off + len - 1];
        }
    }

    @Override
    public void close() throws IOException {
        flush();
    }
}
