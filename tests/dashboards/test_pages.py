"""Every page with Streamlit's AppTest, against the real services: the numbers of a known
day (written through the job's sink), the empty state of a mall without data, and a
service that is down (one line, never a traceback)."""

from __future__ import annotations

import json

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.dashboards.conftest import DAY, KnownDay
from tests.helpers import ROOT, free_port

pytestmark = pytest.mark.integration

VIEWS = ROOT / "dashboards" / "views"
PAGES = ["portfolio", "overview", "shops", "customers", "system", "live_map"]


def open_page(name: str, mall_id: str | None = None, day: str | None = None) -> AppTest:
    st.cache_data.clear()
    st.cache_resource.clear()  # settings are read again, so a test's environment applies
    # The portfolio links to other pages, which exist only under the app's navigation: it
    # is run as the app's home page.
    script = ROOT / "dashboards" / "app.py" if name == "portfolio" else VIEWS / f"{name}.py"
    page = AppTest.from_file(str(script), default_timeout=60)
    if mall_id:
        page.query_params["mall"] = mall_id
    if day:
        page.query_params["day"] = day
    return page.run()


def metrics(page: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in page.metric}


def texts(page: AppTest) -> str:
    return "\n".join(str(e.value) for kind in ("info", "markdown", "caption", "warning", "success", "code")
                     for e in getattr(page, kind))


def frames(page: AppTest) -> list:
    return [d.value for d in page.dataframe]


def test_overview_tiles_peak_and_comparison_with_last_week(known_day: KnownDay):
    page = open_page("overview", known_day.mall.mall_id, DAY.isoformat())
    assert not page.exception
    assert page.sidebar.date_input[0].value == DAY
    assert metrics(page) == {"Visitors": "120", "New visitors": "80", "Returning visitors": "40",
                             "Occupancy now": "—", "Door entries": "200", "Capture rate": "60.0%",
                             "Devices seen": "243", "Passers-by": "120", "Draw rate": "50.0%", "Staff": "3",
                             "People (estimate)": "≈ 200",
                             "Bounced": "20%", "Stayed an hour or more": "10%", "Median visit": "20 min",
                             "First time": "33%", "Daily or weekly": "33%"}
    assert "150 mall visits that ended" in texts(page)
    deltas = {m.label: m.proto.delta for m in page.metric}
    # Against the same weekday a week before, hour by hour: DAY is not the mall's today, so
    # all its hours (visitors 50 + 70 against 40; door entries 80 + 120 against 60).
    assert deltas["Visitors"] == "+200% on last week" and deltas["Door entries"] == "+233% on last week"
    assert deltas["New visitors"] == "67% of visitors" and deltas["Returning visitors"] == "33% of visitors"
    assert deltas["People (estimate)"] == "1.67 per visitor"  # 200 entries, one each, over 120 visitors
    assert "Live from Redis" in texts(page)
    assert "**Peak hour** 14:00–15:00 with **70 visitors**" in texts(page)
    chart = json.loads(page.get("vega_lite_chart")[0].proto.spec)
    assert len(chart["layer"]) == 3  # this day's bars, the peak's label and last week's line


def test_the_day_picker_defaults_to_the_newest_day_with_data(known_day: KnownDay):
    page = open_page("overview", known_day.mall.mall_id)
    assert page.sidebar.date_input[0].value == DAY
    page.sidebar.date_input[0].set_value(DAY.replace(day=4)).run()
    assert metrics(page)["Visitors"] == "—"
    assert "No visitor metrics for" in texts(page)


def test_shops_page_ranks_lists_searches_and_downloads(known_day: KnownDay):
    first, second = known_day.first, known_day.second
    page = open_page("shops", known_day.mall.mall_id, DAY.isoformat())
    assert not page.exception
    top, steps, every = frames(page)
    assert steps["transitions"].tolist() == [2, 1]
    assert page.get("plotly_chart")  # the journeys' Sankey
    assert top[["rank", "shop_code", "visitors"]].values.tolist() == [[1, first.shop_code, 30],
                                                                       [2, second.shop_code, 12]]
    assert len(every) == len(known_day.mall.shops)
    assert every.iloc[0][["shop_code", "visitors", "change"]].tolist() == [first.shop_code, 30, 0.5]
    assert page.selectbox(key="trend-shop").value == first.shop_code
    assert "by hour: walk-ins" in texts(page) and "(6 walk-ins, 22 walk-bys)" in texts(page)
    assert metrics(page) == {"Top shop": first.shop_name, "Visited two shops or more": "67%",
                             "Steps between shops": "3"}
    page.text_input(key="shop-search").input(second.shop_name.upper()).run()
    assert frames(page)[2]["shop_code"].tolist() == [second.shop_code]
    assert f"1 of {len(known_day.mall.shops)} shops" in texts(page)
    assert page.get("download_button")[0].proto.label == "Download CSV"


