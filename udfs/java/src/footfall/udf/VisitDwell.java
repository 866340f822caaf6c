package footfall.udf;

import org.apache.flink.table.functions.AggregateFunction;

/**
 * visit_dwell(second_ms, gap_ms): how long the shop visit of the current row has lasted so far,
 * estimated (docs/design.md §4 item 6), as an OVER aggregate of one device's seconds in one
 * shop in event-time order (ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW). A row is one
 * second in which the device was placed in the shop; a visit is a run of them with gaps of
 * at most gap_ms.
 *
 * <p>A phone is heard only when it probes, every half-minute to two minutes, so its first
 * report in a shop comes on average half a gap after it walked in and its last half a gap
 * before it left: n seconds spanning s milliseconds estimate a stay of s + s / (n - 1), the
 * span and one mean gap between them (estimate). A single second estimates nothing: 0.
 */
public class VisitDwell extends AggregateFunction<Long, VisitDwell.Run> {

    /** The visit so far: its first and latest second, and how many seconds. */
    public static class Run {
        public long start;
        public long last;
        public long seconds;
    }

    /** The estimated dwell of n seconds spanning spanMs: the span and one mean gap. */
    public static long estimate(long spanMs, long n) {
        return n > 1 ? spanMs * n / (n - 1) : 0L;
    }

    @Override
    public Run createAccumulator() {
        return new Run();
    }

    public void accumulate(Run run, Long secondMs, Long gapMs) {
        if (secondMs == null || gapMs == null) {
            return;
        }
        if (run.seconds == 0 || secondMs - run.last > gapMs) {
            run.start = secondMs;
            run.last = secondMs;
            run.seconds = 0;
        }
        // Rows reach an OVER in event-time order; max() keeps a visit whole all the same if
        // two rows tie on their time attribute.
        run.last = Math.max(run.last, secondMs);
        run.seconds++;
    }

    @Override
    public Long getValue(Run run) {
        return run.seconds == 0 ? null : estimate(run.last - run.start, run.seconds);
    }
}
