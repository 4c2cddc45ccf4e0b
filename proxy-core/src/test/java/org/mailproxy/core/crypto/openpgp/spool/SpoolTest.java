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
    void readsInAnySplitAndTransferToGiveTheSameBytesFromAnyOffset() throws Exception {
        byte[] data = new byte[600_003];
        new Random(5).nextBytes(data);
        try (Spool s = new Spool(1000, 1 << 20, dir)) {
            try (OutputStream o = s.output()) {
                o.write(data, 0, 999);
                o.flush();
                o.write(data[999]);
                o.write(data, 1000, 70_000);
                o.flush();
                o.write(data, 71_000, data.length - 71_000);
            }
            assertThat(s.onDisk()).isTrue();
            assertThat(Files.size(Files.list(dir).toList().get(0))).isEqualTo(data.length);
            Random split = new Random(6);
            for (int offset : new int[]{0, 7, 65_535, 65_536, 262_143, 262_144, 524_289, 600_002, 600_003}) {
                try (InputStream in = s.openStream(offset)) {
                    java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
                    byte[] buf = new byte[300_000];
                    while (true) {
                        int choice = split.nextInt(3);
                        if (choice == 0) {
                            int b = in.read();
                            if (b < 0) {
                                break;
                            }
                            got.write(b);
                        } else {
                            int n = in.read(buf, 3, choice == 1 ? 1 + split.nextInt(100) : buf.length - 3);
                            if (n < 0) {
                                break;
                            }
                            got.write(buf, 3, n);
                        }
                    }
                    assertThat(got.toByteArray()).isEqualTo(Arrays.copyOfRange(data, offset, data.length));
                }
                try (InputStream in = s.openStream(offset)) {
                    in.read(new byte[5]);
                    java.io.ByteArrayOutputStream rest = new java.io.ByteArrayOutputStream();
                    long n = in.transferTo(rest);
                    int from = Math.min(data.length, offset + 5);
                    assertThat(n).isEqualTo(data.length - from);
                    assertThat(rest.toByteArray()).isEqualTo(Arrays.copyOfRange(data, from, data.length));
                }
            }
        }
    }

    @Test
    void twoSpoolsOfTheSameContentDifferOnDisk() throws Exception {
        byte[] data = new byte[10_000];
        List<byte[]> files = new java.util.ArrayList<>();
        for (int i = 0; i < 2; i++) {
            Path sub = Files.createDirectory(dir.resolve("s" + i));
            try (Spool s = new Spool(100, 1 << 20, sub)) {
                try (OutputStream o = s.output()) {
                    o.write(data);
                }
                files.add(Files.readAllBytes(Files.list(sub).toList().get(0)));
            }
        }
        assertThat(files.get(0)).hasSize(data.length).isNotEqualTo(data).isNotEqualTo(files.get(1));
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
