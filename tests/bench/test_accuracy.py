import argparse
import json

import pytest

from bench.accuracy import Truth, densities, radio_settings, sales_table, score, table, visits_table


def test_each_figure_is_scored_over_all_malls_against_the_truth() -> None:
    outputs = {
        "mall": [("m1", 90), ("m2", 100)],
        "shops": [("m1", "S1", 10), ("m2", "S1", 6)],
        "walk_bys": [("m1", "S1", 30), ("m2", "S1", 20)],
        "people": [("m1", 150), ("m2", 170)],
        "shop_people": [("m1", "S1", 16.0), ("m2", "S1", None)],
        "positions": [("d1", 100, 3.0, 4.0, "S1"), ("d1", 101, 0.0, 0.0, "corridor"), ("d2", 100, 1.0, 1.0, "S2"),
                      ("dx", 100, 0.0, 0.0, "S1")],  # dx: no truth (a randomised phone): not matched
        "sales": [("m1", "S1", 4, 4000), ("m2", "S1", 2, 1000)],
        # (shop_code, device, started, dwell s): d1's journey S1, S2, S1 and a mall visit;
        # d2's S2 alone; dx is nobody the truth knows.
        "visits": [("S1", "d1", 100, 300), ("S2", "d1", 500, 100), ("S1", "d1", 700, 200), ("", "d1", 90, 900),
                   ("S2", "d2", 100, 400), ("S3", "dx", 100, 999)],
    }
    summaries = {
        "m1": {"visitors": 100, "people": 160, "entries": 170, "entries_counted": 168, "shop_walk_bys": {"S1": 40},
               "shop_dwell_visitors": {"S1": 8}, "shop_dwell_people": {"S1": 16},
               "shop_sales": {"S1": {"transactions": 5, "sales_minor": 4500, "unsent": 1}}},
        "m2": {"visitors": 100, "people": 160, "entries": 165, "entries_counted": 166,
               "shop_dwell_visitors": {"S1": 8, "S2": 0},
               "shop_dwell_people": {"S1": 10}, "shop_sales": {"S1": {"transactions": 2, "sales_minor": 1000,
                                                                      "unsent": 0}}},
    }
    where = {("d1", 100): (0.0, 0.0, "S1"), ("d1", 101): (0.0, 0.0, "corridor"), ("d2", 100): (1.0, 2.0, "S1")}
    # The truth: d1 went S1, S2, S3 (found S1->S2; S2->S1 made up, S2->S3 missed), d2 S2.
    stays = {"d1": [(100, "S1", 320), (480, "S2", 90), (690, "S3", 250)], "d2": [(90, "S2", 420)]}
    s = score(outputs, Truth(summaries, where, stays, [1000, 200]))
    assert s["mall_visitors"] == [190, 200, -0.05]
    assert s["shop_visitors"] == [16, 16, 0.0] and s["shop_visitors_mean_abs_error"] == 0.25
    assert s["walk_bys"] == [50, 40, 0.25] and s["walk_bys_mean_abs_error"] == 0.25  # m2's S1: no truth
    assert s["people"] == [320, 320, 0.0] and s["people_per_mall"] == {"m1": round(-10 / 160, 4), "m2": 0.0625}
    assert s["door_entries"] == {"m1": [168, 170, 160], "m2": [166, 165, 160]}
    assert s["shop_people"] == [16.0, 26, round(-10 / 26, 4)]
    assert s["shop_people_mean_abs_error"] == 0.5  # m1 exact, m2 has no estimate: all of it missed
    assert s["shop_people_within"] == 0.5
    assert s["positions_matched"] == 3
    assert s["position_error_p50_m"] == 1.0 and s["zone_accuracy"] == round(2 / 3, 4)
    run = {"exponent": 2.7, "shadowing_db": 6.0, "density": "shop", "scores": s}
    assert "| 2.7 / 6 dB, one probe per shop | -5.0% | +0.0%; 25.0% | +25.0%; 25.0% | +0.0%; -6.2%, +6.2% |" in table(
        [run])
    # Dwell: the job's shop visits of 2 minutes or more (300, 200, 400: median 300) against
    # the truth's (320, 250, 420: 320); mall visits of 5 minutes or more, 900 against 1000.
    assert s["shop_dwell_median_s"] == [300, 320, round(-20 / 320, 4)]
    assert s["mall_dwell_median_s"] == [900, 1000, -0.1]
    assert s["transitions"] == [2, 2] and s["transition_precision"] == 0.5 and s["transition_recall"] == 0.5
    assert "| 300 / 320 s (-6.2%) | 900 / 1000 s (-10.0%) | 50.0% / 50.0% (2 / 2) |" in visits_table(
        [{**run, "density": "15m"}])
    # Sales: 6 of the 7 purchases counted (one never sent); 7 purchases of 26 people who
    # stayed, against 6 of 16 visitors (and of 16 estimated people: m2's shop has none);
    # 5,000 net over 190 visitors and 320 estimated people against 5,500 over 320 people.
    assert s["transactions"] == [6, 7, round(-1 / 7, 4)] and s["unsent_transactions"] == 1
    assert s["conversion_of_visitors"] == [0.375, round(7 / 26, 4), round((6 / 16 - 7 / 26) / (7 / 26), 4)]
    assert s["conversion_of_people"][0] == 0.375 and s["shops_scored"] == 0  # no shop of 20 people
    assert s["sales_per_visitor"] == [round(5000 / 190, 4), round(5500 / 320, 4),
                                      round((5000 / 190 - 5500 / 320) / (5500 / 320), 4)]
    assert s["sales_per_person"] == [15.625, 17.1875, round((15.625 - 17.1875) / 17.1875, 4)]
    assert "| 2.7 / 6 dB, one probe per shop | -14.3% (1 unsent) | +39.3% |" in sales_table([run])


