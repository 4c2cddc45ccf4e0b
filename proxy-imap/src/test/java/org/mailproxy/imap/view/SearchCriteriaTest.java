package org.mailproxy.imap.view;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Finding SEARCH's content keys and answering them for encrypted mail without touching the rest. */
class SearchCriteriaTest {

    @Test
    void contentKeysAreFoundWhereverTheyAreAndArgumentsAreNotMistakenForKeys() throws Exception {
        SearchCriteria c = SearchCriteria.parse("RETURN (MIN COUNT) CHARSET UTF-8 UNSEEN OR SUBJECT \"BODY\" "
                + "(NOT FROM alice SINCE 1-Feb-2026) HEADER X-Tag \"a b\" 1:5 UID 7,9 LARGER 1000 KEYWORD TEXT");
        assertThat(c.contentKeys()).containsExactly(
                new SearchCriteria.Key("SUBJECT", List.of("BODY")),
                new SearchCriteria.Key("FROM", List.of("alice")),
                new SearchCriteria.Key("HEADER", List.of("X-Tag", "a b")),
                new SearchCriteria.Key("LARGER", List.of("1000")));
    }

    @Test
    void eachContentKeyIsAnsweredByTheProviderForPlainMailAndByTheViewForEncryptedMail() throws Exception {
        SearchCriteria c = SearchCriteria.parse("UNSEEN BODY \"secret plan\" NOT SUBJECT x");
        String rewritten = c.rewrite(new TreeSet<>(Set.of(3L, 4L, 5L, 9L)), List.of(Set.of(4L, 9L), Set.of()));
        assertThat(rewritten).isEqualTo("UNSEEN OR (NOT UID 3:5,9 BODY \"secret plan\") (UID 4,9) "
                + "NOT (NOT UID 3:5,9 SUBJECT x)");
    }

    @Test
    void literalsKeepTheirOctetsAndPlace() throws Exception {
        byte[] word = "grüße".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        SearchCriteria c = SearchCriteria.parse(List.of("CHARSET UTF-8 BODY ", word, " UNSEEN"));
        assertThat(c.contentKeys()).containsExactly(new SearchCriteria.Key("BODY", List.of("grüße")));
        List<Object> parts = c.rewriteParts(new TreeSet<>(Set.of(7L)), List.of(Set.of(7L)));
        assertThat(parts).hasSize(3);
        assertThat(parts.get(0)).isEqualTo("CHARSET UTF-8 OR (NOT UID 7 BODY ");
        assertThat(parts.get(1)).isSameAs(word);
        assertThat(parts.get(2)).isEqualTo(") (UID 7) UNSEEN");
    }

    @Test
    void withoutEncryptedMailTheCriteriaStayAsSent() throws Exception {
        SearchCriteria c = SearchCriteria.parse("OR (FROM a) (TO \"b\\\"c\") SEEN");
        assertThat(c.rewrite(Set.of(), List.of(Set.of(), Set.of()))).isEqualTo("OR (FROM a) (TO \"b\\\"c\") SEEN");
    }

    @Test
    void criteriaTheViewCannotReadAreLeftToTheProvider() {
        assertThatThrownBy(() -> SearchCriteria.parse("SUBJECT {5}")).isInstanceOf(SearchCriteria.Unparsed.class);
        assertThatThrownBy(() -> SearchCriteria.parse("(FROM a")).isInstanceOf(SearchCriteria.Unparsed.class);
        assertThatThrownBy(() -> SearchCriteria.parse("HEADER only-name")).isInstanceOf(SearchCriteria.Unparsed.class);
        assertThatThrownBy(() -> SearchCriteria.parse("X-UNKNOWN-KEY 5")).isInstanceOf(SearchCriteria.Unparsed.class);
        assertThatThrownBy(() -> SearchCriteria.parse("")).isInstanceOf(SearchCriteria.Unparsed.class);
    }
}
