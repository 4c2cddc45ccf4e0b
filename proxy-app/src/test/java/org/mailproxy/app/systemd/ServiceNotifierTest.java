package org.mailproxy.app.systemd;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** sd_notify datagrams as a service manager receives them, on real Unix datagram sockets. */
class ServiceNotifierTest {

    @TempDir
    Path tmp;

    @Test
    void readyAndStoppingArriveAtASocketFile() throws Exception {
        try (NotifySocket manager = NotifySocket.atPath(tmp.resolve("notify"))) {
            ServiceNotifier notifier = ServiceNotifier.fromEnvironment(Map.of("NOTIFY_SOCKET", manager.notifySocket()));
            notifier.ready("imap 127.0.0.1:1143, smtp 127.0.0.1:1025");
            notifier.stopping("draining 2 session(s)");
            assertThat(manager.await(2)).containsExactly(
                    "READY=1\nSTATUS=imap 127.0.0.1:1143, smtp 127.0.0.1:1025\n",
                    "STOPPING=1\nSTATUS=draining 2 session(s)\n");
        }
    }

    @Test
    void anAbstractNameStartsWithAnAt() throws Exception {
        String name = "mailproxy-test-" + UUID.randomUUID();
        try (NotifySocket manager = NotifySocket.abstractName(name)) {
            assertThat(manager.notifySocket()).isEqualTo("@" + name);
            ServiceNotifier.fromEnvironment(Map.of("NOTIFY_SOCKET", "@" + name)).ready("up");
            assertThat(manager.await(1)).containsExactly("READY=1\nSTATUS=up\n");
        }
    }

    @Test
    void aNewlineInTheStatusCannotAddAnAssignment() throws Exception {
        try (NotifySocket manager = NotifySocket.atPath(tmp.resolve("notify"))) {
            ServiceNotifier.fromEnvironment(Map.of("NOTIFY_SOCKET", manager.notifySocket()))
                    .ready("up\nMAINPID=1\r\nERRNO=5");
            assertThat(manager.await(1)).containsExactly("READY=1\nSTATUS=up MAINPID=1 ERRNO=5\n");
        }
    }

    @Test
    void withoutNotifySocketNothingIsSent() {
        assertThat(ServiceNotifier.fromEnvironment(Map.of())).isSameAs(ServiceNotifier.NONE);
        assertThat(ServiceNotifier.fromEnvironment(Map.of("NOTIFY_SOCKET", ""))).isSameAs(ServiceNotifier.NONE);
    }

    @Test
    void unsupportedAddressesAreIgnored() {
        assertThat(ServiceNotifier.fromEnvironment(Map.of("NOTIFY_SOCKET", "vsock:2:1234"))).isSameAs(ServiceNotifier.NONE);
        assertThat(ServiceNotifier.fromEnvironment(Map.of("NOTIFY_SOCKET", "relative/notify"))).isSameAs(ServiceNotifier.NONE);
        assertThat(ServiceNotifier.fromEnvironment(Map.of("NOTIFY_SOCKET", "@"))).isSameAs(ServiceNotifier.NONE);
        assertThat(ServiceNotifier.fromEnvironment(Map.of("NOTIFY_SOCKET", "/" + "x".repeat(120))))
                .isSameAs(ServiceNotifier.NONE);
    }

    @Test
    void abstractAddressBytesStartWithNul() {
        assertThat(ServiceNotifier.address("@sd")).containsExactly(0, 's', 'd');
        assertThat(ServiceNotifier.address("/run/n")).containsExactly('/', 'r', 'u', 'n', '/', 'n');
        assertThatThrownBy(() -> ServiceNotifier.address("n")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aVanishedManagerIsLoggedNotThrown() {
        ServiceNotifier notifier = ServiceNotifier.fromEnvironment(Map.of("NOTIFY_SOCKET", tmp.resolve("gone").toString()));
        notifier.ready("up");
        notifier.stopping("down");
    }
}
