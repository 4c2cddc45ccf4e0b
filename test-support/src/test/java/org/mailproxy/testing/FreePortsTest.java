package org.mailproxy.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.List;
import org.junit.jupiter.api.Test;

class FreePortsTest {

    @Test
    void picksDistinctPortsThatCanBeBound() throws IOException {
        List<Integer> ports = FreePorts.pick(6);
        assertThat(ports).doesNotHaveDuplicates().allSatisfy(p -> assertThat(p).isBetween(1024, 65535));
        try (ServerSocket socket = new ServerSocket(ports.get(0), 1, InetAddress.getLoopbackAddress())) {
            assertThat(socket.getLocalPort()).isEqualTo(ports.get(0));
        }
        assertThat(FreePorts.pick()).isPositive();
    }
}
