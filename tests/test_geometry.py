"""Point in polygon, zones and the weighted centroid (docs/design.md §4 item 9)."""

from __future__ import annotations

import pytest

from footfall.geometry import CORRIDOR, contains, weighted_centroid, zone_of

SQUARE = ((0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0))
# An L: the square without its top-right quarter (the notch is x > 5 and y > 5).
L_SHAPE = ((0.0, 0.0), (10.0, 0.0), (10.0, 5.0), (5.0, 5.0), (5.0, 10.0), (0.0, 10.0))
DIAMOND = ((5.0, 0.0), (10.0, 5.0), (5.0, 10.0), (0.0, 5.0))


@pytest.mark.parametrize(("x", "y", "inside"), [
    (5, 5, True), (0.001, 9.999, True), (-0.001, 5, False), (10.001, 5, False), (5, 10.5, False),
])
def test_convex(x: float, y: float, inside: bool) -> None:
    assert contains(SQUARE, x, y) is inside


@pytest.mark.parametrize(("x", "y", "inside"), [
    (2, 8, True), (8, 2, True), (2, 2, True),  # both arms and the corner
    (7, 7, False), (9.9, 9.9, False), (5.001, 5.001, False),  # the notch
])
def test_concave(x: float, y: float, inside: bool) -> None:
    assert contains(L_SHAPE, x, y) is inside


@pytest.mark.parametrize(("x", "y"), [
    (5, 0), (10, 7), (0, 0), (10, 10), (0, 10),  # edges and corners of the square
])
def test_points_on_edges_and_vertices_are_inside(x: float, y: float) -> None:
    assert contains(SQUARE, x, y)


@pytest.mark.parametrize(("x", "y"), [(5, 5), (7.5, 5), (5, 7.5), (10, 5)])
def test_the_inner_corner_and_notch_edges_of_a_concave_shop_are_inside(x: float, y: float) -> None:
    assert contains(L_SHAPE, x, y)


def test_a_ray_through_a_vertex_is_counted_once() -> None:
    # The ray from (2, 5) to +x passes exactly through the vertex (10, 5).
    assert contains(DIAMOND, 2, 5)
    assert not contains(DIAMOND, -1, 5)
    assert contains(DIAMOND, 0, 5)  # the vertex itself


def test_degenerate_polygons_contain_nothing() -> None:
    assert not contains(((0.0, 0.0), (1.0, 1.0)), 0.5, 0.5)


def test_zone_is_the_containing_shop_else_the_corridor() -> None:
    shops = [("B", L_SHAPE), ("A", ((20.0, 0.0), (30.0, 0.0), (30.0, 10.0), (20.0, 10.0)))]
    assert zone_of(2, 8, shops) == "B"
    assert zone_of(25, 5, shops) == "A"
    assert zone_of(7, 7, shops) == CORRIDOR
    assert zone_of(15, 5, shops) == CORRIDOR


def test_a_point_on_a_shared_wall_goes_to_the_first_shop_by_code() -> None:
    left = ((0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0))
    right = ((10.0, 0.0), (20.0, 0.0), (20.0, 10.0), (10.0, 10.0))
    assert zone_of(10, 5, [("S2", left), ("S1", right)]) == "S1"
    assert zone_of(10, 5, [("S1", right), ("S2", left)]) == "S1"


def test_equidistant_probes_of_equal_strength_land_on_their_centroid() -> None:
    x, y = weighted_centroid([(0, 0, -60), (6, 0, -60), (3, 6, -60)])
    assert (x, y) == pytest.approx((3, 2))


def test_a_stronger_probe_pulls_the_position_ten_times_per_10_db() -> None:
    x, y = weighted_centroid([(0, 0, -50), (11, 0, -60)])
    assert (x, y) == pytest.approx((1, 0))  # weights 10:1
    assert weighted_centroid([]) is None
