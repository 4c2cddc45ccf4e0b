package org.mailproxy.app;

import org.mailproxy.app.systemd.ServiceNotifier;
import org.mailproxy.config.ConfigLoader;
import org.mailproxy.config.MailproxyConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code mailproxy run}: starts the daemon and runs until SIGTERM or SIGINT. The JVM runs shutdown hooks on both
 * signals; ours stops the daemon gracefully (see {@link Daemon#stop()}) before the JVM exits.
 *
 * <p>Under systemd with {@code Type=notify} ({@code $NOTIFY_SOCKET} set) the daemon reports {@code READY=1} once
 * every listener is bound, so units ordered after it find the ports open, and {@code STOPPING=1} when SIGTERM
 * starts the drain; see {@link ServiceNotifier}.
 */
@Command(name = "run", description = "Run the proxy until stopped (SIGTERM or Ctrl-C).")
final class RunCommand implements Callable<Integer> {

    @ParentCommand
    MailproxyCommand root;

    @Option(names = "--config", paramLabel = "FILE",
            description = "Configuration file (default: $MAILPROXY_CONFIG, else ~/.config/mailproxy/mailproxy.conf).")
    Path config;

    @Override
    public Integer call() {
        Main.Environment env = root.environment;
        Path file = ConfigLocation.resolve(config, env.variables(), env.userHome());
        MailproxyConfig cfg = new ConfigLoader(env.variables()).load(file);
        ServiceNotifier notifier = ServiceNotifier.fromEnvironment(env.variables());
        Daemon daemon = Daemon.start(cfg, env.variables());
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            notifier.stopping("stopping: draining sessions");
            daemon.stop();
        }, "mailproxy-shutdown"));
        notifier.ready(status(daemon));
        daemon.awaitStopped();
        return Main.OK;
    }

    /** What {@code systemctl status} shows while the daemon runs: its listeners. */
    static String status(Daemon daemon) {
        return "listening: imap " + address(daemon.imapAddress()) + ", smtp " + address(daemon.smtpAddress())
                + daemon.httpAddress().map(a -> ", http " + address(a)).orElse("");
    }

    private static String address(InetSocketAddress a) {
        String host = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
    }
}
