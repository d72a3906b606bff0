#!/usr/bin/python3
"""Fill an .xlsx workbook through LibreOffice (UNO) by defined name, recalculate, save as .xlsx.

Standalone on purpose: python3-uno is installed for the *system* Python (Debian: /usr/bin/python3),
not for the project's virtualenv, so this file imports only the standard library and ``uno`` and is
run in a subprocess (see ``tests/lo/driver.py``).

Usage::

    /usr/bin/python3 tests/lo/uno_fill.py IN.xlsx OUT.xlsx VALUES.json [--read NAME ...] [--pdf OUT.pdf]

VALUES.json is a JSON object ``{defined_name: value}`` where value is

* a string       -> ``cell.setString`` (literal text, a leading "=" is *not* a formula)
* a number       -> ``cell.setValue``
* ``{"date": "YYYY-MM-DD"}`` -> ``cell.setValue(serial)`` relative to the document's NullDate
* ``{"typed": "text"}`` -> ``cell.setFormula(text)``: read as LibreOffice reads what a person types (a
  date-like entry becomes a date unless the cell is formatted as text)
* ``null`` or ``""`` -> the cell's content is cleared (``setString("")`` is a no-op in LibreOffice)

Booleans are rejected (xlsx has no boolean input that LibreOffice can set without a formula).

A name may be workbook-scoped (``doc.NamedRanges``) or sheet-scoped (``sheet.NamedRanges``;
write it as ``Sheet!name`` to pick one sheet explicitly; ``Sheet!A2``, when no name, is that cell). If it refers
to more than one cell (e.g. a merged range) the top-left cell is used.

Protected sheets: the value is set directly; if LibreOffice refuses (throws or silently keeps the old
content) and the sheet is protected, the sheet is unprotected with an empty password, the value set,
and the sheet re-protected with an empty password. Every name logs one line on stderr saying which
happened (``set-direct`` or ``set-after-unprotect``).

Stdout: always exactly one JSON object, ``{name: cell string as displayed}`` for the ``--read`` names
(read after ``calculateAll()``), ``{}`` when ``--read`` is not given.

Exit status: 0 ok, 2 usage / bad VALUES.json / unknown name, 3 LibreOffice could not be started or
connected, 4 timeout, 1 any other failure. Errors go to stderr prefixed with ``uno_fill:``.

soffice always runs with its own throwaway ``-env:UserInstallation`` profile and its own pipe, so
parallel runs do not clash, and it is always terminated (then killed) at the end, profile removed.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from pathlib import Path
from typing import Any

try:
    import uno  # type: ignore[import-not-found]
except ImportError as _exc:  # pragma: no cover - depends on the interpreter
    sys.stderr.write(
        f"uno_fill: cannot import 'uno' with {sys.executable} ({_exc}); run this script with a Python "
        "that has python3-uno (Debian/Ubuntu: /usr/bin/python3 after 'apt-get install python3-uno')\n"
    )
    sys.exit(3)

XLSX_FILTER = "Calc MS Excel 2007 XML"
PDF_FILTER = "calc_pdf_Export"
CONNECT_TIMEOUT_S = 60.0
DEFAULT_TIMEOUT_S = 150.0  # whole run; the pytest driver's own timeout (180 s) is longer on purpose
TERMINATE_GRACE_S = 10.0

# com.sun.star.sheet.CellFlags: VALUE | DATETIME | STRING | FORMULA
_CLEAR_CONTENT_FLAGS = 1 | 2 | 4 | 16
# com.sun.star.util.NumberFormat bits
_NF_DATE = 2
_NF_DATETIME = 6


class FillError(Exception):
    """Failure with a clear message and an exit status."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def log(message: str) -> None:
    sys.stderr.write(f"uno_fill: {message}\n")
    sys.stderr.flush()


# --------------------------------------------------------------------------------------------------
# values
# --------------------------------------------------------------------------------------------------


def load_values(path: Path) -> dict[str, Any]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FillError(f"cannot read VALUES.json {path}: {exc}", 2) from exc
    if not isinstance(raw, dict):
        raise FillError(f"VALUES.json must hold a JSON object, got {type(raw).__name__}", 2)
    for name, value in raw.items():
        check_value(name, value)
    return raw


