package org.mailproxy.config;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ListenAddressTest {
    @Test
    void parsesV4V6AndNames() {
        assertThat(ListenAddress.parse("127.0.0.1:1143")).isEqualTo(new ListenAddress("127.0.0.1", 1143));
        assertThat(ListenAddress.parse("[::1]:25")).isEqualTo(new ListenAddress("::1", 25));
        assertThat(ListenAddress.parse("[::1]:25").toString()).isEqualTo("[::1]:25");
        assertThat(ListenAddress.parse("localhost:0").isLoopback()).isTrue();
        assertThat(ListenAddress.parse("0.0.0.0:1143").isLoopback()).isFalse();
    }

    @Test
    void refusesMalformed() {
        assertThatThrownBy(() -> ListenAddress.parse("1143")).hasMessageContaining("host:port");
        assertThatThrownBy(() -> ListenAddress.parse("::1:25")).hasMessageContaining("brackets");
        assertThatThrownBy(() -> ListenAddress.parse("h:x")).hasMessageContaining("not a number");
    }
}
