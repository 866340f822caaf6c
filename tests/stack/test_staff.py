"""`footfall staff`: the staff list operators read, and the overrides they write, against
the stack's PostgreSQL (the job reads the same tables: udfs/java Layout.java)."""

from __future__ import annotations

from datetime import date

from footfall import clients
from footfall.settings import Settings
from tests.helpers import footfall


def test_an_override_wins_over_the_detection_and_clearing_it_restores_it(stack: Settings, unique: str) -> None:
    mall, schema = f"mall-staff-{unique}", stack.postgres.schema_name
    with clients.postgres(stack.postgres) as conn:
        conn.execute(f"INSERT INTO {schema}.staff_detected (mall_id, device_id, qualified_day, since_day) "
                     "VALUES (%s, 'aaaaaaaaaaaaaaaa', '2026-11-03', '2026-11-04')", (mall,))
    try:
        listed = footfall("staff", "list", "--mall", mall)
        assert listed.returncode == 0, listed.stderr
        assert "aaaaaaaaaaaaaaaa     staff    from 2026-11-04  detected" in listed.stdout
        assert listed.stdout.endswith("1 device\n")

        kept = footfall("staff", "set", "--mall", mall, "--device", "aaaaaaaaaaaaaaaa", "--as", "visitor",
                        "--note", "the cleaner's phone is a shopper's")
        assert kept.returncode == 0, kept.stderr
        made = footfall("staff", "set", "--mall", mall, "--device", "bbbbbbbbbbbbbbbb", "--as", "staff",
                        "--since", "2026-11-20", "--note", "kiosk")
        assert made.returncode == 0, made.stderr
        rows = {row[1]: row for row in footfall_list(stack, mall)}
        assert rows["aaaaaaaaaaaaaaaa"][2:6] == ("visitor", None, date(2026, 11, 3), "detected, overridden")
        assert rows["bbbbbbbbbbbbbbbb"][2:7] == ("staff", date(2026, 11, 20), None, "operator", "kiosk")

        cleared = footfall("staff", "clear", "--mall", mall, "--device", "aaaaaaaaaaaaaaaa")
        assert cleared.returncode == 0 and cleared.stdout == "override removed\n"
        assert {row[1]: row[2:4] for row in footfall_list(stack, mall)} == {
            "aaaaaaaaaaaaaaaa": ("staff", date(2026, 11, 4)), "bbbbbbbbbbbbbbbb": ("staff", date(2026, 11, 20))}
    finally:
        with clients.postgres(stack.postgres) as conn:
            for table in ("staff_detected", "staff_overrides"):
                conn.execute(f"DELETE FROM {schema}.{table} WHERE mall_id = %s", (mall,))


def footfall_list(stack: Settings, mall: str) -> list[tuple[object, ...]]:
    from footfall.staff import staff_list

    return staff_list(stack.postgres, mall)


def test_a_bad_staff_command_is_one_line_naming_what_to_give() -> None:
    missing = footfall("staff", "set", "--mall", "m", "--device", "d")
    assert missing.returncode == 1 and missing.stderr == "footfall: error: staff set: give --as staff or --as visitor\n"
    bad_day = footfall("staff", "set", "--mall", "m", "--device", "d", "--as", "staff", "--since", "monday")
    assert bad_day.returncode == 2 and "--since" in bad_day.stderr and "not a date" in bad_day.stderr
    no_device = footfall("staff", "clear", "--mall", "m")
    assert no_device.returncode == 1 and no_device.stderr == "footfall: error: staff clear: give --mall and --device\n"