def check_value(name: str, value: Any) -> None:
    if value is None or isinstance(value, str):
        return
    if isinstance(value, bool):
        raise FillError(f"{name!r}: booleans are not supported, use a string or a number", 2)
    if isinstance(value, (int, float)):
        return
    if isinstance(value, dict) and set(value) == {"typed"} and isinstance(value["typed"], str):
        return
    if isinstance(value, dict) and set(value) == {"date"} and isinstance(value["date"], str):
        try:
            _dt.date.fromisoformat(value["date"])
        except ValueError as exc:
            raise FillError(f"{name!r}: bad date {value['date']!r} (want YYYY-MM-DD)", 2) from exc
        return
    raise FillError(f'{name!r}: unsupported value {value!r} (want string, number, null, {{"date": "YYYY-MM-DD"}} or '
                    '{{"typed": "text"}})', 2)


# --------------------------------------------------------------------------------------------------
# soffice process
# --------------------------------------------------------------------------------------------------


def find_soffice(explicit: str | None) -> str:
    if explicit:
        if os.path.isfile(explicit) and os.access(explicit, os.X_OK):
            return explicit
        raise FillError(f"--soffice {explicit!r} is not an executable file", 3)
    candidates = [
        os.environ.get("AUDITBOOK_SOFFICE"),
        shutil.which("soffice"),
        shutil.which("libreoffice"),
        "/usr/lib/libreoffice/program/soffice",
        "/opt/libreoffice/program/soffice",
        "/Applications/LibreOffice.app/Contents/MacOS/soffice",
    ]
    for cand in candidates:
        if cand and os.path.isfile(cand) and os.access(cand, os.X_OK):
            return cand
    raise FillError("soffice not found (install libreoffice-calc-nogui or pass --soffice PATH)", 3)


