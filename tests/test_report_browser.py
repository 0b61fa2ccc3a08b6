"""report.html in a real headless browser (Debian chromium): it loads from disk and its figures are visible."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import _report_helpers as H
import pytest

from depthkit.report import build_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(CHROMIUM is None,
                                                   reason="Debian chromium is not installed (apt-get install chromium)")]

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars"]
# Injected into a copy of the page only: the report itself carries no script.
PROBE = ("<script>window.addEventListener('load', function () {"
         "var imgs = Array.from(document.images);"
         "document.body.setAttribute('data-probe', imgs.map(function (i) {"
         "return (i.complete ? i.naturalWidth : 0) + 'x' + (i.complete ? i.naturalHeight : 0) + ':'"
         " + Math.round(i.getBoundingClientRect().width); }).join(','));"
         "});</script>")


def chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp / 'profile'}", *args], capture_output=True,
                          text=True, timeout=120)


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("browser") / "report"
    return build_report([H.RUN_STRONG, H.RUN_WEAK], out, threshold=0.6)


def test_every_figure_decodes_with_a_real_size(page, tmp_path):
    probe = tmp_path / "probe.html"
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8")
    done = chromium(tmp_path, "--virtual-time-budget=10000", "--window-size=1200,3000", "--dump-dom",
                    probe.as_uri())
    match = re.search(r'data-probe="([^"]*)"', done.stdout)
    assert match, f"no probe result; chromium said: {done.stderr[-2000:]}"
    sizes = match.group(1).split(",")
    assert len(sizes) == 6  # accuracy, conditions, controls, heatmap, critical differences, parser agreement
    for size in sizes:
        natural, shown = size.split(":")
        width, height = (int(v) for v in natural.split("x"))
        assert width > 300 and height > 150, size
        assert int(shown) > 300, size  # laid out at a readable width, not collapsed
    assert "What the curves show" in done.stdout


def test_screenshot_shows_the_headline_figure(page, tmp_path):
    import matplotlib.image as mpimg
    import numpy as np

    shot = tmp_path / "shot.png"
    done = chromium(tmp_path, "--window-size=1200,2000", f"--screenshot={shot}", page.as_uri())
    assert shot.is_file(), done.stderr[-2000:]
    pixels = mpimg.imread(shot)[:, :, :3]
    assert pixels.shape[:2] == (2000, 1200)
    ink = (pixels < 0.9).any(axis=2)
    assert ink.mean() > 0.03  # text, tables and plot lines, not a blank page
    # the headline plot's colours (seaborn colorblind blue and orange) are on screen
    blue = (np.abs(pixels - np.array([0.0, 0.447, 0.698])) < 0.08).all(axis=2)
    orange = (np.abs(pixels - np.array([0.871, 0.561, 0.020])) < 0.08).all(axis=2)
    assert blue.sum() > 200 and orange.sum() > 200
