package footfall.udf;

import org.apache.flink.table.functions.AggregateFunction;

/**
 * visit_start(first_ms, last_ms, gap_ms): when the visit of the current row started, as an
 * OVER aggregate of one device's rows in event-time order (ROWS BETWEEN UNBOUNDED PRECEDING
 * AND CURRENT ROW). A row is one second in which the device was heard, with its first and
 * last event time (a single event is a row with first = last).
 *
 * <p>A visit is a run of events with gaps of at most gap_ms (docs/design.md §4 item 11). The
 * events of one second are less than a second apart, so only the step from one row's last
 * event to the next row's first can break a run (gap_ms is at least a second). The state is
 * two numbers per device, which is why this is a function and not SQL: SQL would need one
 * OVER for the previous row's time and a second one to carry the start forward.
 */
public class VisitStart extends AggregateFunction<Long, VisitStart.Run> {

    /** The visit so far: when it started and its latest event. */
    public static class Run {
        public long start;
        public long last;
        public boolean any;
    }

    @Override
    public Run createAccumulator() {
        return new Run();
    }

    public void accumulate(Run run, Long firstMs, Long lastMs, Long gapMs) {
        if (firstMs == null || lastMs == null || gapMs == null) {
            return;
        }
        // Rows reach an OVER in event-time order; max() keeps a visit whole all the same if
        // two rows tie on their time attribute.
        if (!run.any || firstMs - run.last > gapMs) {
            run.start = firstMs;
            run.any = true;
        }
        run.last = Math.max(run.last, lastMs);
    }

    @Override
    public Long getValue(Run run) {
        return run.any ? run.start : null;
    }
}
