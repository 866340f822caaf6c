"""Radio propagation: which probes hear a phone, and how loud.

Log-distance path loss with log-normal shadowing, plus a fixed loss for each shop wall
between phone and probe: RSSI = P0 - 10·n·log10(d / 1 m) - walls·wall_loss + N(0, σ).
Nothing below the probes' sensitivity is heard.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from simulators.layout import Mall

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class RadioModel:
    #: RSSI at 1 m, dBm.
    p0: float = -45.0
    #: Path-loss exponent (2 in free space, 2.2-3 indoors).
    exponent: float = 2.7
    #: Shadowing standard deviation, dB.
    shadowing: float = 6.0
    #: Extra loss through each shop wall, dB.
    wall_loss: float = 7.0
    #: Probes hear nothing weaker, dBm.
    sensitivity: float = -95.0

    def __post_init__(self) -> None:
        if not 1.5 <= self.exponent <= 5:
            raise ValueError(f"path-loss exponent {self.exponent} is outside 1.5..5")
        if self.shadowing < 0:
            raise ValueError("shadowing must be >= 0 dB")

    def mean_rssi(self, distance: Floats, walls: Floats) -> Floats:
        rssi: Floats = self.p0 - 10 * self.exponent * np.log10(np.maximum(distance, 1.0)) - self.wall_loss * walls
        return rssi


class MallRadio:
    """The probes of one mall as arrays, so one phone's probe request is one vector step."""

    def __init__(self, mall: Mall, model: RadioModel) -> None:
        self.model = model
        self.macs = [probe.ap_mac for probe in mall.probes]
        self.x = np.array([probe.x for probe in mall.probes])
        self.y = np.array([probe.y for probe in mall.probes])
        codes = {shop.shop_code: i for i, shop in enumerate(mall.shops)}
        self.shop = np.array([codes.get(probe.shop_code, -1) if probe.shop_code else -1 for probe in mall.probes])

    def hear(
        self, x: float, y: float, shop_index: int, rng: np.random.Generator
    ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.int_]]:
        """Indices of the probes that hear a phone at (x, y) and their integer RSSI."""
        distance = np.hypot(self.x - x, self.y - y)
        # A wall between a phone and a probe in different places, one more if both are in shops.
        walls = (self.shop != shop_index) * ((self.shop >= 0).astype(np.int8) + (shop_index >= 0))
        rssi = self.model.mean_rssi(distance, walls) + rng.normal(0.0, self.model.shadowing, len(distance))
        heard = np.nonzero(rssi >= self.model.sensitivity)[0]
        return heard, np.clip(np.rint(rssi[heard]), -120, 0).astype(int)
