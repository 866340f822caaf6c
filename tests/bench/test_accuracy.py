import argparse

import pytest

from bench.accuracy import radio_settings, sales_table, score, table


def test_each_figure_is_scored_over_all_malls_against_the_truth() -> None:
    outputs = {
        "mall": [("m1", 90), ("m2", 100)],
        "shops": [("m1", "S1", 10), ("m2", "S1", 6)],
        "people": [("m1", 150), ("m2", 170)],
        "shop_people": [("m1", "S1", 16.0), ("m2", "S1", None)],
        "positions": [("d1", 100, 3.0, 4.0, "S1"), ("d1", 101, 0.0, 0.0, "corridor"), ("d2", 100, 1.0, 1.0, "S2"),
                      ("dx", 100, 0.0, 0.0, "S1")],  # dx: no truth (a randomised phone): not matched
        "sales": [("m1", "S1", 4, 4000), ("m2", "S1", 2, 1000)],
    }
    summaries = {
        "m1": {"visitors": 100, "people": 160, "shop_dwell_visitors": {"S1": 8}, "shop_dwell_people": {"S1": 16},
               "shop_sales": {"S1": {"transactions": 5, "sales_minor": 4500, "unsent": 1}}},
        "m2": {"visitors": 100, "people": 160, "shop_dwell_visitors": {"S1": 8, "S2": 0},
               "shop_dwell_people": {"S1": 10}, "shop_sales": {"S1": {"transactions": 2, "sales_minor": 1000,
                                                                      "unsent": 0}}},
    }
    where = {("d1", 100): (0.0, 0.0, "S1"), ("d1", 101): (0.0, 0.0, "corridor"), ("d2", 100): (1.0, 2.0, "S1")}
    s = score(outputs, summaries, where)
    assert s["mall_visitors"] == [190, 200, -0.05]
    assert s["shop_visitors"] == [16, 16, 0.0] and s["shop_visitors_mean_abs_error"] == 0.25
    assert s["people"] == [320, 320, 0.0]
    assert s["shop_people"] == [16.0, 26, round(-10 / 26, 4)]
    assert s["shop_people_mean_abs_error"] == 0.5  # m1 exact, m2 has no estimate: all of it missed
    assert s["positions_matched"] == 3
    assert s["position_error_p50_m"] == 1.0 and s["zone_accuracy"] == round(2 / 3, 4)
    assert "| 2.7 / 6 dB | -5.0% | +0.0%; 25.0% | +0.0% |" in table(
        [{"exponent": 2.7, "shadowing_db": 6.0, "scores": s}])
    # Sales: 6 of the 7 purchases counted (one never sent); 7 purchases of 26 people who
    # stayed, against 6 of 16 visitors (and of 16 estimated people: m2's shop has none);
    # 5,000 net over 190 visitors and 320 estimated people against 5,500 over 320 people.
    assert s["transactions"] == [6, 7, round(-1 / 7, 4)] and s["unsent_transactions"] == 1
    assert s["conversion_of_visitors"] == [0.375, round(7 / 26, 4), round((6 / 16 - 7 / 26) / (7 / 26), 4)]
    assert s["conversion_of_people"][0] == 0.375 and s["shops_scored"] == 0  # no shop of 20 people
    assert s["sales_per_visitor"] == [round(5000 / 190, 4), round(5500 / 320, 4),
                                      round((5000 / 190 - 5500 / 320) / (5500 / 320), 4)]
    assert s["sales_per_person"] == [15.625, 17.1875, round((15.625 - 17.1875) / 17.1875, 4)]
    assert "| 2.7 / 6 dB | -14.3% (1 unsent) | +39.3% |" in sales_table(
        [{"exponent": 2.7, "shadowing_db": 6.0, "scores": s}])


def test_a_day_without_door_counts_has_no_people_figure() -> None:
    outputs = {"mall": [("m1", 5)], "shops": [], "people": [("m1", None)], "shop_people": [], "positions": [],
               "sales": []}
    s = score(outputs, {"m1": {"visitors": 5, "people": 9, "shop_dwell_visitors": {}, "shop_dwell_people": {}}}, {})
    assert s["people"] == [None, 9, None] and s["position_error_p50_m"] is None
    assert s["sales_per_person"] == [None, 0.0, None] and s["conversion_of_people"] == [None, None, None]


def test_radio_settings_are_pairs_the_simulator_accepts() -> None:
    assert radio_settings("2.7/6,2.2/4") == ((2.7, 6.0), (2.2, 4.0))
    with pytest.raises(argparse.ArgumentTypeError, match="outside"):
        radio_settings("9/6")
    with pytest.raises(argparse.ArgumentTypeError, match="'2.7'"):
        radio_settings("2.7")
