package footfall.udf;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.FunctionHint;
import org.apache.flink.table.functions.FunctionContext;
import org.apache.flink.table.functions.TableFunction;
import org.apache.flink.types.Row;

/**
 * scrub_macs(raw): a rejected message's text with no phone's MAC left in it, as one row:
 * scrubbed (the text) and macs_replaced (how many values it replaced or removed), so
 * that a dead letter keeps what makes it useful without keeping a person's identifier.
 *
 * <ul>
 *   <li>The value of a {@code "device_mac"} field becomes the device id the job would have
 *       made of it (ParseProbe's salted hash) when it is a MAC, and {@code null} when it
 *       cannot be read as one (a MAC without separators, a number, a broken string).</li>
 *   <li>Anything else shaped like a MAC (six pairs of hex digits joined by ':' or '-')
 *       becomes its device id, wherever it is in the text, which need not be JSON.</li>
 *   <li>The value of an {@code "ap_mac"} field is kept: it names a probe of the mall, not a
 *       person, and is what an operator needs to register a probe the layout lacks.</li>
 * </ul>
 *
 * <p>Only rejected messages come here: a few, so the regular expressions cost nothing that
 * shows in the job's throughput.
 */
@FunctionHint(output = @DataTypeHint("ROW<scrubbed STRING, macs_replaced INT>"))
public class ScrubMacs extends TableFunction<Row> {
    private static final Pattern DEVICE_FIELD =
            Pattern.compile("(\"device_mac\"\\s*:\\s*)(\"(?:[^\"\\\\]|\\\\.)*\"?|[^,}\\]\\s]+)");
    private static final Pattern MAC_SHAPED = Pattern.compile(
            "(?<![0-9A-Fa-f])(?<!\"ap_mac\"\\s{0,8}:\\s{0,8}\")[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}"
                    + "(?:\\1[0-9A-Fa-f]{2}){4}(?![0-9A-Fa-f])");

    private transient ParseProbe hasher;

    @Override
    public void open(FunctionContext context) throws NoSuchAlgorithmException {
        hasher = new ParseProbe();
        hasher.open(context);
    }

    public void eval(String raw) {
        if (raw == null) {
            collect(Row.of(null, 0));
            return;
        }
        int[] replaced = {0};
        String fields = replaceAll(DEVICE_FIELD, raw, m -> {
            String value = m.group(2);
            if (value.equals("null")) {
                return m.group(0);
            }
            replaced[0]++;
            boolean quoted = value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"");
            String mac = quoted ? ParseProbe.normalise(value.substring(1, value.length() - 1)) : "";
            return m.group(1) + (ParseProbe.MAC.matcher(mac).matches() ? "\"" + hasher.deviceId(mac) + "\"" : "null");
        });
        String scrubbed = replaceAll(MAC_SHAPED, fields, m -> {
            replaced[0]++;
            return hasher.deviceId(ParseProbe.normalise(m.group(0)));
        });
        collect(Row.of(scrubbed, replaced[0]));
    }

    private static String replaceAll(Pattern pattern, String text, java.util.function.Function<Matcher, String> with) {
        Matcher m = pattern.matcher(text);
        StringBuilder out = new StringBuilder(text.length());
        int last = 0;
        while (m.find()) {
            out.append(text, last, m.start()).append(with.apply(m));
            last = m.end();
        }
        return last == 0 ? text : out.append(text, last, text.length()).toString();
    }
}
