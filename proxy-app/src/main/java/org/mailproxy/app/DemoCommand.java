package org.mailproxy.app;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code mailproxy demo}: runs an embedded provider and the proxy in front of it, prints what to type into
 * Thunderbird, and runs until SIGTERM or Ctrl-C. The usual ports (IMAP 1143, SMTP 1025, metrics 9464) are used when
 * free, other free ports otherwise; a port given as an option must be free.
 */
@Command(name = "demo", description = "Run a self-contained demo: an embedded mail server with two users, and the proxy in front of it.")
final class DemoCommand implements Callable<Integer> {

    @ParentCommand
    MailproxyCommand root;

    @Option(names = "--imap-port", paramLabel = "PORT", description = "Local IMAP port (default 1143, or any free port if taken).")
    Integer imapPort;

    @Option(names = "--smtp-port", paramLabel = "PORT", description = "Local SMTP port (default 1025, or any free port if taken).")
    Integer smtpPort;

    @Option(names = {"--http-port", "--metrics-port"}, paramLabel = "PORT",
            description = "HTTP port for /metrics, /health and autoconfiguration (default 9464, or any free port if taken; -1 turns it off).")
    Integer httpPort;

    @Option(names = "--dir", paramLabel = "DIR", description = "Where the demo keeps its files (default ~/.local/share/mailproxy-demo).")
    Path dir;

    @Override
    public Integer call() throws IOException {
        Main.Environment env = root.environment;
        Path directory = dir != null ? dir : Path.of(env.userHome(), ".local", "share", "mailproxy-demo");
        Demo demo = Demo.start(new Demo.Options(directory,
                imapPort != null ? imapPort : freeOrAny(1143),
                smtpPort != null ? smtpPort : freeOrAny(1025),
                httpPort != null ? httpPort : freeOrAny(9464)));
        Runtime.getRuntime().addShutdownHook(new Thread(demo::close, "mailproxy-demo-shutdown"));
        env.out().print(demo.thunderbirdSettings());
        env.out().flush();
        demo.awaitStopped();
        return Main.OK;
    }

    /** {@code port} when nothing listens there on loopback now, else 0 (the system picks). */
    static int freeOrAny(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            return port;
        } catch (IOException e) {
            return 0;
        }
    }
}
