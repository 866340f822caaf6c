package footfall.udf;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonFactory;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonParser;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonToken;

/**
 * The top-level fields of a JSON object message, read in one pass with a streaming parser
 * (no tree is built; nested values the ingestion does not read are skipped).
 *
 * <p>A message is JSON only if the whole text is one JSON value with nothing after it; it
 * is an object only if that value is one. A field that appears twice keeps its last value.
 */
final class Fields {
    /** What a field held: its JSON kind, and its text for strings and whole numbers. */
    enum Kind { STRING, INTEGER, OTHER }

    static final class Value {
        final Kind kind;
        final String text;

        Value(Kind kind, String text) {
            this.kind = kind;
            this.text = text;
        }
    }

    static final Value NULL = new Value(Kind.OTHER, null);
    private static final JsonFactory JSON = new JsonFactory();

    private Fields() {
    }

    /** The wanted fields present (JSON null counts as absent), or null when the message is
     * not a JSON object. */
    static Map<String, Value> read(String body, Set<String> wanted) {
        Map<String, Value> found = new HashMap<>();
        try (JsonParser parser = JSON.createParser(body)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String name = parser.currentName();
                JsonToken token = parser.nextToken();
                if (wanted.contains(name)) {
                    Value value = value(parser, token);
                    if (value == NULL) {
                        found.remove(name);
                    } else {
                        found.put(name, value);
                    }
                }
                parser.skipChildren();
            }
            return parser.nextToken() == null ? found : null;
        } catch (Exception e) { // broken, truncated, too deep: not JSON
            return null;
        }
    }

    private static Value value(JsonParser parser, JsonToken token) throws java.io.IOException {
        switch (token) {
            case VALUE_NULL:
                return NULL;
            case VALUE_STRING:
                return new Value(Kind.STRING, parser.getText());
            case VALUE_NUMBER_INT:
                return new Value(Kind.INTEGER, parser.getText());
            default:
                return new Value(Kind.OTHER, null);
        }
    }

    static boolean isString(Value value) {
        return value.kind == Kind.STRING;
    }

    /** A JSON integer of at most `digits` digits, negative only when `signed`. */
    static boolean isWhole(Value value, int digits, boolean signed) {
        if (value.kind != Kind.INTEGER) {
            return false;
        }
        String text = value.text;
        boolean negative = text.startsWith("-");
        if (negative && !signed && !text.matches("-0+")) {
            return false;
        }
        return text.length() - (negative ? 1 : 0) <= digits;
    }

    /**
     * The wanted fields of a message that has them all, or null after `reject` was given
     * the reason it has not: too_large (more than maxChars characters, not parsed),
     * not_json, or missing_field (a wanted field absent or null).
     */
    static Map<String, Value> complete(String body, int maxChars, Set<String> wanted,
                                       java.util.function.Consumer<String> reject) {
        if (body == null) {
            reject.accept("not_json");
            return null;
        }
        if (tooLarge(body, maxChars)) {
            reject.accept("too_large");
            return null;
        }
        Map<String, Value> fields = read(body, wanted);
        if (fields == null) {
            reject.accept("not_json");
            return null;
        }
        if (fields.size() < wanted.size()) {
            reject.accept("missing_field");
            return null;
        }
        return fields;
    }

    /** Too long to parse: more than maxChars characters (code points). */
    static boolean tooLarge(String body, int maxChars) {
        return body.length() > maxChars && body.codePointCount(0, body.length()) > maxChars;
    }
}
