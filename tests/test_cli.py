import socket

from tests.helpers import footfall


def test_help_lists_the_commands() -> None:
    result = footfall("--help")
    assert result.returncode == 0
    for command in ("up", "down", "status", "bootstrap", "demo"):
        assert command in result.stdout


def test_a_taken_port_is_one_line_naming_the_port_and_its_variable(tmp_path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        result = footfall(
            "up",
            env={
                "FOOTFALL_LOCAL_SERVICES": "redis",
                "FOOTFALL_REDIS_PORT": str(port),
                "FOOTFALL_VAR_DIR": str(tmp_path),
            },
        )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert f"port {port}" in result.stderr and "FOOTFALL_REDIS_PORT" in result.stderr
    assert not (tmp_path / "redis" / "redis.pid").exists()  # nothing was started


def test_a_bad_setting_is_one_line_naming_the_variable() -> None:
    result = footfall("status", env={"FOOTFALL_CLICKHOUSE_PORT": "nine thousand"})
    assert result.returncode == 2
    assert result.stderr.startswith("footfall: error: FOOTFALL_CLICKHOUSE_PORT=")
    assert result.stderr.count("\n") == 1


def test_a_service_that_does_not_answer_is_reported_not_raised(tmp_path) -> None:
    env = {
        "FOOTFALL_LOCAL_SERVICES": "redis",
        "FOOTFALL_VAR_DIR": str(tmp_path),
        "FOOTFALL_CLICKHOUSE_PORT": "1",  # nothing listens there
    }
    result = footfall("bootstrap", env=env, timeout=60)
    assert result.returncode == 1
    assert result.stderr.startswith("footfall: error:") and "Traceback" not in result.stderr


def test_simulate_hands_everything_to_the_simulator() -> None:
    result = footfall("simulate", "run", "--help")
    assert result.returncode == 0 and "--speedup" in result.stdout
    bad = footfall("simulate", "run", "--rate", "fast")
    assert bad.returncode == 2 and "--rate" in bad.stderr and bad.stderr.count("\n") == 1


def test_a_bad_demo_plan_is_one_line_naming_the_option(tmp_path) -> None:
    result = footfall("demo", "--malls", "0", env={"FOOTFALL_VAR_DIR": str(tmp_path)})
    assert result.returncode == 1
    assert result.stderr == "footfall: error: --malls must be between 1 and 8, got 0\n"
    assert not (tmp_path / "demo").exists()


def test_reset_asks_for_confirmation_and_a_script_must_say_yes(tmp_path) -> None:
    result = footfall("reset", env={"FOOTFALL_VAR_DIR": str(tmp_path)})
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert "confirm with --yes" in result.stderr
