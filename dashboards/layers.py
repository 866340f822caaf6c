"""pydeck layers of the live map: the floor plan from the layout and the density heatmap.

The layout is in metres from the mall's origin; deck.gl draws longitude/latitude, so
points are placed by a local flat projection around the origin (exact to centimetres at
mall scale). There is no base map (no tiles to fetch): the shops, corridor, probes and
entrances drawn here are the map.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd
import pydeck as pdk

from dashboards.data import MallLayout

METRES_PER_DEGREE = 111_320.0
SHOP_FILL = [226, 232, 240]
SHOP_LINE = [71, 85, 105]
FLOOR_FILL = [248, 250, 252]
SILENT_COLOUR = [220, 38, 38, 255]
PROBE_COLOUR = [37, 99, 235]
ENTRANCE_COLOUR = [22, 163, 74]
TEXT_COLOUR = [30, 41, 59]
#: Heat from few (pale yellow) to many (deep red) devices.
HEAT_COLOURS = [[255, 255, 178], [254, 217, 118], [254, 178, 76], [253, 141, 60], [240, 59, 32], [189, 0, 38]]


def lnglat(layout: MallLayout, x: float, y: float) -> list[float]:
    lat = layout.origin_lat + y / METRES_PER_DEGREE
    lon = layout.origin_lon + x / (METRES_PER_DEGREE * math.cos(math.radians(layout.origin_lat)))
    return [lon, lat]


def with_lnglat(layout: MallLayout, frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with a `position` column [lon, lat] from its x and y."""
    return frame.assign(position=[lnglat(layout, x, y) for x, y in zip(frame["x"], frame["y"])])


def extent(layout: MallLayout) -> tuple[float, float, float, float]:
    """x0, y0, x1, y1 (metres) around every shop, probe and entrance."""
    xs = (
        [x for polygon in layout.shops["polygon"] for x, _ in polygon]
        + list(layout.probes["x"])
        + list(layout.entrances["x"])
    )
    ys = (
        [y for polygon in layout.shops["polygon"] for _, y in polygon]
        + list(layout.probes["y"])
        + list(layout.entrances["y"])
    )
    if not xs:
        return 0.0, 0.0, 100.0, 100.0
    return min(xs), min(ys), max(xs), max(ys)


def view(layout: MallLayout, width_px: int = 900) -> pdk.ViewState:
    """Centred on the mall, zoomed so that its width fills about `width_px` pixels."""
    x0, y0, x1, y1 = extent(layout)
    lon, lat = lnglat(layout, (x0 + x1) / 2, (y0 + y1) / 2)
    metres = max(x1 - x0, (y1 - y0) * 2, 20.0) * 1.1
    # At zoom z one pixel spans 78271.5 * cos(lat) / 2^z metres (deck.gl: 512-pixel tiles).
    zoom = math.log2(width_px * 78_271.5 * math.cos(math.radians(lat)) / metres)
    return pdk.ViewState(longitude=lon, latitude=lat, zoom=zoom, pitch=0, bearing=0)


