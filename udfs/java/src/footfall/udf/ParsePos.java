package footfall.udf;

import java.util.Map;
import java.util.Set;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.FunctionHint;
import org.apache.flink.table.functions.TableFunction;
import org.apache.flink.types.Row;

/**
 * parse_pos(body, max_chars): a pos-transactions message parsed and validated in one pass, as
 * one row: transaction_id, mall_id, shop_code, occur_ms (the sale's time, epoch ms),
 * amount_minor (integer minor units of the currency, negative for a refund), currency,
 * items, till_id (null when not sent), and reason (null when valid). The reasons, in the
 * order they are checked: too_large, not_json, missing_field (a required field absent or
 * null, or an empty transaction_id), wrong_type (ids, currency and till_id strings;
 * occur_time a whole number of at most 15 digits, not negative; amount_minor a whole number
 * of at most 15 digits; items of at most 9), invalid_currency (not three capital letters),
 * amount_out_of_range (zero: a sale is positive, a refund negative), items_out_of_range
 * (negative). Whether the mall and shop exist and the currency is the mall's is checked
 * against the layout (02_ingest.sql).
 */
@FunctionHint(output = @DataTypeHint("ROW<transaction_id STRING, mall_id STRING, shop_code STRING, occur_ms BIGINT, "
        + "amount_minor BIGINT, currency STRING, items INT, till_id STRING, reason STRING>"))
public class ParsePos extends TableFunction<Row> {
    private static final Set<String> REQUIRED =
            Set.of("transaction_id", "mall_id", "shop_code", "occur_time", "amount_minor", "currency", "items");
    private static final Set<String> FIELDS = Set.of("transaction_id", "mall_id", "shop_code", "occur_time",
            "amount_minor", "currency", "items", "till_id");

    public void eval(String body, int maxChars) {
        if (body == null) {
            reject("not_json");
            return;
        }
        if (Fields.tooLarge(body, maxChars)) {
            reject("too_large");
            return;
        }
        Map<String, Fields.Value> fields = Fields.read(body, FIELDS);
        if (fields == null) {
            reject("not_json");
            return;
        }
        if (!fields.keySet().containsAll(REQUIRED) || "".equals(fields.get("transaction_id").text)) {
            reject("missing_field");
            return;
        }
        Fields.Value till = fields.get("till_id");
        if (!Fields.isString(fields.get("transaction_id")) || !Fields.isString(fields.get("mall_id"))
                || !Fields.isString(fields.get("shop_code")) || !Fields.isString(fields.get("currency"))
                || (till != null && !Fields.isString(till))
                || !Fields.isWhole(fields.get("occur_time"), 15, false)
                || !Fields.isWhole(fields.get("amount_minor"), 15, true)
                || !Fields.isWhole(fields.get("items"), 9, true)) {
            reject("wrong_type");
            return;
        }
        String currency = fields.get("currency").text;
        if (!currency.matches("[A-Z]{3}")) {
            reject("invalid_currency");
            return;
        }
        long amount = Long.parseLong(fields.get("amount_minor").text);
        if (amount == 0) {
            reject("amount_out_of_range");
            return;
        }
        int items = Integer.parseInt(fields.get("items").text);
        if (items < 0) {
            reject("items_out_of_range");
            return;
        }
        collect(Row.of(fields.get("transaction_id").text, fields.get("mall_id").text, fields.get("shop_code").text,
                Long.parseLong(fields.get("occur_time").text), amount, currency, items,
                till == null ? null : till.text, null));
    }

    private void reject(String reason) {
        collect(Row.of(null, null, null, null, null, null, null, null, reason));
    }
}
