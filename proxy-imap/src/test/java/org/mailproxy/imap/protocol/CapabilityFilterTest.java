package org.mailproxy.imap.protocol;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class CapabilityFilterTest {

    @Test
    void removesWhatTheProxyCannotRelayAndAddsItsOwnLiteralSupport() {
        var upstream = CapabilityFilter.split("IMAP4rev1 IMAP4rev2 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT LITERAL+ "
                + "COMPRESS=DEFLATE BINARY UTF8=ACCEPT STARTTLS LOGINDISABLED AUTH=PLAIN AUTH=XOAUTH2 UIDPLUS MOVE "
                + "CONDSTORE QRESYNC SPECIAL-USE NAMESPACE X-UNKNOWN-EXTENSION");
        assertThat(CapabilityFilter.forClient(upstream)).containsExactly("IMAP4rev1", "LOGIN-REFERRALS", "ID", "ENABLE",
                "IDLE", "UIDPLUS", "MOVE", "CONDSTORE", "QRESYNC", "SPECIAL-USE", "NAMESPACE",
                "X-UNKNOWN-EXTENSION", "LITERAL-");
    }

    @Test
    void rev2OnlyProviderStillAnnouncesRev1() {
        assertThat(CapabilityFilter.forClient(CapabilityFilter.split("IMAP4rev2 IDLE"))).containsExactly("IMAP4rev1", "IDLE", "LITERAL-");
    }

    @Test
    void extensionsTheProviderWouldAnswerFromCiphertextAreNotAdvertised() {
        var upstream = CapabilityFilter.split("IMAP4rev1 SORT SORT=DISPLAY THREAD=REFERENCES THREAD=ORDEREDSUBJECT ESORT "
                + "CONTEXT=SEARCH SEARCH=FUZZY PREVIEW SNIPPET=FUZZY X-GM-EXT-1 NOTIFY MULTIAPPEND CATENATE URLAUTH "
                + "CONVERT ESEARCH WITHIN SEARCHRES IDLE");
        assertThat(CapabilityFilter.forClient(upstream)).containsExactly("IMAP4rev1", "ESEARCH", "WITHIN", "SEARCHRES",
                "IDLE", "LITERAL-");
    }

    @Test
    void caseInsensitive() {
        assertThat(CapabilityFilter.allowed("compress=deflate")).isFalse();
        assertThat(CapabilityFilter.allowed("literal+")).isFalse();
        assertThat(CapabilityFilter.allowed("Idle")).isTrue();
    }

    @Test
    void nonSyncLiteralsUpstream() {
        assertThat(Capabilities.parse("IMAP4rev1 LITERAL+").acceptsNonSyncLiteral(1_000_000)).isTrue();
        assertThat(Capabilities.parse("IMAP4rev1 LITERAL-").acceptsNonSyncLiteral(4096)).isTrue();
        assertThat(Capabilities.parse("IMAP4rev1 LITERAL-").acceptsNonSyncLiteral(4097)).isFalse();
        assertThat(Capabilities.parse("IMAP4rev1").acceptsNonSyncLiteral(1)).isFalse();
    }
}