def test_a_day_without_door_counts_has_no_people_figure() -> None:
    outputs = {"mall": [("m1", 5)], "shops": [], "walk_bys": [], "people": [("m1", None)], "shop_people": [],
               "positions": [], "sales": [], "visits": []}
    summary = {"visitors": 5, "people": 9, "entries": 0, "entries_counted": 0, "shop_dwell_visitors": {},
               "shop_dwell_people": {}}
    s = score(outputs, Truth({"m1": summary}, {}, {}, []))
    assert s["people"] == [None, 9, None] and s["position_error_p50_m"] is None
    assert s["sales_per_person"] == [None, 0.0, None] and s["conversion_of_people"] == [None, None, None]
    assert s["people_per_mall"] == {"m1": None} and s["shop_dwell_median_s"] == [None, None, None]
    assert s["transition_precision"] is None and s["transition_recall"] is None


def test_densities_are_the_built_in_malls_own() -> None:
    assert densities("20m,15m") == ("20m", "15m") and densities("") == ()
    with pytest.raises(argparse.ArgumentTypeError, match="'5m'"):
        densities("5m")


def test_radio_settings_are_pairs_the_simulator_accepts() -> None:
    assert radio_settings("2.7/6,2.2/4") == ((2.7, 6.0), (2.2, 4.0))
    with pytest.raises(argparse.ArgumentTypeError, match="outside"):
        radio_settings("9/6")
    with pytest.raises(argparse.ArgumentTypeError, match="'2.7'"):
        radio_settings("2.7")


def test_the_truth_scored_is_the_visitors_own(tmp_path) -> None:
    from bench.accuracy import SALT, read_truth
    from udfs.identity import device_id

    def trip(person: str, mac: str, **kind: bool) -> dict:
        return {"type": "trip", "person": person, "macs": [mac], "staff": False, "phoneless": False,
                "randomized": False, **kind, "passages": [[100, "d", "in"], [400, "d", "out"], [900, "d", "in"],
                                                          [1000, "d", "out"]]}

    rows = [trip("v", "aa"), trip("s", "bb", staff=True), trip("r", "cc", randomized=True),
            {"type": "position", "mac": "aa", "t": 150.5, "x": 1, "y": 2, "zone": "S1"},
            {"type": "position", "mac": "bb", "t": 150.5, "x": 1, "y": 2, "zone": "S1"},
            {"type": "visit", "person": "v", "mac": "aa", "shop_code": "S2", "start": 300, "end": 350},
            {"type": "visit", "person": "v", "mac": "aa", "shop_code": "S1", "start": 120, "end": 250},
            {"type": "visit", "person": "s", "mac": "bb", "shop_code": "S1", "start": 120, "end": 250},
            {"type": "visit", "person": "r", "mac": "cc", "shop_code": "S1", "start": 120, "end": 250},
            {"type": "summary", "mall_id": "m1"}]
    path = tmp_path / "truth.jsonl"
    path.write_text("\n".join(json.dumps(row) for row in rows))
    truth = read_truth(path)
    visitor = device_id(SALT, "aa")
    assert truth.where == {(visitor, 150): (1, 2, "S1")}  # the staff's place is not scored
    assert truth.stays == {visitor: [(120, "S1", 130), (300, "S2", 50)]}
    assert truth.inside == [300, 100] and set(truth.summaries) == {"m1"}
