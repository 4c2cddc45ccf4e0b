package org.mailproxy.app;

import org.mailproxy.config.ConfigLoader;
import org.mailproxy.config.MailproxyConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code mailproxy run}: starts the daemon and runs until SIGTERM or SIGINT. The JVM runs shutdown hooks on both
 * signals; ours stops the daemon gracefully (see {@link Daemon#stop()}) before the JVM exits.
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
        Daemon daemon = Daemon.start(cfg, env.variables());
        Runtime.getRuntime().addShutdownHook(new Thread(daemon::stop, "mailproxy-shutdown"));
        daemon.awaitStopped();
        return Main.OK;
    }
}
