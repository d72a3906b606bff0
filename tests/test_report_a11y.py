"""The round report meets WCAG 2.2 AA (issue 15), checked in Debian's headless chromium through chromium-driver.

axe-core (the npm package, pinned by version and by the registry's sha512 of its tarball, fetched with npm at test
time; its MPL-2.0 licence travels with it) runs on the demo's report and on a report of a first round and must find
nothing. Beside it: the charts' palette by the numbers (3:1 against white and each other), every chart's figures in
a table a screen reader reaches, "under half" in words as well as red, one main landmark, and the page reflowing at
320 CSS pixels (400 % zoom of 1280) with no scrolling sideways.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
import tarfile
from collections.abc import Iterator
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

from auditbook.collection.collect import collect, gather_folder
from auditbook.demo import run_demo
from auditbook.outputs.report import write_report
from auditbook.outputs.svg import (
    GRADE_COLOURS,
    INK,
    LIGHT,
    MARK_COLOURS,
    NAVY,
    WHITE,
    Bar,
    contrast,
    ink_on,
    share_bars,
    stacked_grades,
    trend_lines,
)
from tests.returns import answers, make_return
from tests.test_report import REGISTRY, require

NOW = datetime(2026, 12, 7, 9, 30)
#: axe-core as the tests run it: the version, and the npm registry's integrity (sha512) of its tarball.
AXE_VERSION = "4.14.1"
AXE_INTEGRITY = "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=="


# -- the palette, by the numbers ------------------------------------------------------------------------------


def test_contrast_is_wcag_s_ratio() -> None:
    assert contrast("#FFFFFF", "#000000") == pytest.approx(21)
    assert contrast("#777777", WHITE) == pytest.approx(4.48, abs=0.01)
    assert contrast("#1F4E79", "#1F4E79") == 1
    # The colours the issue found: the old light green 2.0:1 on white, the old greens about 1:1 with each other.
    assert contrast("#8CC46B", WHITE) < 3 and contrast("#1A7A3A", "#8CC46B") < 3


def test_every_chart_colour_is_3_to_1_against_white_and_its_neighbours() -> None:
    for colour in (*GRADE_COLOURS, NAVY, *MARK_COLOURS.values()):
        assert contrast(colour, WHITE) >= 3, colour
    # Grades next to each other in a stacked bar (the list wraps round for longer scales)...
    for a, b in zip(GRADE_COLOURS, GRADE_COLOURS[1:] + GRADE_COLOURS[:1], strict=True):
        assert contrast(a, b) >= 3, (a, b)
    # ... and a share bar against its light track.
    for colour in (NAVY, *MARK_COLOURS.values()):
        assert contrast(colour, LIGHT) >= 3, colour
    # A count written on a grade's part of a bar is text: 4.5:1.
    assert all(contrast(ink_on(c), c) >= 4.5 for c in GRADE_COLOURS)
    assert {ink_on(c) for c in GRADE_COLOURS} == {WHITE, INK}


def test_a_stacked_bar_parts_are_bordered_where_a_grade_is_missing() -> None:
    """Outstanding and Requires improvement side by side (no Good) are both dark: the white border tells them apart."""
    chart = stacked_grades("Grades", [("1a", [2, 0, 3, 0])], ["Outstanding", "Good", "Requires improvement",
                                                              "Inadequate"])
    parts = chart.rows[0].segments
    assert [p.grade for p in parts] == ["Outstanding", "Requires improvement"]
    assert contrast(parts[0].colour, parts[1].colour) < 3
    assert contrast(chart.separator, parts[0].colour) >= 3 and contrast(chart.separator, parts[1].colour) >= 3


def test_the_previous_round_s_tick_shows_on_a_dark_bar_and_on_the_light_track() -> None:
    """The dashed tick is ink (on the light track) over a white line (on a dark bar)."""
    chart = share_bars("Shares", [Bar("1a", 0.8, "(n=5)", 0.4)])
    assert chart.rows[0].tick is not None and chart.rows[0].width is not None
    assert chart.rows[0].tick < chart.left + chart.rows[0].width  # on the bar
    for fill in (NAVY, *MARK_COLOURS.values()):
        assert contrast(chart.separator, fill) >= 3, fill
    assert contrast(INK, LIGHT) >= 3


# -- every chart's figures in a table; nothing by colour alone -------------------------------------------------


def test_every_chart_layout_carries_its_figures_as_a_table() -> None:
    bars = share_bars("% good or better by section", [
        Bar("1a Risk", 0.25, "(n=4)", 0.5, "low"), Bar("1b Plan", 0.75, "(n=4)", None), Bar("1c None", None, "(n=0)")],
        item="Section")
    assert bars.figures.headers == ("Section", "This round", "Previous round")
    assert bars.figures.rows == [("1a Risk", "25% (n=4) under half", "50%"), ("1b Plan", "75% (n=4)", "\u2013"),
                                 ("1c None", "no grades (n=0)", "\u2013")]
    # Red is never the only sign: the figure beside a red bar says "under half".
    assert (bars.rows[0].colour, bars.rows[0].figure.text) == (MARK_COLOURS["low"], "25% (n=4) under half")
    grades = stacked_grades("Grades", [("1a", [1, 2, 0, 1])], ["Outstanding", "Good", "Requires improvement",
                                                               "Inadequate"])
    assert grades.figures.headers == ("Section", "Outstanding", "Good", "Requires improvement", "Inadequate",
                                      "Audits graded")
    assert grades.figures.rows == [("1a", "1", "2", "0", "1", "4")]
    trend = trend_lines("Trend", ["R1", "R2"], [("Overall", [0.5, None]), ("1a", [None, 0.25])])
    assert trend.figures.headers == ("Round", "Overall", "1a")
    assert trend.figures.rows == [("R1", "50%", "\u2013"), ("R2", "\u2013", "25%")]


class _Charts(HTMLParser):
    """Each <figure class="chart"> of a page: the figures written on its drawing and the cells of its table."""

    def __init__(self) -> None:
        super().__init__()
        self.charts: list[dict[str, Any]] = []
        self._in: str | None = None
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "figure" and a.get("class") == "chart":
            self.charts.append({"texts": [], "cells": [], "rects": [], "role": None, "hidden": False})
        if not self.charts:
            return
        chart = self.charts[-1]
        if tag == "svg":
            chart["role"] = a.get("role")
        chart["hidden"] |= a.get("aria-hidden") == "true"
        if tag == "rect" and a.get("class") == "bar":
            chart["rects"].append(a.get("fill"))
        self._in = tag if tag in ("text", "td") else None

    def handle_data(self, data: str) -> None:
        if self.charts and self._in == "text":
            self.charts[-1]["texts"].append(data)
        elif self.charts and self._in == "td":
            self.charts[-1]["cells"].append(data)

    def handle_endtag(self, tag: str) -> None:
        self._in = None


def test_each_chart_of_the_demo_report_has_its_figures_in_a_table(demo_report: Path) -> None:
    page = demo_report.read_text(encoding="utf-8")
    parser = _Charts()
    parser.feed(page)
    charts = parser.charts
    assert len(charts) == page.count("<svg class=\"chart\"") >= 6
    for chart in charts:
        assert chart["role"] == "img" and not chart["hidden"]
        # Every figure the drawing writes beside a bar ("42% (n=12)") is a cell of its table.
        figures = [t for t in chart["texts"] if re.match(r"(\d+%|no grades) \(n=", t)]
        assert set(figures) <= set(chart["cells"]), set(figures) - set(chart["cells"])
        assert chart["cells"]
    # "Under half" is written beside every red bar, and only there.
    red = sum(chart["rects"].count(MARK_COLOURS["low"]) for chart in charts)
    assert red == sum(1 for chart in charts for t in chart["texts"] if t.endswith("under half")) > 0
    # One main landmark, the classification in the header and footer round it.
    assert page.count("<main>") == 1 and page.count("</main>") == 1
    assert page.index("<header>") < page.index("<main>") < page.index("</main>") < page.index("<footer>")


# -- in chromium: axe-core, the accessibility tree, reflow ----------------------------------------------------


@pytest.fixture(scope="session")
def axe_source(tmp_path_factory: pytest.TempPathFactory) -> str:
    """axe-core's axe.min.js, fetched with npm (pinned, its integrity checked), its licence kept beside it."""
    npm = require("npm", "npm")
    folder = tmp_path_factory.mktemp("axe-core")
    done = subprocess.run([npm, "pack", f"axe-core@{AXE_VERSION}", "--pack-destination", str(folder)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    tarball = folder / f"axe-core-{AXE_VERSION}.tgz"
    digest = "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
    assert digest == AXE_INTEGRITY
    with tarfile.open(tarball) as tgz:
        files = {name: tgz.extractfile(f"package/{name}") for name in ("axe.min.js", "LICENSE")}
        source, licence = (f.read() if f is not None else b"" for f in files.values())
    assert b"Mozilla Public License" in licence
    (folder / "LICENSE").write_bytes(licence)
    return source.decode("utf-8")


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    """Headless chromium driven through chromium-driver, a page 1280 CSS pixels wide."""
    options = Options()
    options.binary_location = require("chromium", "chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-extensions", "--window-size=1280,1024"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(require("chromedriver", "chromium-driver")), options=options)
    driver.set_script_timeout(180)
    try:
        yield driver
    finally:
        driver.quit()


def violations(driver: webdriver.Chrome, axe: str, page: Path) -> list[tuple[str, str, list[str]]]:
    """axe-core's violations on a page, every rule it runs by default (WCAG 2.0-2.2 A and AA, and best practice):
    (rule, help, the first elements it names)."""
    driver.get(page.as_uri())
    driver.execute_script(axe)
    found = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']})"
        ".then(r => done(JSON.stringify(r.violations.map(v => [v.id, v.help, v.nodes.slice(0, 5)"
        ".map(n => n.target.join(' '))])))).catch(e => done(JSON.stringify([['error', String(e), []]])));")
    return [(rule, text, nodes) for rule, text, nodes in json.loads(found)]


def test_axe_finds_what_it_should_on_a_page_that_fails(browser: webdriver.Chrome, axe_source: str,
                                                       tmp_path: Path) -> None:
    """The check can fail: grey on white, a picture with no text, no main landmark."""
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><html lang="en"><head><title>Bad</title></head><body>'
                    '<p style="color:#BBBBBB">Faint</p><svg role="img" width="10" height="10"></svg></body></html>',
                    encoding="utf-8")
    rules = {rule for rule, _, _ in violations(browser, axe_source, page)}
    assert {"color-contrast", "svg-img-alt", "landmark-one-main"} <= rules, rules


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's round report: two rounds, cohorts, a register of some fifty actions."""
    out = tmp_path_factory.mktemp("a11y-demo")
    run_demo(out)
    return out / "demo-report.html"