def test_journeys_walked_by_fewer_than_the_minimum_group_are_not_shown(known_day: KnownDay, monkeypatch):
    monkeypatch.setenv("FOOTFALL_MIN_GROUP_SIZE", "2")
    page = open_page("shops", known_day.mall.mall_id, DAY.isoformat())
    assert frames(page)[1]["transitions"].tolist() == [2]  # of [2, 1]
    assert "(1 steps of fewer than 2 not shown)" in texts(page)
    monkeypatch.setenv("FOOTFALL_MIN_GROUP_SIZE", "3")
    page = open_page("shops", known_day.mall.mall_id, DAY.isoformat())
    assert "No step between two shops was walked by 3 shoppers or more" in texts(page)


def test_customers_page_distributions_and_the_device_lookup(known_day: KnownDay):
    a = known_day.devices[0]
    page = open_page("customers", known_day.mall.mall_id, DAY.isoformat())
    assert not page.exception
    assert metrics(page)["Devices with a favourite shop"] == "3"
    assert metrics(page)["Most common favourite"] == known_day.first.shop_name
    repeats = frames(page)[0]
    assert repeats[["shop_code", "devices", "visits"]].values.tolist() == [
        [known_day.first.shop_code, 2, 4], [known_day.second.shop_code, 1, 3]]
    page.text_input(key="device-query").input(a.upper()).run()
    code = page.code[0].value
    message = json.loads(code)
    assert (message["device_id"], message["shop_code"], message["visits"], message["dwell_seconds"]) == (
        a, known_day.second.shop_code, 3, 900)
    assert list(message) == ["mall_id", "day", "device_id", "shop_code", "shop_name", "visits", "dwell_seconds",
                             "updated_at"]
    page.text_input(key="device-query").input("not-a-device").run()
    assert any("neither a device id" in w.value for w in page.warning)


def test_system_page_without_the_job_still_shows_rejects_outputs_staff_and_storage(known_day: KnownDay, monkeypatch):
    monkeypatch.setenv("FOOTFALL_JOB_REST_PORT", str(free_port()))
    from footfall import clients
    from footfall.staff import Override, set_override

    pg = known_day.settings.postgres
    with clients.postgres(pg) as conn:
        conn.execute(f"INSERT INTO {pg.schema_name}.staff_detected (mall_id, device_id, qualified_day, since_day) "
                     "VALUES (%s, %s, %s, %s)", (known_day.mall.mall_id, known_day.devices[0], DAY, DAY))
    set_override(pg, Override(known_day.mall.mall_id, known_day.devices[1], is_staff=False))
    page = open_page("system", known_day.mall.mall_id, DAY.isoformat())
    assert not page.exception
    assert any(e.value.startswith("The metrics job's REST API is not reachable at http://127.0.0.1:")
               for e in page.error)
    assert metrics(page)["Consumer lag"].replace(",", "").isdigit()
    stored = next(f for f in frames(page) if "output" in f and "rows" in f)
    assert dict(zip(stored["output"], stored["rows"]))["favorite_shop_daily"] == 3
    # The staff list: one detected, one an operator keeps a visitor.
    staff = next(f for f in frames(page) if "status" in f)
    assert sorted(zip(staff["device_id"], staff["status"], staff["source"])) == [
        (known_day.devices[0], "staff", "detected"), (known_day.devices[1], "visitor", "operator")]


@pytest.mark.parametrize("name", PAGES)
def test_a_mall_without_data_gets_friendly_empty_states(mall, name):
    page = open_page(name, mall.mall_id, DAY.isoformat())
    assert not page.exception
    if name == "system":
        assert "No stored results for" in texts(page)
    elif name == "live_map":
        assert "No live positions" in texts(page)
    else:
        assert "No " in texts(page) and "yet" in texts(page)


@pytest.mark.parametrize("name", PAGES)
@pytest.mark.parametrize("service, variable", [("Redis", "FOOTFALL_REDIS_PORT"),
                                               ("PostgreSQL", "FOOTFALL_POSTGRES_PORT"),
                                               ("ClickHouse", "FOOTFALL_CLICKHOUSE_PORT"),
                                               ("Kafka", "FOOTFALL_KAFKA_PORT")])
def test_a_service_down_is_one_clear_message_not_a_traceback(known_day, monkeypatch, name, service, variable):
    monkeypatch.setenv(variable, str(free_port()))
    page = open_page(name, known_day.mall.mall_id, DAY.isoformat())
    if name == "live_map" and service == "ClickHouse":  # the history is read by the replay
        page.button_group[0].set_value("Replay the day").run()
    if name == "customers" and service == "Redis":  # the feed is read by the lookup
        page.text_input(key="device-query").input(known_day.devices[0]).run()
    assert not page.exception
    reads = {
        "portfolio": {"Redis", "PostgreSQL", "ClickHouse"},
        "overview": {"Redis", "PostgreSQL", "ClickHouse"},
        "shops": {"PostgreSQL", "ClickHouse"},
        "customers": {"Redis", "PostgreSQL", "ClickHouse"},
        "system": {"Redis", "PostgreSQL", "ClickHouse", "Kafka"},
        "live_map": {"Redis", "PostgreSQL", "ClickHouse"},
    }[name]
    down = [e.value for e in page.error if e.value.startswith(f"{service} is not reachable at ")]
    assert len(down) == (1 if service in reads else 0), [e.value for e in page.error]
