package org.mailproxy.app.http;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The small JSON writer behind {@code /health}: commas in the right places, strings escaped per RFC 8259 7. */
class JsonWriterTest {

    @Test
    void nestsObjectsAndArraysWithCommasOnlyBetweenMembers() {
        String json = new JsonWriter().beginObject()
                .name("a").value("x")
                .name("b").beginArray().value(true).value(false).beginObject().endObject().endArray()
                .name("c").value((String) null)
                .name("d").beginArray().endArray()
                .endObject().toString();
        assertThat(json).isEqualTo("{\"a\":\"x\",\"b\":[true,false,{}],\"c\":null,\"d\":[]}");
    }

    @Test
    void escapesQuotesBackslashesControlsAndMarkup() {
        String json = new JsonWriter().beginArray().value("q\"b\\n\nr\rt\tz\u0000\u001f<>&\u2028\u2029é").endArray().toString();
        assertThat(json).isEqualTo("[\"q\\\"b\\\\n\\nr\\rt\\tz\\u0000\\u001f\\u003c\\u003e\\u0026\\u2028\\u2029é\"]");
    }
}