@pytest.fixture(scope="module")
def first_round_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A report of a first round: no trend, no previous round to compare with."""
    tmp = tmp_path_factory.mktemp("a11y-first")
    folder = tmp / "returns"
    for i, scenario in enumerate(("child_protection", "in_care_16_plus", "early_help"), start=1):
        make_return(folder / f"SYN-000{i}.xlsx", answers(scenario, seed=80 + i, index=i, actions=1))
    master = tmp / "master.xlsx"
    collect(folder, out=master, registry=REGISTRY, now=NOW)
    evidence = gather_folder(folder, out=master, registry=REGISTRY, now=NOW)
    assert evidence.previous is None
    return write_report(evidence, tmp / "report.html", include_text=True, generated_at=NOW)


@pytest.mark.parametrize("which", ["demo_report", "first_round_report"])
def test_axe_finds_nothing_on_the_report(which: str, request: pytest.FixtureRequest, browser: webdriver.Chrome,
                                         axe_source: str) -> None:
    report: Path = request.getfixturevalue(which)
    assert violations(browser, axe_source, report) == []


def test_the_charts_figures_are_in_the_accessibility_tree(demo_report: Path, browser: webdriver.Chrome) -> None:
    """What a screen reader is given: every chart is an image named by its title, and its table's cells are there."""
    browser.get(demo_report.as_uri())
    tree = browser.execute_cdp_cmd("Accessibility.getFullAXTree", {})["nodes"]

    def named(role: str) -> list[str]:
        return [n.get("name", {}).get("value", "") for n in tree
                if n.get("role", {}).get("value") == role and not n.get("ignored")]

    images, cells = named("image"), named("cell")
    assert "% good or better by section" in images and "Share of each grade, by section" in images
    parser = _Charts()
    parser.feed(demo_report.read_text(encoding="utf-8"))
    shown = {cell for chart in parser.charts for cell in chart["cells"]}
    assert shown and shown <= set(cells), sorted(shown - set(cells))[:5]
    assert named("main") == [""] and len(named("main")) == 1


@pytest.mark.parametrize("which", ["demo_report", "first_round_report"])
def test_the_page_reflows_at_320_css_pixels(which: str, request: pytest.FixtureRequest,
                                            browser: webdriver.Chrome) -> None:
    """WCAG 1.4.10: 1280 pixels at 400 % zoom is 320 CSS pixels; the page must not scroll sideways."""
    report: Path = request.getfixturevalue(which)
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": 320, "height": 640, "deviceScaleFactor": 1, "mobile": False})
    try:
        browser.get(report.as_uri())
        wide = browser.execute_script(
            "const d = document.documentElement; return [window.innerWidth, d.scrollWidth, d.clientWidth, "
            "Array.from(document.querySelectorAll('main *')).filter(e => e.getBoundingClientRect().right > "
            "d.clientWidth + 1).slice(0, 5).map(e => e.tagName + '.' + e.className)];")
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    width, scroll, client, over = wide
    assert width == 320 and client <= 320  # less the vertical scroll bar
    assert scroll <= client, over
    assert over == []
