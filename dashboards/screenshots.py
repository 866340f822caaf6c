"""Screenshots of the running dashboards for the README: the portfolio page and the live
map of the mall with the most people in it now.

    make screenshots        # (or python -m dashboards.screenshots --out docs/images)

Needs the product running (`make demo`) and headless Chromium (installed by `make setup`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from footfall import clients
from footfall.outputs import POSITIONS
from footfall.settings import Settings

#: Headless Chromium as it works here (Debian's package), with software WebGL so deck.gl
#: draws the heatmap without a GPU; the browser tests use the same.
CHROMIUM = "/usr/bin/chromium"
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--use-angle=swiftshader",
                "--enable-unsafe-swiftshader"]


def busiest_mall(settings: Settings) -> str:
    """The loaded mall with the most live positions now (the first one if none has any)."""
    with clients.postgres(settings.postgres, autocommit=True) as conn:
        ids = [row[0] for row in conn.execute(
            f'SELECT mall_id FROM "{settings.postgres.schema_name}".malls ORDER BY mall_id').fetchall()]
    if not ids:
        raise SystemExit("screenshots: no mall is loaded: run `make demo` first")
    redis = clients.redis_client(settings.redis)
    return str(max(ids, key=lambda m: (int(redis.hlen(POSITIONS.format(mall_id=m))), -ids.index(m))))


def take(out: Path, settings: Settings) -> list[Path]:
    from playwright.sync_api import sync_playwright

    url = f"http://127.0.0.1:{settings.dashboard.port}"
    out.mkdir(parents=True, exist_ok=True)
    shots = [(f"{url}/", "Occupancy now", out / "portfolio.png"),
             (f"{url}/live?mall={busiest_mall(settings)}", "In the corridor", out / "live_map.png")]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        for address, ready, path in shots:
            page.goto(address)
            page.get_by_text(ready).first.wait_for(timeout=60_000)
            page.wait_for_timeout(6000)  # the map's tiles and the fragments finish drawing
            page.screenshot(path=str(path))
        browser.close()
    return [path for _, _, path in shots]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dashboards.screenshots", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/images"), help="folder for the PNG files")
    args = parser.parse_args(argv)
    try:
        for path in take(args.out, Settings()):
            print(f"wrote {path}")
    except Exception as err:  # noqa: BLE001 - one line, whatever the browser or a service says
        print(f"screenshots: {type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''} "
              "(is the product running? `make demo`)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
