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
import shutil
import signal
import subprocess
import tempfile
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


def fill(src: Path, dst: Path, values: Mapping[str, object], *, read: Iterable[str] = ()) -> dict[str, str]:
    """Open *src* in LibreOffice, set *values* by defined name, recalculate, save *dst* as .xlsx.

    values: {name: str | int | float | None | datetime.date | {"date": "YYYY-MM-DD"}};
    None and "" clear the cell.
    Returns {name: displayed string} for the names in *read* (after recalculation).
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
