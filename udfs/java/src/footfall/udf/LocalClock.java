package footfall.udf;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.time.zone.ZoneOffsetTransition;
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
 *
 * <p>Messages come roughly in time order, so each zone's current local hour is kept with
 * the instants it spans, and a time inside them is answered without java.time (which took
 * a tenth of the ingestion thread). An hour with an offset change inside it is never
 * kept: within a kept span the offset is fixed, so the local day and hour are too.
 */
@FunctionHint(output = @DataTypeHint("ROW<local_day DATE, local_hour INT>"))
public class LocalClock extends TableFunction<Row> {
    private transient Map<String, Hour> hours;

    public void eval(@DataTypeHint("TIMESTAMP_LTZ(3)") Instant time, String tz) {
        if (time == null || tz == null) {
            return;
        }
        if (hours == null) {
            hours = new HashMap<>();
        }
        long millis = time.toEpochMilli();
        Hour hour = hours.get(tz);
        if (hour == null || millis < hour.startMs || millis >= hour.endMs) {
            ZoneId zone = hour != null ? hour.zone : TimeZone.getTimeZone(tz).toZoneId();
            hour = Hour.of(zone, time);
            hours.put(tz, hour);
        }
        collect(Row.of(hour.day, hour.hour));
    }

    /** A local hour of a zone, and the instants it spans (none if its offset changes). */
    static final class Hour {
        final ZoneId zone;
        final LocalDate day;
        final int hour;
        final long startMs;
        final long endMs;

        private Hour(ZoneId zone, LocalDate day, int hour, long startMs, long endMs) {
            this.zone = zone;
            this.day = day;
            this.hour = hour;
            this.startMs = startMs;
            this.endMs = endMs;
        }

        static Hour of(ZoneId zone, Instant time) {
            ZonedDateTime local = time.atZone(zone);
            // Kept only if the span is a whole local hour at one offset: the hour's top is
            // a time of the day (not moved by a gap), at the offset of `time`, and the
            // offset does not change before the hour ends.
            ZonedDateTime top = local.truncatedTo(ChronoUnit.HOURS);
            Instant start = top.toInstant();
            Instant end = start.plus(1, ChronoUnit.HOURS);
            ZoneOffsetTransition change = zone.getRules().nextTransition(start);
            boolean fixed = top.getHour() == local.getHour() && top.getMinute() == 0
                    && top.getOffset().equals(local.getOffset())
                    && (change == null || !change.getInstant().isBefore(end));
            long startMs = fixed ? start.toEpochMilli() : 0;
            long endMs = fixed ? end.toEpochMilli() : 0;
            return new Hour(zone, local.toLocalDate(), local.getHour(), startMs, endMs);
        }
    }
}
