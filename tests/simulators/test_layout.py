import json

import pytest

from footfall.geometry import contains
from simulators.layout import Layout, LayoutError, default_layout


def test_the_default_mall_is_big_enough_for_a_real_demo() -> None:
    mall = default_layout().malls[0]
    assert len(mall.shops) >= 40
    assert len(mall.probes) >= 80
    corridor = [p for p in mall.probes if p.shop_code is None]
    assert len(corridor) >= 20
    assert len(mall.entrances) >= 2
    assert mall.tz == "Europe/Amsterdam" and -90 <= mall.origin_lat <= 90


def test_every_shop_probe_stands_inside_its_shop() -> None:
    mall = default_layout().malls[0]
    shops = {s.shop_code: s for s in mall.shops}
    for probe in mall.probes:
        if probe.shop_code:
            assert shops[probe.shop_code].contains(probe.x, probe.y), probe
            assert mall.shop_at(probe.x, probe.y).shop_code == probe.shop_code
        else:
            assert mall.shop_at(probe.x, probe.y) is None


def test_some_shops_are_concave() -> None:
    concave = [s for s in default_layout().malls[0].shops if len(s.polygon) > 4]
    assert len(concave) >= 5


def test_several_malls_have_their_own_ids_zones_and_probe_macs() -> None:
    layout = default_layout(3)
    assert len({m.mall_id for m in layout.malls}) == 3
    assert len({m.tz for m in layout.malls}) == 3
    macs = [p.ap_mac for m in layout.malls for p in m.probes]
    assert len(macs) == len(set(macs))


def test_a_layout_round_trips_through_json(tmp_path) -> None:
    layout = default_layout(2)
    layout.save(tmp_path / "mall.json")
    assert Layout.load(tmp_path / "mall.json") == layout


def _broken(edit) -> str:
    data = json.loads(default_layout().to_json())
    edit(data["malls"][0])
    return json.dumps(data)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m.update(tz="Mars/Olympus"), "unknown time zone"),
        (lambda m: m["probes"][0].update(shop_code="NOPE"), "unknown shop 'NOPE'"),
        (lambda m: m["probes"].append(dict(m["probes"][0])), "appears twice"),
        (lambda m: m["shops"][0].update(polygon=[[0, 0], [1, 1]]), "at least 3 points"),
        (lambda m: m.pop("shops"), "not a Footfall layout"),
        (lambda m: m.update(entrances=[]), "at least one entrance"),
    ],
)
def test_a_broken_layout_is_one_line_naming_the_problem(edit, message) -> None:
    with pytest.raises(LayoutError, match=message) as raised:
        Layout.from_json(_broken(edit))
    assert "\n" not in str(raised.value)


L_SHAPE = ((0, 0), (10, 0), (10, 4), (4, 4), (4, 10), (0, 10))


@pytest.mark.parametrize(
    ("x", "y", "inside"),
    [
        (2, 2, True),
        (8, 2, True),
        (2, 8, True),
        (8, 8, False),  # the notch of the L
        (10, 2, True),  # on an edge
        (4, 7, True),  # on the inner edge
        (4, 4, True),  # on the concave vertex
        (0, 0, True),  # on a corner
        (11, 2, False),
        (-0.01, 5, False),
    ],
)
def test_point_in_polygon_handles_concave_shapes_edges_and_vertices(x, y, inside) -> None:
    assert contains(L_SHAPE, x, y) is inside


@pytest.mark.parametrize("density,spacing", [("20m", 20.0), ("15m", 15.0)])
def test_a_density_puts_a_probe_every_so_many_metres_and_several_in_a_large_shop(density, spacing) -> None:
    from simulators.layout import default_mall

    mall = default_mall(0, density)
    shops = {s.shop_code: s for s in mall.shops}
    corridor = sorted(p.x for p in mall.probes if p.shop_code is None)
    gaps = [b - a for a, b in zip(corridor, corridor[1:], strict=False)]
    assert gaps and max(gaps) <= spacing and corridor[0] <= spacing and mall.width - corridor[-1] <= spacing
    per_shop = {code: [p for p in mall.probes if p.shop_code == code] for code in shops}
    for code, probes in per_shop.items():
        x0, y0, x1, y1 = shops[code].bbox
        assert all(shops[code].contains(p.x, p.y) for p in probes)
        # Every point of a (rectangular) shop is within a spacing of one of its probes.
        if len(shops[code].polygon) == 4:
            assert probes and all(min(max(abs(p.x - x), abs(p.y - y)) for p in probes) <= spacing / 2 + 1e-6
                                  for x in (x0, x1) for y in (y0, y1))
    assert min(len(p) for p in per_shop.values()) >= 2  # 30 m deep shops: two or more each
    assert len({p.ap_mac for p in mall.probes}) == len(mall.probes)
    with pytest.raises(LayoutError, match="density"):
        default_mall(0, "10m")


def test_a_layout_without_doors_gets_each_shop_a_door_on_its_wall_facing_the_corridor() -> None:
    mall = default_layout().malls[0]
    data = json.loads(Layout((mall,)).to_json())
    for shop in data["malls"][0]["shops"]:
        del shop["door"]
    loaded = Layout.from_json(json.dumps(data)).malls[0]
    # The built-in doors are the middles of the walls on the corridor: the same again.
    assert [s.door for s in loaded.shops] == [pytest.approx(s.door, abs=0.011) for s in mall.shops]
    data["malls"][0]["shops"][0]["door"] = [mall.shops[0].door[0], mall.shops[0].door[1] - 5.0]
    with pytest.raises(LayoutError, match="S001.*door .* is not on its wall"):
        Layout.from_json(json.dumps(data))
