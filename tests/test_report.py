"""The round report (issue 10) in a real browser: Debian's chromium, headless.

It loads the file with every request sent to a local proxy that records connections (none may come), dumps
the DOM to see the charts are there, prints the page to PDF, renders the PDF's first page to pixels to see
the bars were drawn, and reads the PDF's text: the classification on every page, and no child's free
text unless --include-text.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest
from markupsafe import escape
from typer.testing import CliRunner

from auditbook.allocation.lists import template_csv
from auditbook.cli import app
from auditbook.collection.collect import collect, gather_folder
from auditbook.outputs.report import render
from auditbook.returns.provenance import SpecRegistry
from tests.returns import answers, make_return, spec

NOW = datetime(2026, 12, 7, 9, 30)
REGISTRY = SpecRegistry.of(spec())
#: What the auditors wrote about the children (findings, impact, actions' wording), filled in by `two_rounds`:
#: none of it may be in a report made without --include-text.
FREE_TEXTS: list[str] = []
runner = CliRunner()


def require(program: str, package: str) -> str:
    """The program's path; skip when it is missing, but fail in CI, where .ci/run installs it."""
    path = shutil.which(program)
    if path is None:
        message = f"this test needs {program} (apt-get install {package})"
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return path


@pytest.fixture(scope="module")
def two_rounds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A folder with two rounds of returns, collected; returns (folder, master)."""
    folder = tmp_path_factory.mktemp("report") / "returns"
    for i, scenario in enumerate(("child_protection", "in_care_16_plus", "early_help", "child_in_need"), start=1):
        now = answers(scenario, seed=60 + i, index=i, actions=2, urgent=i == 1)
        before = answers(scenario, seed=70 + i, index=100 + i, actions=1, month="2026-07")
        make_return(folder / "round-3" / f"SYN-000{i}.xlsx", now)
        make_return(folder / "round-2" / f"SYN-010{i}.xlsx", before)
        FREE_TEXTS.extend(str(v) for k, v in now.items() if k.endswith(("_working_well", "_to_improve", "_impact"))
                          or (k.startswith("actions_") and k.endswith("_action")))
    master = folder.parent / "out" / "master.xlsx"
    collect(folder, out=master, registry=REGISTRY, now=NOW)
    return folder, master


@pytest.fixture(scope="module")
def report_file(two_rounds: tuple[Path, Path]) -> Path:
    folder, master = two_rounds
    out = folder.parent / "report.html"
    result = runner.invoke(app, ["report", str(folder), "--master", str(master), "--out", str(out), "--no-text"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(out)
    return out


def test_report_is_one_self_contained_file(report_file: Path) -> None:
    html = report_file.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert html.count("OFFICIAL-SENSITIVE") >= 4
    # Nothing to fetch: no script, no link, no src or url() anywhere; a policy that forbids any request.
    for needle in ("<script", "<link", " src=", "url(", "@import", "http://", "https://"):
        assert needle not in html.replace('xmlns="http://www.w3.org/2000/svg"', ""), needle
    assert "default-src 'none'" in html
    assert len(FREE_TEXTS) > 10
    assert [t for t in FREE_TEXTS if t in html] == []
    for heading in ("Headline figures", "Grades by section", "Trend across rounds", "Teams and groups of children",
                    "Themes", "Action register", "Returns outstanding"):
        assert f"<h2>{heading}</h2>" in html
    assert "2026 round 3" in html and "compared with 2026 round 2" in html


def test_include_text_adds_the_findings(two_rounds: tuple[Path, Path]) -> None:
    folder, master = two_rounds
    evidence = gather_folder(folder, out=master, registry=REGISTRY, now=NOW)
    with_text = render(evidence, include_text=True, generated_at=NOW)
    assert "<h2>Findings (free text)</h2>" in with_text
    # Escaped as the template escapes text (markupsafe: a quote is &#39;).
    assert all(escape(t) in with_text for t in FREE_TEXTS)
    assert "It includes auditors' free text about children." in with_text
    without = render(evidence, generated_at=NOW)
    assert [t for t in FREE_TEXTS if escape(t) in without] == []


def test_report_with_an_allocation_lists_the_returns_outstanding(two_rounds: tuple[Path, Path], tmp_path: Path) -> None:
    folder, master = two_rounds
    listing = tmp_path / "allocation.csv"
    header = template_csv().splitlines()[0]
    listing.write_text(f"{header}\n"
                       "SYN-0001,Team Beta,Example Worker 2,Example Manager Beta,Example Auditor 2,2026-11,\n"
                       "SYN-0042,Team Alpha,Example Worker 1,Example Manager Alpha,Example Auditor 1,2026-11,\n",
                       encoding="utf-8")
    out = tmp_path / "report.html"
    result = runner.invoke(app, ["report", str(folder), "--master", str(master), "--out", str(out),
                                 "--allocation", str(listing)])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert '<div class="value">1</div><div class="label">return outstanding</div>' in html
    assert "<td>SYN-0042</td>" in html
    assert "<td>SYN-0001</td><td>Team Beta</td><td>Example Auditor 2</td>" not in html


# -- in chromium -----------------------------------------------------------------------------------


class Proxy:
    """A local listener every request of the browser is sent to; it records each request's first line."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.requests: list[bytes] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            conn.settimeout(2)
            try:
                self.requests.append(conn.recv(512).split(b"\r\n")[0])
            except OSError:
                self.requests.append(b"(connected, sent nothing)")
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        self.sock.close()