class Office:
    """One private soffice instance: own profile, own pipe, own process group."""

    def __init__(self, soffice: str) -> None:
        self.soffice = soffice
        self.workdir = Path(tempfile.mkdtemp(prefix="auditbook-lo-"))
        self.profile = self.workdir / "profile"
        self.pipe = f"auditbook_uno_{os.getpid()}_{uuid.uuid4().hex}"
        self.log_path = self.workdir / "soffice.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._stopped = False

    def start(self) -> None:
        cmd = [
            self.soffice,
            f"-env:UserInstallation={self.profile.as_uri()}",
            "--headless",
            "--invisible",
            "--nologo",
            "--norestore",
            "--nodefault",
            "--nolockcheck",
            f"--accept=pipe,name={self.pipe};urp;",
        ]
        env = dict(os.environ)
        env.pop("PYTHONPATH", None)
        env.pop("PYTHONHOME", None)
        with open(self.log_path, "wb") as logf:
            # own session => os.killpg reaches the wrapper script, oosplash and soffice.bin
            self.proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=logf,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def connect(self, timeout: float) -> Any:
        """Return the remote component context; retries until *timeout* seconds."""
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
        url = f"uno:pipe,name={self.pipe};urp;StarOffice.ComponentContext"
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise FillError(
                    f"soffice exited with status {self.proc.returncode} before accepting a connection\n"
                    f"{self.log_tail()}",
                    3,
                )
            try:
                return resolver.resolve(url)
            except Exception as exc:  # NoConnectException while soffice boots
                last = exc
                time.sleep(0.25)
        raise FillError(f"could not connect to soffice within {timeout:.0f} s: {last}\n{self.log_tail()}", 3)

    def stop(self, desktop: Any | None) -> None:
        """Terminate soffice politely, then by signal; remove the profile. Safe to call twice."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        proc = self.proc
        if proc is not None and proc.poll() is None:
            if desktop is not None:
                # the bridge dies with the process: DisposedException is normal here
                with contextlib.suppress(Exception):
                    desktop.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=TERMINATE_GRACE_S)
        if proc is not None:
            # kill the whole group even if the wrapper exited: soffice.bin may linger
            for sig in (signal.SIGTERM, signal.SIGKILL):
                if not _group_alive(proc):
                    break
                try:
                    os.killpg(proc.pid, sig)
                except (ProcessLookupError, PermissionError):
                    break
                until = time.monotonic() + 5
                while time.monotonic() < until and _group_alive(proc):
                    time.sleep(0.1)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def kill_now(self) -> None:
        """Hard kill from the watchdog / signal path (blocked UNO calls then fail fast)."""
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)


def _group_alive(proc: subprocess.Popen[bytes]) -> bool:
    """True while a live (non-zombie) process is left in soffice's process group."""
    proc.poll()  # reap the wrapper so its zombie does not count
    proc_root = Path("/proc")
    if proc_root.is_dir():
        # LibreOffice leaves short-lived gpg/gpgconf zombies that only PID 1 reaps; ignore zombies
        for stat in proc_root.glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if len(fields) > 2 and fields[2] == str(proc.pid) and fields[0] not in ("Z", "X"):
                return True
        return False
    try:
        os.killpg(proc.pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


# --------------------------------------------------------------------------------------------------
# UNO helpers
# --------------------------------------------------------------------------------------------------


def prop(name: str, value: Any) -> Any:
    p = uno.createUnoStruct("com.sun.star.beans.PropertyValue")
    p.Name = name
    p.Value = value
    return p


def file_url(path: Path) -> str:
    return str(uno.systemPathToFileUrl(str(path.resolve())))


def resolve_name(doc: Any, name: str) -> tuple[Any, str]:
    """Return (top-left cell, description) for a defined name, or raise FillError(status 2)."""
    named = None
    scope_sheet = None
    if "!" in name:
        sheet_name, local = name.rsplit("!", 1)
        sheet_name = sheet_name.strip("'")
        if doc.Sheets.hasByName(sheet_name):
            scope_sheet = doc.Sheets.getByName(sheet_name)
            named = _lookup(scope_sheet.NamedRanges, local)
    else:
        named = _lookup(doc.NamedRanges, name)
        if named is None:  # fall back to a sheet-scoped name, if unique
            hits = []
            for i in range(doc.Sheets.getCount()):
                sheet = doc.Sheets.getByIndex(i)
                found = _lookup(sheet.NamedRanges, name) if hasattr(sheet, "NamedRanges") else None
                if found is not None:
                    hits.append(found)
            if len(hits) > 1:
                raise FillError(f"defined name {name!r} is sheet-scoped on several sheets; use 'Sheet!{name}'", 2)
            named = hits[0] if hits else None
    if named is None and scope_sheet is not None and re.fullmatch(r"[A-Za-z]{1,3}[0-9]{1,7}", local):
        cell = scope_sheet.getCellRangeByName(local.upper())
        return cell, f"{scope_sheet.getName()}!{local.upper()}"
    if named is None:
        raise FillError(f"unknown defined name {name!r}", 2)
    cells = named.getReferredCells()
    if cells is None:
        raise FillError(f"defined name {name!r} does not refer to cells (content {named.getContent()!r})", 2)
    cell = cells.getCellByPosition(0, 0)
    addr = cell.getCellAddress()
    sheet = doc.Sheets.getByIndex(addr.Sheet)
    desc = f"{sheet.getName()}!{_col_letters(addr.Column)}{addr.Row + 1}"
    return cell, desc


def _lookup(named_ranges: Any, name: str) -> Any:
    if named_ranges.hasByName(name):
        return named_ranges.getByName(name)
    lowered = name.lower()  # Excel names are case-insensitive
    for existing in named_ranges.getElementNames():
        if existing.lower() == lowered:
            return named_ranges.getByName(existing)
    return None


def _col_letters(col: int) -> str:
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def null_date(doc: Any) -> _dt.date:
    try:
        nd = doc.NullDate
        return _dt.date(nd.Year, nd.Month, nd.Day)
    except Exception:
        return _dt.date(1899, 12, 30)


def _write(cell: Any, value: Any, nulldate: _dt.date) -> Any:
    """Write *value*; return what the cell should read back as (for verification)."""
    if value is None or value == "":
        # XCell.setString("") is a silent no-op in LibreOffice (the old content stays), so clear instead
        cell.clearContents(_CLEAR_CONTENT_FLAGS)
        return ("empty", None)
    if isinstance(value, str):
        cell.setString(value)
        return ("string", value)
    if isinstance(value, dict) and "typed" in value:
        cell.setFormula(value["typed"])
        return ("typed", value["typed"])
    if isinstance(value, dict):
        serial = float((_dt.date.fromisoformat(value["date"]) - nulldate).days)
        cell.setValue(serial)
        return ("value", serial)
    cell.setValue(float(value))
    return ("value", float(value))


def _took(cell: Any, expected: Any) -> bool:
    kind, want = expected
    ctype = cell.getType().value  # EMPTY / VALUE / TEXT / FORMULA
    if kind == "empty":
        return bool(ctype == "EMPTY")
    if kind == "string":
        return bool(ctype == "TEXT" and cell.getString() == want)
    if kind == "typed":
        return bool(ctype != "EMPTY")
    return bool(ctype == "VALUE" and cell.getValue() == want)


def set_cell(doc: Any, name: str, cell: Any, where: str, value: Any, nulldate: _dt.date) -> str:
    addr = cell.getCellAddress()
    sheet = doc.Sheets.getByIndex(addr.Sheet)
    protected = bool(sheet.isProtected())
    locked = bool(cell.CellProtection.IsLocked)
    error: Exception | None = None
    try:
        expected = _write(cell, value, nulldate)
        if _took(cell, expected):
            how = "set-direct"
            log(f"{name} -> {where}: {how} (sheet protected={protected}, cell locked={locked})")
            return how
    except Exception as exc:
        error = exc
    if not protected:
        raise FillError(f"could not set {name!r} ({where}) on an unprotected sheet: {error!r}")
    why = f"threw {type(error).__name__}: {error}" if error else "value silently not applied"
    try:
        sheet.unprotect("")
    except Exception as exc:
        raise FillError(
            f"{name!r} ({where}) is on a protected sheet, direct set {why}, and unprotect with an empty "
            f"password failed ({exc!r}) - is the sheet protected with a password?"
        ) from exc
    try:
        expected = _write(cell, value, nulldate)
        if not _took(cell, expected):
            raise FillError(f"{name!r} ({where}): value not applied even after unprotecting the sheet")
    finally:
        sheet.protect("")
    how = "set-after-unprotect"
    log(f"{name} -> {where}: {how} (direct set {why}; sheet re-protected with empty password)")
    return how


def date_format_warning(doc: Any, cell: Any, name: str, where: str) -> None:
    try:
        fmt = doc.NumberFormats.getByKey(cell.NumberFormat)
        if not (fmt.Type & _NF_DATE or fmt.Type & _NF_DATETIME == _NF_DATETIME):
            log(
                f"warning: {name} ({where}) got a date but its number format {fmt.FormatString!r} is not a "
                "date format; it will read back as a plain number"
            )
    except Exception:
        pass


def make_editable(ctx: Any, doc: Any) -> Any:
    """Leave read-only mode like the 'Edit Document' button would; return the (new) document model.

    LibreOffice opens a workbook read-only when it carries <fileSharing readOnlyRecommended="1"/>
    (xlsxwriter's read_only_recommended()) or the _MarkAsFinal custom property that LibreOffice itself
    writes for it. setString/setValue still work on such a document, but clearing a cell does not.
    .uno:EditDoc *reloads* the document into a new model; the old model must not be used afterwards
    (soffice aborts).
    """
    try:
        frame = doc.getCurrentController().getFrame()
        helper = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.DispatchHelper", ctx)
        helper.executeDispatch(frame, ".uno:EditDoc", "", 0, ())
        new_doc = frame.getController().getModel()
    except Exception as exc:
        raise FillError(f"document opened read-only and switching to edit mode failed: {exc!r}") from exc
    if new_doc is None or new_doc.isReadonly():
        raise FillError("document opened read-only (readOnlyRecommended/_MarkAsFinal) and stays read-only")
    log("document opened read-only (readOnlyRecommended/_MarkAsFinal); switched to edit mode (reloaded)")
    return new_doc


# --------------------------------------------------------------------------------------------------
# main flow
# --------------------------------------------------------------------------------------------------


class Job:
    def __init__(self, args: argparse.Namespace, values: dict[str, Any], office: Office) -> None:
        self.args = args
        self.values = values
        self.office = office
        self.desktop: Any | None = None
        self.result: dict[str, str] | None = None
        self.error: BaseException | None = None
        self.error_tb = ""

    def run(self) -> None:
        try:
            self.result = self._run()
        except BaseException as exc:
            self.error = exc
            self.error_tb = traceback.format_exc()

    def _run(self) -> dict[str, str]:
        t0 = time.monotonic()
        self.office.start()
        ctx = self.office.connect(CONNECT_TIMEOUT_S)
        deadline = time.monotonic() + 15
        while True:  # the service manager can lag a moment behind the pipe
            try:
                self.desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.25)
        log(f"soffice up and connected in {time.monotonic() - t0:.1f} s")

        src = Path(self.args.src)
        # Work on private copies: LibreOffice locks the files it opens (.~lock.NAME#), so parallel runs
        # loading the same template would otherwise fail, and lock files would land next to IN/OUT.
        work_in = self.office.workdir / ("in" + (src.suffix or ".xlsx"))
        work_out = self.office.workdir / "out.xlsx"
        shutil.copyfile(src, work_in)
        doc = self.desktop.loadComponentFromURL(
            file_url(work_in),
            "_blank",
            0,
            (prop("Hidden", True), prop("ReadOnly", False), prop("MacroExecutionMode", 0)),  # NEVER_EXECUTE
        )
        if doc is None or not hasattr(doc, "NamedRanges"):
            if doc is not None:
                doc.close(True)
            raise FillError(f"LibreOffice could not load {src} as a spreadsheet")
        try:
            if doc.isReadonly():
                doc = make_editable(ctx, doc)
            # resolve everything first so an unknown name fails before anything is written
            targets = {name: resolve_name(doc, name) for name in self.values}
            reads = {name: resolve_name(doc, name) for name in self.args.read}
            nulldate = null_date(doc)
            for name, value in self.values.items():
                cell, where = targets[name]
                set_cell(doc, name, cell, where, value, nulldate)
                if isinstance(value, dict) and "date" in value:
                    date_format_warning(doc, cell, name, where)
            doc.calculateAll()
            out = {name: str(cell.getString()) for name, (cell, _where) in reads.items()}
            doc.storeToURL(file_url(work_out), (prop("FilterName", XLSX_FILTER), prop("Overwrite", True)))
            if self.args.pdf:
                # Printed as it stands in the session a person typed in (File > Export as PDF).
                pdf = Path(self.args.pdf)
                pdf.parent.mkdir(parents=True, exist_ok=True)
                doc.storeToURL(file_url(self.office.workdir / "out.pdf"), (prop("FilterName", PDF_FILTER),))
                shutil.copyfile(self.office.workdir / "out.pdf", pdf)
            dst = Path(self.args.dst)
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(work_out, dst)
            log(f"saved {dst} ({time.monotonic() - t0:.1f} s since start)")
            return out
        finally:
            try:
                doc.close(True)
            except Exception:
                with contextlib.suppress(Exception):
                    doc.dispose()


