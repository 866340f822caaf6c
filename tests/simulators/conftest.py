from __future__ import annotations

from datetime import datetime

import pytest

from simulators.faults import Faults
from simulators.layout import default_layout
from simulators.records import Record
from simulators.shoppers import Behaviour
from simulators.source import Simulation, SimulationConfig


def simulation(
    seed: int = 7,
    hours: float = 0.5,
    faults: Faults | None = None,
    behaviour: Behaviour | None = None,
    start: str = "2026-11-20T12:00",
    malls: int = 1,
    truth=None,
) -> list[Record]:
    """Records of a short simulation of the default malls (bounded, in memory), from a
    local time of the first mall (the lunch peak unless told)."""
    layout = default_layout(malls)
    begin = datetime.fromisoformat(start).replace(tzinfo=layout.malls[0].zone).timestamp()
    config = SimulationConfig(
        start=begin,
        end=begin + hours * 3600,
        seed=seed,
        faults=faults or Faults(),
        behaviour=behaviour or Behaviour(visitors_per_day=3000),
    )
    return list(Simulation(layout, config, truth).records())


@pytest.fixture
def simulate():
    """A factory: `simulation`."""
    return simulation
