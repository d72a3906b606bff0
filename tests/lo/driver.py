"""Run ``uno_fill.py`` (LibreOffice via UNO) from pytest under the project's venv Python.

python3-uno lives in the *system* Python, so the UNO work happens in a subprocess::

    from lo.driver import fill, require_libreoffice   # or tests.lo.driver if tests/ is a package

    @pytest.mark.libreoffice
    def test_roundtrip(tmp_path: Path) -> None:
        require_libreoffice()
        shown = fill(src, tmp_path / "out.xlsx", {"case_ref": "AB-1", "due_date": {"date": "2024-03-01"}},
                     read=["status"])
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name("uno_fill.py")
FILL_TIMEOUT_S = 180.0

_SOFFICE_FALLBACKS = (
    "/usr/lib/libreoffice/program/soffice",
    "/opt/libreoffice/program/soffice",
    "/Applications/LibreOffice.app/Contents/MacOS/soffice",
)


def _clean_env() -> dict[str, str]:
    """Environment for the system Python: drop venv/pytest settings that would confuse it."""
    env = dict(os.environ)
    for key in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP"):
        env.pop(key, None)
    return env


@functools.cache
def find_soffice() -> str | None:
    """Path of the soffice executable, or None. ``$AUDITBOOK_SOFFICE`` wins."""
    for cand in (
        os.environ.get("AUDITBOOK_SOFFICE"),
        shutil.which("soffice"),
        shutil.which("libreoffice"),
        *_SOFFICE_FALLBACKS,
    ):
        if cand and os.path.isfile(cand) and os.access(cand, os.X_OK):
            return cand
    return None


def _imports_uno(python: str) -> bool:
    try:
        done = subprocess.run(
            [python, "-c", "import uno"], env=_clean_env(), capture_output=True, timeout=60, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


@functools.cache
def uno_python() -> str | None:
    """A Python interpreter that can ``import uno`` (``$AUDITBOOK_UNO_PYTHON`` wins), or None."""
    candidates: list[str | None] = [os.environ.get("AUDITBOOK_UNO_PYTHON"), "/usr/bin/python3", shutil.which("python3")]
    soffice = find_soffice()
    if soffice:  # official LibreOffice builds (macOS/Windows/opt) bundle their own python
        program = Path(os.path.realpath(soffice)).parent
        candidates += [str(program / "python"), str(program.parent / "Resources" / "python")]
    seen: set[str] = set()
    for cand in candidates:
        if not cand or cand in seen or not os.path.isfile(cand):
            continue
        seen.add(cand)
        if _imports_uno(cand):
            return cand
    return None


def require_libreoffice() -> None:
    """Skip the test when LibreOffice or a UNO-capable Python is missing; fail instead when CI=true."""
    missing = []
    if find_soffice() is None:
        missing.append("soffice (apt-get install --no-install-recommends libreoffice-calc-nogui)")
    if uno_python() is None:
        missing.append("a python that can 'import uno' (apt-get install python3-uno)")
    if not missing:
        return
    message = "LibreOffice tests need " + " and ".join(missing)
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _json_default(value: object) -> object:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return {"date": value.isoformat()}
    raise TypeError(f"cannot send {value!r} to LibreOffice (use str, int, float, None or datetime.date)")


def fill(src: Path, dst: Path, values: Mapping[str, object], *, read: Iterable[str] = (),
         pdf: Path | None = None) -> dict[str, str]:
    """Open *src* in LibreOffice, set *values* by defined name, recalculate, save *dst* as .xlsx.

    values: {name: str | int | float | None | datetime.date | {"date": "YYYY-MM-DD"} | {"typed": "text"}};
    None and "" clear the cell; {"typed": ...} is read as LibreOffice reads what a person types; a name may
    also be a cell, "Sheet!A2".
    Returns {name: displayed string} for the names in *read* (after recalculation). With *pdf*, the filled
    workbook is also printed to that PDF in the same session (File > Export as PDF).
    Raises RuntimeError (with the script's stderr) on any failure or after 180 s.
    """
    python = uno_python()
    soffice = find_soffice()
    if python is None or soffice is None:
        raise RuntimeError("LibreOffice/UNO not available; call require_libreoffice() first")
    read = list(read)
    with tempfile.TemporaryDirectory(prefix="auditbook-fill-") as tmp:
        values_path = Path(tmp) / "values.json"
        values_path.write_text(json.dumps(dict(values), ensure_ascii=False, default=_json_default), encoding="utf-8")
        cmd = [
            python,
            str(SCRIPT),
            str(Path(src).resolve()),
            str(Path(dst).resolve()),
            str(values_path),
            "--soffice",
            soffice,
        ]
        if read:
            cmd += ["--read", *read]
        if pdf is not None:
            cmd += ["--pdf", str(Path(pdf).resolve())]
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_clean_env(), start_new_session=True
        )
        try:
            stdout, stderr = proc.communicate(timeout=FILL_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            # SIGTERM first: the script then kills its soffice and removes the profile
            proc.send_signal(signal.SIGTERM)
            try:
                stdout, stderr = proc.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                stdout, stderr = proc.communicate()
            raise RuntimeError(f"uno_fill.py timed out after {FILL_TIMEOUT_S:.0f} s\n{stderr}") from None
    if proc.returncode != 0:
        raise RuntimeError(f"uno_fill.py failed with exit status {proc.returncode}:\n{stderr}")
    try:
        shown = json.loads(stdout)
    except ValueError as exc:
        raise RuntimeError(f"uno_fill.py printed no JSON on stdout: {stdout!r}\n{stderr}") from exc
    if not isinstance(shown, dict):
        raise RuntimeError(f"uno_fill.py printed {shown!r}, expected a JSON object")
    return {str(k): str(v) for k, v in shown.items()}


def to_pdf(src: Path, dst: Path, *, every_sheet: bool = False) -> Path:
    """Print a workbook to PDF with LibreOffice, as a person exporting it would (every sheet, its print setup).

    Runs ``soffice --headless --convert-to pdf`` with its own throwaway profile, so parallel runs and a
    desktop LibreOffice do not clash. Raises RuntimeError (with soffice's output) when no PDF appears.
    With *every_sheet*, the print areas are cleared first, as someone printing a sheet the workbook leaves out of
    its print (the Start sheet) would: every sheet prints whole.
    """
    soffice = find_soffice()
    if soffice is None:
        raise RuntimeError("LibreOffice not available; call require_libreoffice() first")
    with tempfile.TemporaryDirectory(prefix="auditbook-pdf-") as tmp:
        work = Path(tmp)
        source = work / ("in" + (Path(src).suffix or ".xlsx"))
        shutil.copyfile(src, source)
        if every_sheet:
            _clear_print_areas(source)
        cmd = [soffice, f"-env:UserInstallation={(work / 'profile').as_uri()}", "--headless", "--norestore",
               "--nolockcheck", "--convert-to", "pdf", "--outdir", str(work / "out"), str(source)]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=FILL_TIMEOUT_S, env=_clean_env(),
                                  check=False)
        except subprocess.TimeoutExpired as exc:
            raise RuntimeError(f"soffice --convert-to pdf timed out after {FILL_TIMEOUT_S:.0f} s") from exc
        made = work / "out" / (source.stem + ".pdf")
        if not made.is_file():
            raise RuntimeError(f"soffice made no PDF (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(made, dst)
    return dst


def _clear_print_areas(path: Path) -> None:
    """Drop every sheet's print area from a workbook (its _xlnm.Print_Area names), in place."""
    with zipfile.ZipFile(path) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    book = members["xl/workbook.xml"].decode("utf-8")
    members["xl/workbook.xml"] = re.sub(r'<definedName [^>]*name="_xlnm\.Print_Area"[^>]*>[^<]*</definedName>', "",
                                        book).encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def pdf_text(pdf: Path, *, raw: bool = True) -> str:
    """The text of a PDF as ``pdftotext`` (poppler-utils) extracts it; raw keeps each cell's lines together."""
    exe = shutil.which("pdftotext")
    if exe is None:
        raise RuntimeError("pdftotext not found (apt-get install poppler-utils)")
    done = subprocess.run([exe, *(["-raw"] if raw else []), "-enc", "UTF-8", str(pdf), "-"], capture_output=True,
                          check=True, timeout=120)
    return done.stdout.decode("utf-8")


def overprinted(pdf: Path, *, min_share: float = 0.3) -> list[tuple[int, str, str]]:
    """Pairs of words printed over each other: (page, word, word). Text that overflows a row too short for it
    is drawn over the rows below, so pdftotext still finds every character; this finds the overlap."""
    exe = shutil.which("pdftotext")
    if exe is None:
        raise RuntimeError("pdftotext not found (apt-get install poppler-utils)")
    done = subprocess.run([exe, "-bbox", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True,
                          timeout=120)
    found: list[tuple[int, str, str]] = []
    for number, page in enumerate(done.stdout.decode("utf-8").split("<page ")[1:], start=1):
        words = sorted(
            (float(y0), float(y1), float(x0), float(x1), text)
            for x0, y0, x1, y1, text in re.findall(
                r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', page)
        )
        for i, (y0, y1, x0, x1, text) in enumerate(words):
            for other in words[i + 1:]:
                oy0, oy1, ox0, ox1, other_text = other
                if oy0 >= y1:
                    break
                dx, dy = min(x1, ox1) - max(x0, ox0), min(y1, oy1) - max(y0, oy0)
                smaller = min((x1 - x0) * (y1 - y0), (ox1 - ox0) * (oy1 - oy0)) or 1.0
                if dx > 0 and dy > 0 and dx * dy / smaller >= min_share:
                    found.append((number, text, other_text))
    return found


def require_print_fonts() -> None:
    """Skip (fail in CI) when Arial is not Arial or a metric-compatible face (Liberation Sans) here.

    LibreOffice then measures rows with one face and prints with another, so long text overflows in print for
    reasons that are this machine's, not the workbook's. Every LibreOffice install brings Liberation Sans.
    """
    exe = shutil.which("fc-match")
    face = subprocess.run([exe, "-f", "%{family}", "Arial"], capture_output=True, text=True, check=False,
                          timeout=30).stdout if exe else ""
    if any(name in face for name in ("Arial", "Liberation Sans")):
        return
    message = (f"printing tests need Arial or Liberation Sans (fc-match Arial gives {face or 'nothing'}): "
               "apt-get install fonts-liberation2")
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)
