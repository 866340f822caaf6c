import json

from simulators.faults import Faults
from simulators.shoppers import Behaviour
from simulators.truth import TruthFile


def test_ground_truth_accounts_for_every_trip_visit_and_fault(simulate, tmp_path) -> None:
    path = tmp_path / "truth.jsonl"
    behaviour = Behaviour(visitors_per_day=3000)
    records = simulate(hours=0.5, behaviour=behaviour, faults=Faults(malformed_rate=0.01), truth=TruthFile(path, 900))
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    kinds = {}
    for row in rows:
        kinds.setdefault(row["type"], []).append(row)
    (summary,) = kinds["summary"]
    trips = kinds["trip"]
    # People: everyone through the doors, the companions of a party without a phone included.
    assert summary["people"] == len({t["person"] for t in trips}) + sum(t["companions"] for t in trips)
    with_phone = {t["person"] for t in trips if not t["phoneless"] and not t["randomized"] and not t["staff"]}
    assert summary["visitors"] == len(with_phone)
    staff = [t for t in trips if t["staff"] and not t["phoneless"] and not t["randomized"]]
    assert staff and summary["staff"] == len(staff) and summary["staff_macs"] == sorted(t["macs"][0] for t in staff)
    assert summary["randomized_phones"] == len({t["person"] for t in trips if not t["phoneless"] and t["randomized"]})
    for visit in kinds["visit"]:
        trip = next(t for t in trips if t["person"] == visit["person"])
        assert trip["arrive"] <= visit["start"] < visit["end"] <= trip["leave"]
    assert sum(summary["shop_visitors"].values()) >= len(
        {v["person"] for v in kinds["visit"] if v["person"] in with_phone}
    )
    # The design's shop visitors stayed the minimum dwell (two minutes) in one visit; the
    # walk-bys that stepped in for less are among the walk-bys.
    for shop, n in summary["shop_visitors"].items():
        stayed = {v["person"] for v in kinds["visit"]
                  if v["shop_code"] == shop and v["person"] in with_phone and v["end"] - v["start"] >= 120}
        assert summary["shop_dwell_visitors"].get(shop, 0) == len(stayed) <= n
        assert summary["shop_walk_bys"][shop] >= n - len(stayed)
    # People in shops: everyone who stayed the dwell, any phone or none, staff left out.
    staff_people = {t["person"] for t in trips if t["staff"]}
    for shop in {v["shop_code"] for v in kinds["visit"]}:
        party = {t["person"]: 1 + t["companions"] for t in trips}
        stayed = {v["person"] for v in kinds["visit"]
                  if v["shop_code"] == shop and v["person"] not in staff_people and v["end"] - v["start"] >= 120}
        assert summary["shop_dwell_people"].get(shop, 0) == sum(party[p] for p in stayed)
        assert len(stayed) >= summary["shop_dwell_visitors"].get(shop, 0)
    assert len(kinds["fault"]) == sum(1 for r in records if r.kind.startswith("malformed"))
    # One position per probe request: every wifi event's MAC and time is among them.
    pings = {(p["mac"], round(p["t"], 3)) for p in kinds["position"]}
    assert len(pings) == len(kinds["position"])
