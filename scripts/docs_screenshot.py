"""The screenshot of the result view in docs/clinical.md: one HC18 image measured on the page, in
Debian's Chromium at desktop size, saved as a small palette PNG.

    .venv/bin/python scripts/docs_screenshot.py            # writes docs/result-view.png

It starts the app with the committed model on a loopback port, uploads the image with its pixel
size and a gestational age as a clinician would, and photographs the result card.
"""
from __future__ import annotations

import argparse
import io
import threading
from pathlib import Path

from PIL import Image
from playwright.sync_api import expect, sync_playwright
from werkzeug.serving import make_server

from fetalhc.data.cli import add_hc18_argument, resolve_hc18, run
from fetalhc.data.hc18 import read_training_table
from fetalhc.paths import PROJECT_ROOT
from fetalhc.predictor import load_predictor
from fetalhc.settings import Settings
from fetalhc.web import create_app

CHROMIUM = "/usr/bin/chromium"
DESKTOP = {"width": 1366, "height": 768}
# A 20-week head the model measures well (HC18 reference 175.9 mm), so the chart has its point
# inside the standard's 14 to 40 weeks.
IMAGE = "309_HC.png"
GA = ("20", "0")
# A palette of this many colours keeps the PNG small enough to commit; the page has few colours.
COLOURS = 128


def photograph(url: str, image: Path, pixel_size_mm: float, out: Path) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport=DESKTOP)
        page.goto(url)
        page.set_input_files("#image", str(image))
        page.fill("#pixel_size_mm", f"{pixel_size_mm:.6f}")
        page.fill("#ga_weeks", GA[0])
        page.fill("#ga_days", GA[1])
        page.click("#submit")
        expect(page.locator("#hc-value")).to_contain_text(" mm", timeout=60_000)
        page.wait_for_load_state("networkidle")  # the growth chart is fetched after the result
        page.wait_for_timeout(800)               # and the smooth scroll to the result ends
        shot = page.locator("#result").screenshot()
        browser.close()
    # Fast octree keeps the few saturated colours (verdict badge, alert frame, chart) a median cut merges.
    Image.open(io.BytesIO(shot)).convert("RGB").quantize(COLOURS, method=Image.Quantize.FASTOCTREE).save(
        out, optimize=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_hc18_argument(parser)
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "docs" / "result-view.png")
    args = parser.parse_args()
    hc18 = resolve_hc18(args)
    table = read_training_table(hc18)
    pixel_size_mm = float(table.loc[table["filename"] == IMAGE, "pixel_size_mm"].iloc[0])
    settings = Settings()
    server = make_server("127.0.0.1", 0, create_app(settings, load_predictor(settings)), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        photograph(f"http://127.0.0.1:{server.server_port}", hc18 / "training_set" / IMAGE, pixel_size_mm, args.out)
    finally:
        server.shutdown()
        thread.join(10)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1000:.0f} kB)")
    return 0


if __name__ == "__main__":
    run(main)
