package org.mailproxy.app;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code mailproxy demo} as a user starts it: it prints the settings, answers on the printed ports, stops on SIGTERM. */
class DemoCommandTest {

    @TempDir
    Path tmp;

    @Test
    void printsTheSettingsAnswersOnThePrintedPortsAndStopsOnSigterm() throws Exception {
        try (MailproxyProcess p = new MailproxyProcess("demo", "--dir", tmp.resolve("demo").toString(),
                "--imap-port", "0", "--smtp-port", "0", "--http-port", "-1")) {
            p.awaitLine(p.out, l -> l.contains("Ctrl-C"));
            String settings = String.join("\n", p.out);
            assertThat(settings).contains("alice@demo.test").contains("bob@demo.test").contains("STARTTLS");
            Matcher imap = Pattern.compile("Incoming  IMAP  server 127\\.0\\.0\\.1  port (\\d+)").matcher(settings);
            Matcher smtp = Pattern.compile("Outgoing  SMTP  server 127\\.0\\.0\\.1  port (\\d+)").matcher(settings);
            assertThat(imap.find()).isTrue();
            assertThat(smtp.find()).isTrue();
            assertThat(firstLine(Integer.parseInt(imap.group(1)), "a1 LOGOUT\r\n")).startsWith("* OK");
            assertThat(firstLine(Integer.parseInt(smtp.group(1)), "QUIT\r\n")).startsWith("220");

            assertThat(p.terminate()).isEqualTo(143);
            assertThat(p.err).anyMatch(l -> l.contains("mailproxy stopped"));
        }
    }

    private static String firstLine(int port, String goodbye) throws Exception {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
            String line = in.readLine();
            OutputStream out = s.getOutputStream();
            out.write(goodbye.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            return line;
        }
    }
}
