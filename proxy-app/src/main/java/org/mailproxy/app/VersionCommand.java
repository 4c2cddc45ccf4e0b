package org.mailproxy.app;

import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

import java.util.concurrent.Callable;

/** {@code mailproxy version}: the project version, and the Java runtime it runs on. */
@Command(name = "version", description = "Print the version.")
final class VersionCommand implements Callable<Integer> {

    @ParentCommand
    MailproxyCommand root;

    @Override
    public Integer call() {
        root.environment.out().println("mailproxy " + Version.current() + " (Java " + Runtime.version() + ")");
        return Main.OK;
    }
}
