package footfall.udf;

import org.apache.flink.table.functions.AggregateFunction;

/**
 * visit_start(occur_ms, gap_ms): when the visit the current event belongs to started, as an
 * OVER aggregate of one device's events in event-time order (ROWS BETWEEN UNBOUNDED
 * PRECEDING AND CURRENT ROW).
 *
 * <p>A visit is a run of events with gaps of at most gap_ms (docs/design.md §4 item 11), so
 * an event more than gap_ms after the one before starts a new visit. The state is two
 * numbers per device, which is why this is a function and not SQL: SQL would need one OVER
 * for the previous event's time and a second one to carry the start forward.
 */
public class VisitStart extends AggregateFunction<Long, VisitStart.Run> {

    /** The visit so far: when it started and its latest event (0 before any event). */
    public static class Run {
        public long start;
        public long last;
        public boolean any;
    }

    @Override
    public Run createAccumulator() {
        return new Run();
    }

    public void accumulate(Run run, Long occurMs, Long gapMs) {
        if (occurMs == null || gapMs == null) {
            return;
        }
        long occur = occurMs;
        // Rows reach an OVER in event-time order, so occur is never before run.last; the
        // max() keeps a visit whole all the same if two rows tie on their time attribute.
        if (!run.any || occur - run.last > gapMs) {
            run.start = occur;
            run.any = true;
        }
        run.last = Math.max(run.last, occur);
    }

    @Override
    public Long getValue(Run run) {
        return run.any ? run.start : null;
    }
}
