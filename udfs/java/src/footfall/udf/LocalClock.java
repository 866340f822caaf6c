package footfall.udf;

import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.HashMap;
import java.util.Map;
import java.util.TimeZone;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.FunctionHint;
import org.apache.flink.table.functions.TableFunction;
import org.apache.flink.types.Row;

/**
 * local_clock(event_time, tz): the local day and hour of an instant in a mall's time zone,
 * one row, or none without a time or a zone. Once per message, in the ingestion, so that
 * no view after the fork converts time zones again (as CONVERT_TZ on a formatted string,
 * each of them did, once per view per event). An unknown zone is GMT, as it is for
 * CONVERT_TZ (java.util.TimeZone).
 */
@FunctionHint(output = @DataTypeHint("ROW<local_day DATE, local_hour INT>"))
public class LocalClock extends TableFunction<Row> {
    private transient Map<String, ZoneId> zones;

    public void eval(@DataTypeHint("TIMESTAMP_LTZ(3)") Instant time, String tz) {
        if (time == null || tz == null) {
            return;
        }
        if (zones == null) {
            zones = new HashMap<>();
        }
        ZonedDateTime local = time.atZone(zones.computeIfAbsent(tz, id -> TimeZone.getTimeZone(id).toZoneId()));
        collect(Row.of(local.toLocalDate(), local.getHour()));
    }
}