@contextmanager
def proxy() -> Iterator[Proxy]:
    p = Proxy()
    try:
        yield p
    finally:
        p.close()


def chromium(tmp: Path, p: Proxy, *args: str) -> subprocess.CompletedProcess[str]:
    """Headless chromium, every request (loopback included) through the proxy, a fresh profile.

    The browser's own housekeeping (update checks, network time, sign-in) is pointed at a closed local port or
    switched off, so that whatever reaches the proxy came from the page.
    """
    exe = require("chromium", "chromium")
    profile = tmp / f"profile-{len(list(tmp.glob('profile-*')))}"
    closed = "http://127.0.0.1:1"
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-default-apps",
           "--disable-extensions", f"--component-updater=url-source={closed}", f"--google-base-url={closed}",
           f"--gaia-url={closed}", "--disable-domain-reliability", "--disable-client-side-phishing-detection",
           "--no-pings", "--disable-breakpad", "--metrics-recording-only",
           "--disable-features=NetworkTimeServiceQuerying,OptimizationHints,MediaRouter,Translate,"
           "AutofillServerCommunication,CertificateTransparencyComponentUpdater,OptimizationGuideModelDownloading",
           f"--user-data-dir={profile}", f"--proxy-server=http://127.0.0.1:{p.port}", "--proxy-bypass-list=<-loopback>",
           "--virtual-time-budget=3000", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def test_the_proxy_sees_a_page_that_does_make_a_request(tmp_path: Path) -> None:
    """The check below can fail: a page with one remote image is caught by it."""
    page = tmp_path / "leaky.html"
    page.write_text('<!DOCTYPE html><html><body><img src="http://example.invalid/x.png"></body></html>',
                    encoding="utf-8")
    with proxy() as p:
        done = chromium(tmp_path, p, "--dump-dom", page.as_uri())
    assert done.returncode == 0, done.stderr
    assert p.requests == [b"GET http://example.invalid/x.png HTTP/1.1"]


def test_chromium_renders_the_charts_and_requests_nothing(report_file: Path, tmp_path: Path) -> None:
    with proxy() as p:
        done = chromium(tmp_path, p, "--dump-dom", report_file.as_uri())
    assert done.returncode == 0, done.stderr
    dom = done.stdout
    assert dom.count('<svg class="chart"') >= 8
    # Every bar of the file is in the DOM: sections' shares and grades (a group of children under 5 audits has no
    # bar since issue 15, and these rounds have four).
    assert dom.count('class="bar"') == report_file.read_text(encoding="utf-8").count('class="bar"') >= 30
    assert '<polyline class="line"' in dom  # the trend across the two rounds
    assert p.requests == []


def _ppm_pixels(path: Path) -> tuple[int, int, bytes]:
    data = path.read_bytes()
    parts = data.split(maxsplit=4)
    assert parts[0] == b"P6"
    return int(parts[1]), int(parts[2]), parts[4]


def test_it_prints_to_pdf_with_the_classification_on_every_page(report_file: Path, tmp_path: Path) -> None:
    require("pdftotext", "poppler-utils")
    pdf = tmp_path / "report.pdf"
    with proxy() as p:
        done = chromium(tmp_path, p, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", report_file.as_uri())
    assert done.returncode == 0, done.stderr
    assert p.requests == []
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    pages = text.split("\f")[:-1]
    assert len(pages) >= 3
    assert all("OFFICIAL-SENSITIVE" in page for page in pages)
    assert "Headline figures" in pages[0]
    assert "Top concerns" in text and "Action register" in text
    flat = " ".join(text.split())
    assert [t for t in FREE_TEXTS if t in flat] == []
    # The first page's bars were drawn: pixels of the bar colour (#1F4E79) are there.
    subprocess.run(["pdftoppm", "-r", "40", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True)
    width, height, pixels = _ppm_pixels(next(tmp_path.glob("page*.ppm")))
    bar = sum(1 for i in range(0, len(pixels) - 2, 3) if pixels[i:i + 3] == bytes((0x1F, 0x4E, 0x79)))
    assert width > 0 and height > 0
    assert bar > 200, bar

