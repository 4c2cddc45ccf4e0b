package org.mailproxy.app;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

/** {@code mailproxy}: the command line's root; without a subcommand it prints the usage. */
@Command(name = "mailproxy", mixinStandardHelpOptions = true, versionProvider = MailproxyCommand.VersionProvider.class,
        description = "A local IMAP/SMTP proxy between your mail client and your provider.",
        subcommands = {InitCommand.class, RunCommand.class, CheckCommand.class, VersionCommand.class, DemoCommand.class,
                KeysCommand.class, AccountsCommand.class,
                CommandLine.HelpCommand.class})
final class MailproxyCommand implements Callable<Integer> {

    final Main.Environment environment;

    @Spec
    CommandSpec spec;

    MailproxyCommand(Main.Environment environment) {
        this.environment = environment;
    }

    @Override
    public Integer call() {
        spec.commandLine().usage(environment.err());
        return Main.USAGE;
    }

    static final class VersionProvider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[]{"mailproxy " + Version.current()};
        }
    }
}
