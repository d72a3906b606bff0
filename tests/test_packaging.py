"""Packaging: the sdist carries the tests and what they read, and the wheel built from it installs in a fresh venv
and runs `auditbook demo` there, as a local authority's IT team would install it.

The builds use `build` (the test extra) with setuptools from the package index, as `pip install` does, and the
fresh venv gets auditbook's dependencies from the index too: this test needs the index CI already installs from.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

import auditbook

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
VERSION = PROJECT["version"]
#: What the sdist takes beyond the package itself (MANIFEST.in), and the files at the top that it carries.
GRAFTED = ("tests", "docs", "benchmarks", "workbook_specs")
TOP = ("LICENSE", "MANIFEST.in", "README.md", "pyproject.toml")
#: What setuptools writes into every sdist: metadata, not source.
GENERATED = re.compile(r"^(PKG-INFO|setup\.cfg|src/auditbook\.egg-info/.*)$")
#: Each step (a build, the install, the demo) ends well inside this; a hung index must not hang CI.
TIMEOUT = 600


@dataclass(frozen=True)
class Dists:
    """The source tree the dists were built from (a copy of the checkout) and the sdist and wheel."""

    source: Path
    sdist: Path
    wheel: Path


def _run(args: list[str | Path], *, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT,
                          check=False)


def _copy_of_checkout(to: Path) -> Path:
    """The checkout without what git ignores (venvs, caches, build output): what a fresh clone holds."""
    ignored = [line.strip().rstrip("/") for line in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
               if line.strip() and not line.startswith("#")]
    shutil.copytree(ROOT, to, ignore=shutil.ignore_patterns(".git", ".hypothesis", *ignored))
    return to


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Dists:
    """The sdist built from a copy of the checkout, and the wheel `build` makes from that sdist (as PyPI's would be)."""
    base = tmp_path_factory.mktemp("packaging")
    source = _copy_of_checkout(base / "source")
    out = base / "dist"
    done = _run([sys.executable, "-m", "build", "--outdir", out, source], cwd=base)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    return Dists(source, out / f"auditbook-{VERSION}.tar.gz", out / f"auditbook-{VERSION}-py3-none-any.whl")


def _sdist_members(sdist: Path) -> set[str]:
    prefix = f"auditbook-{VERSION}/"
    with tarfile.open(sdist) as tar:
        names = [m.name for m in tar.getmembers() if m.isfile()]
    assert all(n.startswith(prefix) for n in names), names
    return {n.removeprefix(prefix) for n in names}


def test_the_sdist_carries_the_tests_their_data_and_what_they_read(dists: Dists) -> None:
    """Every file under tests/ (data, golden, lo, conformance and its schemas), docs/, benchmarks/,
    workbook_specs/ and src/ is in the sdist, with LICENSE and MANIFEST.in, and nothing else but metadata."""
    members = _sdist_members(dists.sdist)
    # The build wrote src/auditbook.egg-info into the copy: metadata on both sides, left out of both.
    files = {p.relative_to(dists.source).as_posix() for top in (*GRAFTED, "src")
             for p in (dists.source / top).rglob("*") if p.is_file()}
    expected = {f for f in files if not GENERATED.match(f)} | set(TOP)
    source = {m for m in members if not GENERATED.match(m)}
    assert (sorted(source - expected), sorted(expected - source)) == ([], [])
    for needed in ("tests/conftest.py", "tests/data/guidance-excerpts.txt", "tests/golden/deep_dive_fingerprint.json",
                   "tests/lo/driver.py", "tests/conformance/checker.py",
                   "tests/conformance/schemas/ecma-376/transitional/sml.xsd",
                   "tests/conformance/schemas/ecma-376/LICENCE.txt", "benchmarks/collect.py", "docs/render.py",
                   "workbook_specs/deep_dive.yaml", "src/auditbook/auditbook.example.toml"):
        assert needed in members, needed
    assert not [m for m in members if "__pycache__" in m or m.endswith(".pyc")]
    assert {"PKG-INFO", "setup.cfg"} <= members


def test_the_dists_carry_the_spdx_licence_and_the_one_version(dists: Dists) -> None:
    """PKG-INFO and the wheel's METADATA say License-Expression: MIT and carry LICENSE; the version is pyproject's."""
    with tarfile.open(dists.sdist) as tar:
        member = tar.extractfile(f"auditbook-{VERSION}/PKG-INFO")
        assert member is not None
        pkg_info = member.read().decode("utf-8")
    with zipfile.ZipFile(dists.wheel) as whl:
        metadata = whl.read(f"auditbook-{VERSION}.dist-info/METADATA").decode("utf-8")
        licence = whl.read(f"auditbook-{VERSION}.dist-info/licenses/LICENSE").decode("utf-8")
    for text in (pkg_info, metadata):
        headers = text.split("\n\n", 1)[0].splitlines()
        assert {"License-Expression: MIT", "License-File: LICENSE", f"Version: {VERSION}"} <= set(headers)
        assert not [h for h in headers if h.startswith(("License:", "Classifier: License"))], headers
    assert licence == (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert licence.startswith("MIT License") and "auditbook contributors" in licence


def test_the_wheel_holds_the_package_its_specs_and_example_settings_and_no_tests(dists: Dists) -> None:
    """The bundled specs install as auditbook.workbook_specs, beside the example settings and py.typed."""
    with zipfile.ZipFile(dists.wheel) as whl:
        names = set(whl.namelist())
    specs = {p.name for p in (ROOT / "workbook_specs").glob("*.yaml")}
    assert {n.removeprefix("auditbook/workbook_specs/") for n in names
            if n.startswith("auditbook/workbook_specs/") and n.endswith(".yaml")} == specs
    assert {"auditbook/workbook_specs/__init__.py", "auditbook/auditbook.example.toml", "auditbook/py.typed",
            "auditbook/__main__.py", "auditbook/cli/__init__.py"} <= names
    assert {n.split("/", 1)[0] for n in names} == {"auditbook", f"auditbook-{VERSION}.dist-info"}


def _fresh_env(data: Path) -> dict[str, str]:
    """This process's environment without anything that would lead Python back to the checkout or its venv."""
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP"}}
    env["AUDITBOOK_DATA_DIR"] = str(data)
    return env


def test_the_wheel_installs_in_a_fresh_venv_and_runs_the_demo(dists: Dists, tmp_path: Path) -> None:
    """pip installs the wheel (dependencies from the index) into a new venv; there, in an empty folder, `auditbook`
    gives pyproject's version and the example settings, and `auditbook demo` exits 0 and writes the blank workbook,
    the returns, the master and the report."""
    venv = tmp_path / "venv"
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    env = _fresh_env(tmp_path / "data")
    # No pip of its own (ensurepip takes longer than the install): this venv's pip installs into it.
    done = _run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    python = bin_dir / ("python.exe" if os.name == "nt" else "python")
    done = _run([sys.executable, "-m", "pip", "--python", python, "install", "-q", dists.wheel], cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]

    empty = tmp_path / "empty"
    empty.mkdir()
    where = _run([python, "-c", "import auditbook; print(auditbook.__file__)"], cwd=empty, env=env)
    assert Path(where.stdout.strip()).is_relative_to(venv), where.stdout + where.stderr
    exe = shutil.which("auditbook", path=str(bin_dir))
    assert exe is not None, sorted(p.name for p in bin_dir.iterdir())

    version = _run([exe, "--version"], cwd=empty, env=env)
    assert (version.returncode, version.stdout) == (0, f"auditbook {VERSION}\n"), version.stderr
    example = _run([exe, "settings", "--example"], cwd=empty, env=env)
    shipped = (ROOT / "src" / "auditbook" / "auditbook.example.toml").read_text(encoding="utf-8")
    assert (example.returncode, example.stdout.strip()) == (0, shipped.strip()), example.stderr
    demo = _run([exe, "demo"], cwd=empty, env=env)
    assert demo.returncode == 0, demo.stdout[-4000:] + demo.stderr[-4000:]
    out = empty / "output"
    assert {"deep-dive-blank.xlsx", "demo-master.xlsx", "demo-report.html", "demo-returns"} <= {
        p.name for p in out.iterdir()}
    for workbook in ("deep-dive-blank.xlsx", "demo-master.xlsx"):
        with zipfile.ZipFile(out / workbook) as z:
            assert "xl/workbook.xml" in z.namelist(), workbook
    assert len(list((out / "demo-returns").rglob("SYN-*.xlsx"))) >= 12
    assert "<html" in (out / "demo-report.html").read_text(encoding="utf-8").lower()


def test_the_version_is_written_once() -> None:
    """pyproject.toml holds the version; the package reads it from its installed metadata, never spells it out."""
    assert auditbook.__version__ == VERSION, "the installed metadata is stale: pip install -e '.[test]' again"
    spelt = [str(p.relative_to(ROOT)) for p in (ROOT / "src").rglob("*.py")
             if re.search(r"__version__\s*=\s*[\"']\d+\.\d+", p.read_text(encoding="utf-8"))]
    assert spelt == []
