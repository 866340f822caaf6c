from bench.visitors import compare


def test_each_count_is_scored_against_the_truth_of_its_day() -> None:
    job = {"visitors": 90, "devices_seen": 154, "passers_by": 60, "staff": 4, "shops": {"S1": (10, 30), "S2": (5, 0)}}
    truth = {"visitors": 100, "street_passers": 50, "staff": 4, "shop_dwell_visitors": {"S1": 8, "S2": 5, "S3": 2},
             "shop_walk_bys": {"S1": 40}}
    row = compare("2026-11-20", job, truth)
    assert row["mall_visitors"] == [90, 100, -0.1]
    assert row["passers_by"] == [60, 50, 0.2]
    assert row["devices_seen"] == [154, 154, 0.0]
    assert row["staff"] == [4, 4]
    assert row["shop_visitors"] == [15, 15, 0.0]  # S3 missed, S1 over: the sums agree ...
    assert row["shop_visitors_mean_abs_error"] == round((0.25 + 0 + 1) / 3, 4)  # ... the shops do not
    assert row["walk_bys"] == [30, 40, -0.25]
    assert row["conversion"] == [round(15 / 45, 4), round(15 / 55, 4)]


def test_a_day_the_job_missed_counts_zero() -> None:
    truth = {"visitors": 10, "street_passers": 0, "staff": 0, "shop_dwell_visitors": {}, "shop_walk_bys": {}}
    row = compare("2026-11-20", {}, truth)
    assert row["mall_visitors"] == [0, 10, -1.0] and row["passers_by"] == [0, 0, None]


def test_estimated_people_are_scored_against_everyone_and_a_day_without_door_counts_has_none() -> None:
    truth = {"visitors": 100, "street_passers": 0, "staff": 0, "shop_dwell_visitors": {"S1": 8},
             "shop_walk_bys": {}, "people": 160, "shop_dwell_people": {"S1": 12, "S2": 4}}
    job = {"visitors": 100, "people": 150, "shops": {"S1": (8, 0)}, "shop_people": {"S1": 12.0, "S2": 6.0}}
    row = compare("2026-11-20", job, truth)
    assert row["people"] == [150, 160, -0.0625]
    assert row["shop_people"] == [18.0, 16, 0.125]
    assert row["shop_people_mean_abs_error"] == 0.25  # (0 + 0.5) / 2
    row = compare("2026-11-20", {"visitors": 100, "people": None, "shop_people": {"S1": None}}, truth)
    assert row["people"] == [None, 160, None] and row["shop_people"] == [0, 16, -1.0]
