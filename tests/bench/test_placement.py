import json

from bench.placement import main


def test_the_estimator_is_scored_alone_and_against_a_bound_of_smoothing(capsys) -> None:
    assert main(["--hours", "0.5", "--radio", "2.2/4"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    run = json.loads(line)
    assert run["radio"] == [2.2, 4.0] and run["density"] == "shop"
    fixes, bound = run["fixes"], run["oracle_stop_average"]
    assert fixes["seconds"] > 500 and 0.8 < fixes["zone"] <= 1
    # Averaging every fix of a stop can only help: the bound is below the fixes alone.
    assert 0 < bound["p50_m"] < fixes["p50_m"] < fixes["p90_m"] < 20
