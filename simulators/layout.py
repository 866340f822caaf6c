"""The mall model: shops as polygons, WiFi probes, entrances with door counters.

Coordinates are metres from the mall's origin (docs/design.md §3). A layout is plain data:
`Layout.to_json()` / `Layout.from_json()` let users describe their own mall, and
`default_layout()` builds the demo malls deterministically.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from footfall.geometry import contains

Point = tuple[float, float]


class LayoutError(ValueError):
    """A layout file is not valid; the message names the offending item."""


@dataclass(frozen=True)
class Shop:
    shop_code: str
    shop_name: str
    category: str
    polygon: tuple[Point, ...]
    #: Where the shop opens onto the corridor, on its wall: people go in and out only
    #: here (a layout file without one gets the middle of the wall nearest the corridor).
    door: Point

    def contains(self, x: float, y: float) -> bool:
        return contains(self.polygon, x, y)

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        xs = [p[0] for p in self.polygon]
        ys = [p[1] for p in self.polygon]
        return min(xs), min(ys), max(xs), max(ys)


@dataclass(frozen=True)
class Probe:
    ap_mac: str
    x: float
    y: float
    shop_code: str | None = None  # None: a corridor probe
    floor: int = 0
    #: A corridor probe's shops whose fronts it hears: a device heard here walked by them
    #: (docs/design.md §4 item 2; PostgreSQL shop_fronts).
    fronts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Entrance:
    sensor_id: str
    name: str
    x: float
    y: float


@dataclass(frozen=True)
class Mall:
    mall_id: str
    name: str
    tz: str
    origin_lat: float
    origin_lon: float
    width: float
    depth: float
    #: The walkable corridor as (x0, y0, x1, y1); shops open onto it.
    corridor: tuple[float, float, float, float]
    shops: tuple[Shop, ...]
    probes: tuple[Probe, ...]
    entrances: tuple[Entrance, ...]
    opening_hour: int = 9
    closing_hour: int = 22
    #: The simulator's arrivals: this mall's share of `Behaviour.visitors_per_day` (its
    #: size), and a factor for each weekday, Monday first (its week). The job ignores both.
    traffic: float = 1.0
    weekly: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0, 1.0, 1.4, 1.4)
    #: The currency its tills report in (ISO 4217): transactions in another are turned away.
    currency: str = "EUR"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    def shop_at(self, x: float, y: float) -> Shop | None:
        for shop in self.shops:
            x0, y0, x1, y1 = shop.bbox
            if x0 <= x <= x1 and y0 <= y <= y1 and shop.contains(x, y):
                return shop
        return None


@dataclass(frozen=True)
class Layout:
    malls: tuple[Mall, ...] = field(default_factory=tuple)

    def mall(self, mall_id: str) -> Mall:
        for mall in self.malls:
            if mall.mall_id == mall_id:
                return mall
        raise KeyError(mall_id)

    def to_json(self) -> str:
        return json.dumps({"malls": [asdict(mall) for mall in self.malls]}, indent=1)

    def save(self, path: Path) -> None:
        path.write_text(self.to_json() + "\n")

    @classmethod
    def from_json(cls, text: str) -> Layout:
        try:
            data = json.loads(text)
            malls = tuple(_mall_from_dict(item) for item in data["malls"])
        except (KeyError, TypeError, ValueError) as err:
            raise LayoutError(f"not a Footfall layout: {type(err).__name__} {err}") from None
        layout = cls(malls)
        validate(layout)
        return layout

    @classmethod
    def load(cls, path: Path) -> Layout:
        try:
            return cls.from_json(path.read_text())
        except OSError as err:
            raise LayoutError(f"cannot read layout {path}: {err.strerror}") from None


def _pt(value: Any) -> Point:
    x, y = value
    return (float(x), float(y))


def door_of(polygon: tuple[Point, ...], corridor: tuple[float, float, float, float]) -> Point:
    """A shop's door where a layout names none: the middle of its wall nearest the
    corridor (of the walls as long as a door at least, 1 m)."""
    x0, y0, x1, y1 = corridor

    def distance(point: Point) -> float:
        return math.hypot(max(x0 - point[0], 0.0, point[0] - x1), max(y0 - point[1], 0.0, point[1] - y1))

    walls = [(polygon[i], polygon[(i + 1) % len(polygon)]) for i in range(len(polygon))]
    middles = [((a[0] + b[0]) / 2, (a[1] + b[1]) / 2) for a, b in walls if math.dist(a, b) >= 1.0] or [polygon[0]]
    x, y = min(middles, key=distance)
    return round(x, 2), round(y, 2)


def _shop_from_dict(item: dict[str, Any], corridor: tuple[float, float, float, float]) -> Shop:
    polygon = tuple(_pt(p) for p in item["polygon"])
    door = _pt(item["door"]) if "door" in item else door_of(polygon, corridor)
    return Shop(item["shop_code"], item["shop_name"], item["category"], polygon, door)


def _mall_from_dict(item: dict[str, Any]) -> Mall:
    x0, y0, x1, y1 = (float(v) for v in item["corridor"])
    corridor = (x0, y0, x1, y1)
    shops = tuple(_shop_from_dict(s, corridor) for s in item["shops"])
    probes = tuple(
        Probe(p["ap_mac"].lower(), float(p["x"]), float(p["y"]), p.get("shop_code"), int(p.get("floor", 0)),
              tuple(p.get("fronts", ())))
        for p in item["probes"]
    )
    entrances = tuple(Entrance(e["sensor_id"], e["name"], float(e["x"]), float(e["y"])) for e in item["entrances"])
    return Mall(
        mall_id=item["mall_id"],
        name=item["name"],
        tz=item["tz"],
        origin_lat=float(item["origin_lat"]),
        origin_lon=float(item["origin_lon"]),
        width=float(item["width"]),
        depth=float(item["depth"]),
        corridor=corridor,
        shops=shops,
        probes=probes,
        entrances=entrances,
        opening_hour=int(item.get("opening_hour", 9)),
        closing_hour=int(item.get("closing_hour", 22)),
        traffic=float(item.get("traffic", 1.0)),
        weekly=tuple(float(v) for v in item.get("weekly", Mall.weekly)),
        currency=str(item.get("currency", Mall.currency)),
    )


def validate(layout: Layout) -> None:
    """Raise LayoutError naming the first inconsistency."""
    seen_macs: set[str] = set()
    seen_malls: set[str] = set()
    for mall in layout.malls:
        where = f"mall {mall.mall_id!r}"
        if mall.mall_id in seen_malls:
            raise LayoutError(f"{where}: duplicate mall_id")
        seen_malls.add(mall.mall_id)
        try:
            ZoneInfo(mall.tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise LayoutError(f"{where}: unknown time zone {mall.tz!r}") from None
        if not 0 <= mall.opening_hour < mall.closing_hour <= 24:
            raise LayoutError(f"{where}: opening hours {mall.opening_hour}-{mall.closing_hour} are not a day")
        if not (len(mall.currency) == 3 and mall.currency.isascii() and mall.currency.isupper()):
            raise LayoutError(f"{where}: currency {mall.currency!r} is not an ISO 4217 code such as 'EUR'")
        if mall.traffic < 0 or len(mall.weekly) != 7 or min(mall.weekly) < 0:
            raise LayoutError(f"{where}: traffic must be >= 0 and weekly seven factors >= 0, Monday first")
        codes = {shop.shop_code for shop in mall.shops}
        if len(codes) != len(mall.shops):
            raise LayoutError(f"{where}: duplicate shop_code")
        for shop in mall.shops:
            if len(shop.polygon) < 3:
                raise LayoutError(f"{where}: shop {shop.shop_code!r} polygon needs at least 3 points")
            if not shop.contains(*shop.door) or inward(shop, 0.5) is None:
                raise LayoutError(f"{where}: shop {shop.shop_code!r} door {shop.door} is not on its wall")
        for probe in mall.probes:
            if probe.ap_mac in seen_macs:
                raise LayoutError(f"{where}: probe {probe.ap_mac} appears twice")
            seen_macs.add(probe.ap_mac)
            if probe.shop_code is not None and probe.shop_code not in codes:
                raise LayoutError(f"{where}: probe {probe.ap_mac} names unknown shop {probe.shop_code!r}")
            if probe.fronts and probe.shop_code is not None:
                raise LayoutError(f"{where}: probe {probe.ap_mac} is in a shop: only corridor probes face fronts")
            if unknown := sorted(set(probe.fronts) - codes):
                raise LayoutError(f"{where}: probe {probe.ap_mac} faces unknown shop {unknown[0]!r}")
        if not mall.entrances:
            raise LayoutError(f"{where}: needs at least one entrance")


def inward(shop: Shop, step: float) -> Point | None:
    """The direction from the shop's door into the shop, a unit vector along an axis, if
    the door is on an axis-parallel wall: `step` metres that way is inside the shop, `step`
    the other way outside it. None otherwise (a door inside the shop, or off its walls)."""
    x, y = shop.door
    for dx, dy in ((0.0, 1.0), (0.0, -1.0), (1.0, 0.0), (-1.0, 0.0)):
        if shop.contains(x + dx * step, y + dy * step) and not shop.contains(x - dx * step, y - dy * step):
            return dx, dy
    return None


# --- The default demo malls -----------------------------------------------------------

CATEGORIES = (
    ("Fashion", ("Atelier", "Threads", "Denim Co", "Linen House", "Urban Wear", "Tailor & Co", "Kids Corner")),
    ("Food", ("Noodle Bar", "Bakery", "Coffee Lab", "Sushi Go", "Burger Yard", "Gelato", "Tea House")),
    ("Electronics", ("Phone Hub", "Gadget World", "Sound Shop", "Camera Pro", "Game Zone")),
    ("Beauty", ("Glow", "Fragrance", "Nail Studio", "Barber")),
    ("Home", ("Living", "Kitchenware", "Bedding", "Lamps & Light", "Garden")),
    ("Sports", ("Runner", "Outdoor", "Cycle Shop", "Fitness", "Swim")),
    ("Books", ("Bookworm", "Stationery", "Comics", "Music")),
    ("Services", ("Pharmacy", "Bank", "Optician", "Travel Desk", "Post Office", "Dry Cleaner", "Key Cutter")),
)

MALL_SITES = (
    ("mall-001", "Riverside Centre", "Europe/Amsterdam", 52.3702, 4.8952),
    ("mall-002", "Harbour Point", "America/New_York", 40.7061, -74.0087),
    ("mall-003", "Sakura Plaza", "Asia/Tokyo", 35.6595, 139.7005),
    ("mall-004", "Southern Cross", "Australia/Sydney", -33.8688, 151.2093),
)
#: Each site's currency, in MALL_SITES' order.
SITE_CURRENCIES = ("EUR", "USD", "JPY", "AUD")

#: Each site's size (share of the visitors per day) and week (Monday first): a city-centre
#: mall busiest on Saturday, a waterfront one with late-week evenings and a strong Sunday,
#: a smaller station mall that is fullest at the weekend, a suburban one quiet midweek.
MALL_TRAFFIC = (
    (1.0, (0.9, 0.85, 0.9, 1.0, 1.15, 1.6, 1.2)),
    (0.7, (0.8, 0.8, 0.9, 1.1, 1.4, 1.5, 1.3)),
    (0.45, (1.0, 1.0, 1.0, 1.0, 1.1, 1.7, 1.6)),
    (0.8, (0.7, 0.7, 0.75, 1.0, 1.2, 1.5, 1.1)),
)


def _mac(mall_index: int, kind: int, index: int) -> str:
    # 02:… is a locally administered prefix: the probes' own MACs cannot clash with real ones.
    return f"02:f0:{mall_index:02x}:{kind:02x}:{index >> 8:02x}:{index & 0xFF:02x}"


def _shop_row(
    names: list[tuple[str, str]], y0: float, y1: float, door_y: float, width: float, first: int
) -> list[Shop]:
    """A row of shops along the corridor; every fifth is L-shaped (concave)."""
    # Deterministic widths between 8 and 14 m, scaled to fill the row.
    raw = [8 + (i * 5 % 7) for i in range(len(names))]
    scale = (width - 4) / sum(raw)
    shops, x = [], 2.0
    for i, (category, name) in enumerate(names):
        w = raw[i] * scale
        code = f"S{first + i:03d}"
        if i % 5 == 2:
            polygon = _l_shape(x, w, y0, y1, door_y)
        else:
            polygon = tuple((round(px, 2), round(py, 2)) for px, py in ((x, y0), (x + w, y0), (x + w, y1), (x, y1)))
        shops.append(Shop(code, name, category, tuple(polygon), (round(x + w / 2, 2), door_y)))
        x += w
    return shops


def _l_shape(x: float, w: float, y0: float, y1: float, door_y: float) -> tuple[Point, ...]:
    """An L-shaped shop: full width at the corridor, a notch cut from the back corner."""
    notch_w, notch_d = w * 0.4, (y1 - y0) * 0.4
    if door_y == y0:  # opens downwards onto the corridor: the back is at y1
        pts = (
            (x, y0),
            (x + w, y0),
            (x + w, y1 - notch_d),
            (x + w - notch_w, y1 - notch_d),
            (x + w - notch_w, y1),
            (x, y1),
        )
    else:
        pts = (
            (x, y0),
            (x + w - notch_w, y0),
            (x + w - notch_w, y0 + notch_d),
            (x + w, y0 + notch_d),
            (x + w, y1),
            (x, y1),
        )
    return tuple((round(px, 2), round(py, 2)) for px, py in pts)


#: A corridor probe of the built-in malls faces the fronts of the shops whose door is this
#: close: 5 m across the corridor's near half, so each door has one or two such probes.
FRONT_RANGE_M = 8.0


#: The access-point densities the built-in malls come in: one probe per shop (and one every
#: 6 m of corridor), or a probe every this many metres, as operators deploy them (the
#: corridor's length, and each shop's depth and width: a large shop has several).
DENSITIES = {"shop": None, "20m": 20.0, "15m": 15.0}


def _probes(index: int, shops: tuple[Shop, ...], corridor: tuple[float, float, float, float],
            density: str) -> tuple[Probe, ...]:
    """The built-in mall `index`'s probes at `density` (DENSITIES). "shop": one in each
    shop near its front and one every 6 m along the corridor, alternating sides; else a
    probe every `spacing` metres of corridor, alternating sides, and in each shop a grid of
    probes `spacing` apart at most, every one inside the shop (an L-shaped shop's notch
    gets none)."""
    if density not in DENSITIES:
        raise LayoutError(f"unknown access-point density {density!r}: one of {', '.join(DENSITIES)}")
    spacing = DENSITIES[density]
    probes: list[Probe] = []
    for shop in shops:
        x0, y0, x1, y1 = shop.bbox
        if spacing is None:
            # Near the shop front, inside the polygon (L-shapes keep their front intact).
            places = [((x0 + x1) / 2, y0 + (y1 - y0) * (0.35 if shop.door[1] == y1 else 0.65))]
        else:
            columns, rows = max(1, math.ceil((x1 - x0) / spacing)), max(1, math.ceil((y1 - y0) / spacing))
            places = [(x0 + (x1 - x0) * (i + 0.5) / columns, y0 + (y1 - y0) * (j + 0.5) / rows)
                      for i in range(columns) for j in range(rows)]
        for x, y in places:
            if shop.contains(x, y):
                probes.append(Probe(_mac(index, 1, len(probes)), round(x, 2), round(y, 2), shop.shop_code))
    cx0, cy0, cx1, cy1 = corridor
    middle = (cy0 + cy1) / 2
    if spacing is None:
        along = [(3 + i * 6.0, middle + (3.0 if i % 2 else -3.0)) for i in range(40)]
        reach = FRONT_RANGE_M
    else:
        count, side = max(1, math.ceil((cx1 - cx0) / spacing)), (cy1 - cy0) / 2 - 5.0
        along = [(cx0 + (cx1 - cx0) * (i + 0.5) / count, middle + (side if i % 2 else -side)) for i in range(count)]
        reach = max(FRONT_RANGE_M, spacing / 2)
    for i, (x, y) in enumerate(along):
        x = round(x, 2)
        fronts = tuple(s.shop_code for s in shops if math.dist((x, y), s.door) <= reach)
        probes.append(Probe(_mac(index, 2, i), x, y, fronts=fronts))
    return tuple(probes)


def default_mall(index: int = 0, density: str = "shop") -> Mall:
    """A 240 m x 96 m single-floor mall: a corridor between two rows of 22 shops, with the
    access points of `density` (DENSITIES)."""
    mall_id, name, tz, lat, lon = MALL_SITES[index % len(MALL_SITES)]
    if index >= len(MALL_SITES):
        mall_id, name = f"mall-{index + 1:03d}", f"{name} {index // len(MALL_SITES) + 1}"
    width, depth = 240.0, 96.0
    corridor = (0.0, 40.0, width, 56.0)
    names = [(category, shop) for category, shops in CATEGORIES for shop in shops]
    south = _shop_row(names[:22], 10.0, 40.0, 40.0, width, first=1)
    north = _shop_row(names[22:44], 56.0, 86.0, 56.0, width, first=23)
    shops = tuple(south + north)
    probes = _probes(index, shops, corridor, density)
    entrances = (
        Entrance(f"{mall_id}-door-west", "West entrance", 0.0, 48.0),
        Entrance(f"{mall_id}-door-east", "East entrance", width, 48.0),
    )
    traffic, weekly = MALL_TRAFFIC[index % len(MALL_TRAFFIC)]
    return Mall(
        mall_id,
        name,
        tz,
        lat,
        lon,
        width,
        depth,
        corridor,
        shops,
        probes,
        entrances,
        traffic=traffic,
        weekly=weekly,
        currency=SITE_CURRENCIES[index % len(SITE_CURRENCIES)],
    )


def default_layout(malls: int = 1, density: str = "shop") -> Layout:
    """The built-in malls, with the access points of `density` (DENSITIES)."""
    if malls < 1:
        raise LayoutError("a layout needs at least one mall")
    return Layout(tuple(default_mall(i, density) for i in range(malls)))


def standalone_mall(index: int, mall_id: str, density: str = "shop") -> Mall:
    """The built-in mall `index` under an id of its own, with probe MACs (from `index`) and
    entrance sensors of its own, so loading it never takes over another mall's rows."""
    mall = replace(default_mall(index, density), mall_id=mall_id)
    entrances = tuple(replace(e, sensor_id=f"{mall_id}-{e.name.split()[0].lower()}") for e in mall.entrances)
    return replace(mall, entrances=entrances)
