import numpy as np
import pytest

from simulators.layout import default_layout
from simulators.radio import MallRadio, RadioModel


def test_mean_rssi_falls_with_distance_and_with_walls() -> None:
    model = RadioModel()
    distances = np.array([1.0, 5.0, 10.0, 20.0, 40.0])
    open_air = model.mean_rssi(distances, np.zeros(5))
    assert np.all(np.diff(open_air) < 0)
    assert open_air[0] == pytest.approx(model.p0)
    assert np.all(model.mean_rssi(distances, np.ones(5)) == open_air - model.wall_loss)


def test_sampled_rssi_falls_with_distance_and_through_shop_walls() -> None:
    mall = default_layout().malls[0]
    radio = MallRadio(mall, RadioModel())
    rng = np.random.default_rng(3)
    shop_probe = next(i for i, p in enumerate(mall.probes) if p.shop_code)
    probe = mall.probes[shop_probe]
    shop_index = next(i for i, s in enumerate(mall.shops) if s.shop_code == probe.shop_code)

    def mean_level(x, y, shop):
        levels = []
        for _ in range(400):
            heard, rssi = radio.hear(x, y, shop, rng)
            levels.extend(rssi[heard == shop_probe])
        return np.mean(levels)

    near, far = mean_level(probe.x + 1, probe.y, shop_index), mean_level(probe.x + 1, probe.y + 8, shop_index)
    assert near > far + 10
    # The same spot seen as "in the shop" vs "outside it": the wall costs its loss.
    inside, outside = mean_level(probe.x + 3, probe.y, shop_index), mean_level(probe.x + 3, probe.y, -1)
    assert inside - outside == pytest.approx(RadioModel().wall_loss, abs=1.5)


def test_nothing_below_the_sensitivity_is_heard_and_levels_are_valid_dbm() -> None:
    radio = MallRadio(default_layout().malls[0], RadioModel())
    rng = np.random.default_rng(4)
    for x in range(0, 240, 20):
        heard, rssi = radio.hear(float(x), 48.0, -1, rng)
        assert np.all(rssi >= -95) and np.all(rssi <= 0)
        assert 0 < len(heard) < len(radio.macs)  # far probes do not hear it


@pytest.mark.parametrize("exponent", [1.0, 6.0])
def test_an_unphysical_path_loss_exponent_is_refused(exponent) -> None:
    with pytest.raises(ValueError, match="exponent"):
        RadioModel(exponent=exponent)
