package org.mailproxy.imap.view;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The client's FETCH items as the view matches them with the provider's answer (RFC 9051 §6.4.5). */
class FetchRequestTest {

    @Test
    void itemsWithSectionsAndPartialsAreMatchedToTheAnswerNames() throws Exception {
        FetchRequest r = FetchRequest.parse("1:5,9 (UID body.peek[header.fields (From \"To\")] BODY[1.2.MIME] "
                + "BODY.PEEK[]<100.50> RFC822.SIZE flags)", false);
        assertThat(r.uid()).isFalse();
        assertThat(r.sequenceSet()).isEqualTo("1:5,9");
        assertThat(r.items()).extracting(FetchRequest.Item::kind).containsExactly(FetchRequest.Kind.OTHER,
                FetchRequest.Kind.SECTION, FetchRequest.Kind.SECTION, FetchRequest.Kind.SECTION,
                FetchRequest.Kind.SIZE, FetchRequest.Kind.OTHER);
        assertThat(r.answeredBy("BODY[HEADER.FIELDS (FROM TO)]")).get()
                .extracting(FetchRequest.Item::section).isEqualTo("HEADER.FIELDS (FROM TO)");
        FetchRequest.Item partial = r.answeredBy("BODY[]<100>").orElseThrow();
        assertThat(List.of(partial.origin(), partial.count())).containsExactly(100L, 50L);
        assertThat(r.answeredBy("BODY[1.2.MIME]")).isPresent();
        assertThat(r.answeredBy("BODY[2]")).isEmpty();
        assertThat(r.needsContent()).isTrue();
        assertThat(r.wantsUid()).isTrue();
    }

    @Test
    void macrosAndSingleItemsAndModifiers() throws Exception {
        FetchRequest all = FetchRequest.parse("FETCH 1:* ALL (CHANGEDSINCE 12345 VANISHED)", true);
        assertThat(all.uid()).isTrue();
        assertThat(all.items()).extracting(FetchRequest.Item::name)
                .containsExactly("FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE");
        assertThat(all.changedSince()).isEqualTo(" (CHANGEDSINCE 12345)");
        assertThat(FetchRequest.parse("3 FULL", false).items()).extracting(FetchRequest.Item::kind)
                .contains(FetchRequest.Kind.BODY, FetchRequest.Kind.ENVELOPE);
        assertThat(FetchRequest.parse("3 BODYSTRUCTURE", false).items()).extracting(FetchRequest.Item::kind)
                .containsExactly(FetchRequest.Kind.BODYSTRUCTURE);
        assertThat(FetchRequest.parse("3 RFC822", false).items()).extracting(FetchRequest.Item::kind)
                .containsExactly(FetchRequest.Kind.SECTION);
    }

    @Test
    void flagsOnlyFetchesNeedNoView() throws Exception {
        assertThat(FetchRequest.parse("1:* (UID FLAGS MODSEQ)", false).needsContent()).isFalse();
        assertThat(FetchRequest.parse("1 (BINARY.PEEK[1])", false).needsContent()).isFalse();
    }

    @Test
    void whatIsNotAFetchTheViewReadsIsLeftToTheProvider() {
        assertThatThrownBy(() -> FetchRequest.parse("STORE 1 +FLAGS (\\Seen)", true))
                .isInstanceOf(FetchRequest.Unparsed.class);
        assertThatThrownBy(() -> FetchRequest.parse("1 (BODY[HEADER.FIELDS {4}", false))
                .isInstanceOf(FetchRequest.Unparsed.class);
        assertThatThrownBy(() -> FetchRequest.parse("1 (BODY[]<5.0>)", false))
                .isInstanceOf(FetchRequest.Unparsed.class);
        assertThatThrownBy(() -> FetchRequest.parse("1 (BODY.PEEK)", false))
                .isInstanceOf(FetchRequest.Unparsed.class);
        assertThatThrownBy(() -> FetchRequest.parse("1 (FLAGS", false)).isInstanceOf(FetchRequest.Unparsed.class);
    }
}
