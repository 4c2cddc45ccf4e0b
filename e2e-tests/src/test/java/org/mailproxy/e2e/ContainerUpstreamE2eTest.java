package org.mailproxy.e2e;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.e2e.RunningProxy.Local;
import org.mailproxy.e2e.RunningProxy.Upstream;
import org.mailproxy.testing.ContainerMailStack;
import org.mailproxy.testing.RequiresContainerMailStack;

import java.nio.file.Path;

/**
 * The same end-to-end round trips as {@link AngusMailE2eTest}, with the provider (Dovecot and Postfix from Debian's
 * packages) in a container started through Testcontainers instead of on loopback: the proxy reaches it through the
 * engine's published ports and verifies its certificate against the container's test CA. Skipped, with the reason,
 * where no container engine is reachable.
 */
@RequiresContainerMailStack
class ContainerUpstreamE2eTest {

    @TempDir
    Path dir;

    @Test
    void angusSendsAndReadsBackThroughTheProxyWithImplicitTlsUpstream(ContainerMailStack stack) throws Exception {
        AngusMailE2eTest.sendAndReadBack(stack, dir, Local.STARTTLS, Upstream.IMPLICIT);
    }

    @Test
    void angusSendsAndReadsBackThroughTheProxyWithMandatoryStarttlsUpstream(ContainerMailStack stack) throws Exception {
        AngusMailE2eTest.sendAndReadBack(stack, dir, Local.IMPLICIT, Upstream.STARTTLS);
    }
}