def floor_plan(layout: MallLayout) -> list[pdk.Layer]:
    x0, y0, x1, y1 = extent(layout)
    floor = pd.DataFrame({"polygon": [[lnglat(layout, x, y) for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1))]]})
    shops = layout.shops.assign(
        outline=[[lnglat(layout, x, y) for x, y in polygon] for polygon in layout.shops["polygon"]],
        centre=[lnglat(layout, *_centre(polygon)) for polygon in layout.shops["polygon"]],
        angle=[90 if _tall(polygon) else 0 for polygon in layout.shops["polygon"]],
    )[["shop_code", "shop_name", "category", "outline", "centre", "angle"]]
    entrances = with_lnglat(layout, layout.entrances)[["sensor_id", "name", "position"]]
    return [
        pdk.Layer(
            "PolygonLayer",
            floor,
            id="floor",
            get_polygon="polygon",
            get_fill_color=FLOOR_FILL,
            get_line_color=SHOP_LINE,
            line_width_min_pixels=2,
            stroked=True,
        ),
        pdk.Layer(
            "PolygonLayer",
            shops,
            id="shops",
            get_polygon="outline",
            get_fill_color=SHOP_FILL,
            get_line_color=SHOP_LINE,
            line_width_min_pixels=1,
            stroked=True,
            pickable=True,
        ),
        # Shops are narrow and deep: a name runs along the longer side.
        pdk.Layer(
            "TextLayer",
            shops,
            id="shop-names",
            get_position="centre",
            get_text="shop_name",
            get_angle="angle",
            get_color=TEXT_COLOUR,
            get_size=10,
            size_units="'pixels'",
            get_alignment_baseline="'center'",
        ),
        pdk.Layer(
            "ScatterplotLayer",
            with_lnglat(layout, layout.probes)[["ap_mac", "shop_code", "position"]],
            id="probes",
            get_position="position",
            get_fill_color=PROBE_COLOUR,
            get_radius=0.8,
            radius_min_pixels=2,
            pickable=True,
        ),
        pdk.Layer(
            "ScatterplotLayer",
            entrances,
            id="entrances",
            get_position="position",
            get_fill_color=ENTRANCE_COLOUR,
            get_radius=2.5,
            radius_min_pixels=5,
            pickable=True,
        ),
        pdk.Layer(
            "TextLayer",
            entrances,
            id="entrance-names",
            get_position="position",
            get_text="name",
            get_color=ENTRANCE_COLOUR,
            get_size=12,
            size_units="'pixels'",
            get_pixel_offset=[0, 14],
        ),
    ]


def heat(layout: MallLayout, positions: pd.DataFrame) -> pdk.Layer:
    """Density of devices: each live position weighs one."""
    return pdk.Layer(
        "HeatmapLayer",
        with_lnglat(layout, positions)[["position"]],
        id="heat",
        get_position="position",
        get_weight=1,
        radius_pixels=35,
        intensity=1.5,
        threshold=0.03,
        color_range=HEAT_COLOURS,
        opacity=0.75,
    )


def silent(layout: MallLayout, silent_probes: Sequence[str]) -> pdk.Layer:
    """The probes an open probe_silent alert names, ringed in red over the floor plan."""
    probes = layout.probes[layout.probes["ap_mac"].isin(silent_probes)]
    return pdk.Layer(
        "ScatterplotLayer",
        with_lnglat(layout, probes)[["ap_mac", "shop_code", "position"]].assign(name="silent probe "),
        id="silent-probes",
        get_position="position",
        get_fill_color=[0, 0, 0, 0],
        get_line_color=SILENT_COLOUR,
        stroked=True,
        line_width_min_pixels=3,
        get_radius=3,
        radius_min_pixels=9,
        pickable=True,
    )


def deck(layout: MallLayout, positions: pd.DataFrame, silent_probes: Sequence[str] = ()) -> pdk.Deck:
    """The floor plan, the live positions' heat, and the silent probes ringed in red."""
    layers = floor_plan(layout)
    if not positions.empty:
        layers.append(heat(layout, positions))
    if silent_probes:
        layers.append(silent(layout, silent_probes))
    return pdk.Deck(
        layers=layers, initial_view_state=view(layout), map_style=None, tooltip={"text": "{shop_name}{name}{ap_mac}"}
    )


def _tall(polygon: list[list[float]]) -> bool:
    xs, ys = [p[0] for p in polygon], [p[1] for p in polygon]
    return max(ys) - min(ys) > max(xs) - min(xs)


def _centre(polygon: list[list[float]]) -> tuple[float, float]:
    """The centre of a shop's bounding box: where its name goes."""
    xs, ys = [p[0] for p in polygon], [p[1] for p in polygon]
    return (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
