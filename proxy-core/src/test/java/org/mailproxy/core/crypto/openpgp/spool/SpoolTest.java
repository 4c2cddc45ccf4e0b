package org.mailproxy.core.crypto.openpgp.spool;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SpoolTest {
    @TempDir
    Path dir;

    @Test
    void smallContentStaysInMemory() throws Exception {
        try (Spool s = new Spool(1024, 4096, dir)) {
            try (OutputStream o = s.output()) {
                o.write("hello".getBytes());
            }
            assertThat(s.onDisk()).isFalse();
            assertThat(s.toByteArray()).isEqualTo("hello".getBytes());
            try (InputStream in = s.openStream(2)) {
                assertThat(in.readAllBytes()).isEqualTo("llo".getBytes());
            }
            assertThat(Files.list(dir)).isEmpty();
        }
    }

    @Test
    void largeContentIsEncryptedOnDiskReadableFromAnyOffsetAndDeletedOnClose() throws Exception {
        byte[] data = new byte[300_000];
        new Random(3).nextBytes(data);
        byte[] marker = "PLAINTEXT-MARKER-PLAINTEXT-MARKER".getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(marker, 0, data, 1000, marker.length);
        Spool s = new Spool(4096, 1 << 20, dir);
        try (OutputStream o = s.output()) {
            Random split = new Random(4);
            int off = 0;
            while (off < data.length) {
                int n = Math.min(data.length - off, 1 + split.nextInt(9000));
                o.write(data, off, n);
                off += n;
            }
        }
        assertThat(s.onDisk()).isTrue();
        assertThat(s.size()).isEqualTo(data.length);
        List<Path> files = Files.list(dir).toList();
        assertThat(files).hasSize(1);
        String onDisk = new String(Files.readAllBytes(files.get(0)), StandardCharsets.ISO_8859_1);
        assertThat(onDisk).doesNotContain("PLAINTEXT-MARKER");
        for (int offset : new int[]{0, 1, 15, 16, 17, 4095, 4096, 65_537, 299_999, 300_000}) {
            try (InputStream in = s.openStream(offset)) {
                assertThat(in.readAllBytes()).isEqualTo(Arrays.copyOfRange(data, offset, data.length));
            }
        }
        s.close();
        assertThat(Files.list(dir)).isEmpty();
    }

    @Test
    void hardCapFails() throws Exception {
        try (Spool s = new Spool(10, 100, dir)) {
            OutputStream o = s.output();
            o.write(new byte[60]);
            assertThatThrownBy(() -> o.write(new byte[41])).isInstanceOf(SpoolOverflowException.class);
        }
        assertThat(Files.list(dir)).isEmpty();
    }
}
