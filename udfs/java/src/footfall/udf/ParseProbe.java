package footfall.udf;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.FunctionHint;
import org.apache.flink.table.functions.FunctionContext;
import org.apache.flink.table.functions.TableFunction;
import org.apache.flink.types.Row;

/**
 * parse_probe(body, max_chars): a wifi-probes message parsed, validated, normalised and
 * hashed in one pass, as one row: event_id, ap_mac (lower case, ':'), device_id,
 * randomized, rssi, occur_ms, and reason (null when valid). The reasons, in the order they
 * are checked: too_large, not_json, missing_field (absent or null), wrong_type (ids and
 * MACs must be strings; rssi a whole number of at most 9 digits; occur_time one of at most
 * 15 digits, not negative), invalid_mac, rssi_out_of_range (-120..0). A rejected message
 * carries no values.
 *
 * <p>device_id = the first 16 hex characters of SHA-256(salt + mac), mac in lower case with
 * ':' (udfs/identity.py is the reference); the salt comes from FOOTFALL_SALT in the
 * worker's environment, never from the job graph. A table function, so it runs once per
 * message.
 */
@FunctionHint(output = @DataTypeHint(
        "ROW<event_id STRING, ap_mac STRING, device_id STRING, randomized BOOLEAN, rssi INT, occur_ms BIGINT,"
                + " reason STRING>"))
public class ParseProbe extends TableFunction<Row> {
    static final Pattern MAC = Pattern.compile("[0-9a-f]{2}(:[0-9a-f]{2}){5}");
    private static final Set<String> FIELDS = Set.of("event_id", "ap_mac", "device_mac", "rssi", "occur_time");
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private transient MessageDigest sha256;
    private transient byte[] salt;

    @Override
    public void open(FunctionContext context) throws NoSuchAlgorithmException {
        String value = System.getenv("FOOTFALL_SALT");
        if (value == null || value.isEmpty()) {
            throw new IllegalStateException("FOOTFALL_SALT is not set in the Flink worker's environment");
        }
        salt = value.getBytes(StandardCharsets.UTF_8);
        sha256 = MessageDigest.getInstance("SHA-256");
    }

    public void eval(String body, int maxChars) {
        Map<String, Fields.Value> fields = Fields.complete(body, maxChars, FIELDS, this::reject);
        if (fields == null) {
            return;
        }
        Fields.Value rssi = fields.get("rssi");
        Fields.Value occur = fields.get("occur_time");
        if (!Fields.isString(fields.get("event_id")) || !Fields.isString(fields.get("ap_mac"))
                || !Fields.isString(fields.get("device_mac")) || !Fields.isWhole(rssi, 9, true)
                || !Fields.isWhole(occur, 15, false)) {
            reject("wrong_type");
            return;
        }
        String mac = normalise(fields.get("device_mac").text);
        if (!MAC.matcher(mac).matches()) {
            reject("invalid_mac");
            return;
        }
        int strength = Integer.parseInt(rssi.text);
        if (strength < -120 || strength > 0) {
            reject("rssi_out_of_range");
            return;
        }
        collect(Row.of(fields.get("event_id").text, normalise(fields.get("ap_mac").text), deviceId(mac),
                randomized(mac), strength, Long.parseLong(occur.text), null));
    }

    private void reject(String reason) {
        collect(Row.of(null, null, null, null, null, null, reason));
    }

    static String normalise(String mac) {
        return mac.toLowerCase(Locale.ROOT).replace('-', ':');
    }

    /** A locally administered (randomised) MAC: bit 1 of the first octet. */
    static boolean randomized(String mac) {
        return (Character.digit(mac.charAt(1), 16) & 0b10) != 0;
    }

    String deviceId(String mac) {
        sha256.reset();
        sha256.update(salt);
        byte[] digest = sha256.digest(mac.getBytes(StandardCharsets.UTF_8));
        char[] out = new char[16];
        for (int i = 0; i < 8; i++) {
            out[2 * i] = HEX[(digest[i] >> 4) & 0xF];
            out[2 * i + 1] = HEX[digest[i] & 0xF];
        }
        return new String(out);
    }
}
