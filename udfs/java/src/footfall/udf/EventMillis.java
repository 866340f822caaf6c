package footfall.udf;

import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonFactory;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonParser;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonToken;
import org.apache.flink.table.functions.ScalarFunction;

/**
 * event_millis(body, future_tolerance_ms, max_chars): the event time a source reads from a
 * raw message, for its watermark.
 *
 * <p>Returns the top-level `occur_time` (a whole number, or text of one, as JSON_VALUE
 * reads it); 0 when there is none or the message is longer than max_chars (0 never moves a
 * watermark); and -1 when it lies more than future_tolerance_ms ahead of this machine's
 * clock, so a probe with a broken clock moves no watermark, no late rule and no "today"
 * (the ingestion rejects it with reason `future`). Only the top level is scanned, with a
 * streaming parser that stops at the field: no tree is built.
 */
public class EventMillis extends ScalarFunction {
    private static final JsonFactory JSON = new JsonFactory();

    public long eval(String body, long futureToleranceMs, int maxChars) {
        if (body == null || body.length() > maxChars) {
            return 0L;
        }
        long occur = occurTime(body);
        if (occur > System.currentTimeMillis() + futureToleranceMs) {
            return -1L;
        }
        return occur;
    }

    static long occurTime(String body) {
        try (JsonParser parser = JSON.createParser(body)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                return 0L;
            }
            long found = 0L;
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                boolean wanted = "occur_time".equals(parser.currentName());
                JsonToken value = parser.nextToken();
                if (wanted) {
                    found = value(parser, value);
                }
                parser.skipChildren();
            }
            // The whole message must be JSON, as for JSON_VALUE: nothing after the object.
            return parser.nextToken() == null ? found : 0L;
        } catch (Exception e) { // not JSON, too deep, truncated: no readable time
            return 0L;
        }
    }

    private static long value(JsonParser parser, JsonToken token) throws java.io.IOException {
        if (token == JsonToken.VALUE_NUMBER_INT) {
            JsonParser.NumberType type = parser.getNumberType();
            return type == JsonParser.NumberType.INT || type == JsonParser.NumberType.LONG ? parser.getLongValue() : 0L;
        }
        if (token == JsonToken.VALUE_STRING) {
            try {
                return Long.parseLong(parser.getText().trim());
            } catch (NumberFormatException e) {
                return 0L;
            }
        }
        return 0L;
    }

    @Override
    public boolean isDeterministic() {
        return false; // reads the clock
    }
}
