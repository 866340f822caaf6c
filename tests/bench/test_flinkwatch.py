"""The bench's observer: how far the sources have to go, and how long it may look away."""

from bench.flinkwatch import JobWatch, nap_seconds


def test_records_left_sum_over_partitions_and_count_unread_ones_whole() -> None:
    last = {("probes", 0): 999, ("probes", 1): 499, ("doors", 0): 9}
    read = [{("probes", 0): 899, ("probes", 1): 499}, {("doors", 0): -1}]
    assert JobWatch.left(read, last) == 100 + 0 + 10


def test_no_nap_until_the_rate_is_known() -> None:
    assert nap_seconds([], 8.0) == 0.0
    assert nap_seconds([(10.0, 5000)], 8.0) == 0.0
    # No progress between samples (the metrics had not refreshed): no rate, no nap.
    assert nap_seconds([(10.0, 5000), (10.5, 5000)], 8.0) == 0.0


def test_a_nap_is_a_third_of_the_time_left_at_the_recent_rate() -> None:
    # 1,000 records a second over the last samples, 9,000 left: 9 s left, nap 3 s.
    progress = [(0.0, 50_000), (10.0, 12_000), (11.0, 11_000), (12.0, 10_000), (13.0, 9_000)]
    assert nap_seconds(progress, 8.0) == 3.0


def test_a_nap_never_exceeds_its_cap() -> None:
    assert nap_seconds([(0.0, 1_000_000), (1.0, 999_000)], 8.0) == 8.0


def test_offset_names_are_found_again_while_a_partition_is_missing() -> None:
    watch = JobWatch("http://127.0.0.1:1", "metrics")
    watch.offset_names = {"source": ["topic.partition.0.currentOffset"]}
    last = {("t", 0): 9, ("t", 1): 9}
    watch.forget_unseen([{("t", 0): 3, ("t", 1): 2}], last)
    assert watch.offset_names  # every partition seen: the names are kept
    watch.forget_unseen([{("t", 0): 3}], last)
    assert watch.offset_names == {}  # partition 1 registered after the names were read
