"""The sales rules on their own (footfall/sales.py, footfall/pos_file.py): money in each
currency's minor units, a till's habit, and a CSV file checked row by row."""

from __future__ import annotations

from pathlib import Path

from footfall import pos_file, sales


def test_money_is_written_in_the_currency_s_own_minor_units() -> None:
    assert sales.money(123450, "EUR") == "€1,234.50"
    assert sales.money(123456, "JPY") == "¥123,456"
    assert sales.money(1250, "AUD") == "A$12.50"
    assert sales.money(None, "EUR") == "—" and sales.money(float("nan"), "EUR") == "—"
    assert sales.major(1250, "EUR") == 12.5 and sales.major(1250, "JPY") == 1250
    assert sales.minor_digits("KWD") == 3


def test_an_hour_is_usual_for_a_till_after_three_days_of_sales_in_half_of_them() -> None:
    visited = [("A", d, 14) for d in range(4)] + [("B", d, 9) for d in range(2)]
    habit = sales.till_habit(visited, [("A", 0, 14), ("A", 1, 14), ("B", 0, 9), ("B", 1, 9), ("A", 9, 14)])
    assert habit.usual("A", 14)  # 2 of 4 days (a sale on a day without visitors is not counted)
    assert not habit.usual("B", 9)  # 2 of 2, but fewer than 3 days
    assert not habit.usual("A", 15)
    assert sales.no_sales_data(5, 0, 0, True) and not sales.no_sales_data(5, 0, 1, True)
    assert not sales.no_sales_data(0, 0, 0, True) and not sales.no_sales_data(5, 0, 0, False)
    assert sales.conversion(3, 0) is None and sales.conversion(3, 12) == 0.25


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sales.csv"
    path.write_text(text)
    return path


def test_a_file_is_checked_row_by_row_and_each_error_names_its_line_and_field(tmp_path: Path) -> None:
    header = "transaction_id,mall_id,shop_code,occur_time,amount_minor,currency,items,till_id\n"
    good, errors, repeats = pos_file.read(write(tmp_path, header
        + "t1,m1,S1,2026-12-05T14:03:00+01:00,1250,EUR,2,S1-1\n"
        + "t2,m1,S1,1764939780000,-500,EUR,1,\n"
        + "t1,m1,S1,2026-12-05T14:03:00+01:00,1250,EUR,2,S1-1\n"  # the same again: left out
        + "t3,m1,S1,2026-12-05T14:03:00,900,EUR,1,\n"  # no offset
        + "t4,m1,S1,1764939780000,12.50,EUR,1,\n"
        + "t5,m1,S1,1764939780000,0,EUR,1,\n"
        + "t6,m1,S1,1764939780000,100,eur,1,\n"
        + "t7,m1,,1764939780000,100,EUR,1,\n"
        + "t1,m1,S1,1764939780000,1,EUR,1,\n"))  # fmt: skip
    assert [t.message["transaction_id"] for t in good] == ["t1", "t2"] and repeats == 1
    assert good[0].message == {"transaction_id": "t1", "mall_id": "m1", "shop_code": "S1",
                               "occur_time": 1796475780000, "amount_minor": 1250, "currency": "EUR", "items": 2,
                               "till_id": "S1-1"}
    assert "till_id" not in good[1].message
    assert [(e.line, e.field) for e in errors] == [(5, "occur_time"), (6, "amount_minor"), (7, "amount_minor"),
                                                   (8, "currency"), (9, "shop_code"), (10, "transaction_id")]
    assert "no UTC offset" in str(errors[0]) and str(errors[1]).startswith("line 6, amount_minor: '12.50'")


def test_a_file_without_a_required_column_is_one_error_and_the_layout_is_checked(tmp_path: Path) -> None:
    _, errors, _ = pos_file.read(write(tmp_path, "transaction_id,mall_id,occur_time\nt1,m1,1\n"))
    assert [str(e) for e in errors] == [
        "line 1, shop_code, amount_minor, currency, items: missing from the header row"]
    good, _, _ = pos_file.read(write(tmp_path, "transaction_id,mall_id,shop_code,occur_time,amount_minor,currency,"
                                               "items\nt1,m1,S1,1,100,EUR,1\nt2,m2,S1,1,100,EUR,1\n"
                                               "t3,m1,S9,1,100,EUR,1\nt4,m1,S1,1,100,USD,1\n"))
    problems = pos_file.against_layout(good, {"m1": "EUR"}, {("m1", "S1")})
    assert [(e.line, e.field) for e in problems] == [(3, "mall_id"), (4, "shop_code"), (5, "currency")]