class _Interrupted(BaseException):
    pass


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="uno_fill.py", description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("src", help="input .xlsx")
    p.add_argument("dst", help="output .xlsx (overwritten)")
    p.add_argument("values", help='JSON file: {defined_name: string | number | null | {"date": "YYYY-MM-DD"}}')
    p.add_argument(
        "--read",
        nargs="+",
        default=[],
        metavar="NAME",
        help="after recalculation print {name: displayed string} as JSON on stdout",
    )
    p.add_argument("--pdf", default=None, metavar="OUT.pdf", help="also print the filled workbook to this PDF")
    p.add_argument("--soffice", default=None, help="soffice executable (default: $AUDITBOOK_SOFFICE or PATH)")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="whole-run timeout in seconds")
    return p.parse_args(argv)


def main(argv: list[str]) -> int:
    try:
        args = parse_args(argv)
    except SystemExit as exc:  # argparse already printed usage
        return 2 if exc.code else 0
    try:
        if not Path(args.src).is_file():
            raise FillError(f"input workbook not found: {args.src}", 2)
        values = load_values(Path(args.values))
        office = Office(find_soffice(args.soffice))
    except FillError as exc:
        log(f"error: {exc}")
        return exc.status

    job = Job(args, values, office)
    # All UNO work runs in a worker thread so that this (main) thread stays responsive to
    # SIGTERM/SIGINT and to the timeout even while a UNO call is blocked inside C code.
    worker = threading.Thread(target=job.run, name="uno-fill", daemon=True)

    def on_signal(signum: int, _frame: Any) -> None:
        raise _Interrupted(signal.Signals(signum).name)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)

    status = 0
    try:
        worker.start()
        worker.join(args.timeout)
        if worker.is_alive():
            office.kill_now()
            worker.join(10)
            log(f"error: timed out after {args.timeout:.0f} s\n{office.log_tail()}")
            status = 4
        elif job.error is not None:
            err = job.error
            if isinstance(err, FillError):
                log(f"error: {err}")
                status = err.status
            else:
                log(f"error: {type(err).__name__}: {err}\n{job.error_tb}{office.log_tail()}")
                status = 1
        else:
            sys.stdout.write(json.dumps(job.result or {}, ensure_ascii=False) + "\n")
            sys.stdout.flush()
    except _Interrupted as exc:
        log(f"error: interrupted by {exc}")
        office.kill_now()
        status = 1
    finally:
        if worker.is_alive():
            office.kill_now()
        t_stop = time.monotonic()
        office.stop(job.desktop if not worker.is_alive() else None)
        log(f"soffice stopped and profile removed in {time.monotonic() - t_stop:.1f} s")
    return status


if __name__ == "__main__":
    rc = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    # os._exit: a daemon thread may still sit in a dead UNO bridge; don't let finalisation hang on it
    os._exit(rc)
