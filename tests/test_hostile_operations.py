"""Operations on a hostile shared folder (issue 20): what is read is what is remembered, collect's own files never
overwrite or swallow a return, pack names stay with their managers, failures are one line and exit 2, interrupts end
collect, and every edit read back is accountable."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet
from typer.testing import CliRunner, Result

from auditbook.cli import app
from auditbook.collection.collect import collect
from auditbook.collection.result import CollectResult
from auditbook.returns.provenance import SpecRegistry
from auditbook.store import ledger as ledger_module
from auditbook.store import scan as scan_module
from auditbook.store.ledger import Ledger
from tests.returns import spec, valid_return
from tests.test_collect import clones
from tests.test_register import NOW, actions_tab, built, folder
from tests.test_register import run as run_register

__all__ = ["built", "folder"]  # the fixtures test_register makes

REGISTRY = SpecRegistry.of(spec())
runner = CliRunner()


def run(folder: Path, out: Path, **options: object) -> CollectResult:
    """Collect `folder` with the master and ledger in `out` (never in the returns folder)."""
    return collect(folder, out=out / "master.xlsx", ledger_path=out / "ledger.sqlite3", registry=REGISTRY,
                   workers=1, **options)  # type: ignore[arg-type]


def case_refs(master: Path) -> list[str]:
    """The case references on the master's Audits tab."""
    ws = openpyxl.load_workbook(master, read_only=True)["Audits"]
    return [str(r[0]) for r in ws.iter_rows(min_row=2, values_only=True) if r[0] is not None]


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    """The bytes of two valid returns of different children (SYN-0201 and SYN-0202)."""
    where = tmp_path_factory.mktemp("two")
    return tuple(valid_return(where / f"{ref}.xlsx", changes={"profile_case_ref": ref}).read_bytes()
                 for ref in ("SYN-0201", "SYN-0202"))  # type: ignore[return-value]


def test_a_file_replaced_while_collect_reads_it_is_read_again_next_time(
        tmp_path: Path, two: tuple[bytes, bytes], monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = two
    folder, out = tmp_path / "returns", tmp_path / "out"
    folder.mkdir()
    target = folder / "SYN-0201.xlsx"
    target.write_bytes(first)
    original = target.stat()
    real_hash = scan_module.file_hash

    def hash_then_replace(path: Path, limit: int) -> str:
        sha = real_hash(path, limit)
        if path.name == target.name:  # a sync client replaces the file after it was looked at, before it is read
            swap = folder.parent / "swap.xlsx"
            swap.write_bytes(second)
            os.utime(swap, ns=(original.st_atime_ns, original.st_mtime_ns + 5_000_000_000))
            os.replace(swap, target)
        return sha

    monkeypatch.setattr(scan_module, "file_hash", hash_then_replace)
    assert case_refs(run(folder, out).master) == ["SYN-0202"]  # what was read is merged
    monkeypatch.undo()
    ledger = Ledger(out / "ledger.sqlite3")
    try:
        entry = ledger.entries()["SYN-0201.xlsx"]
    finally:
        ledger.close()
    # ... and remembered under the hash of those bytes, with the size and time of the file that was read.
    assert (entry.sha256, entry.size) == (hashlib.sha256(second).hexdigest(), len(second))
    # The original comes back, with its own time (sync clients keep it): it is read again, not taken as remembered.
    target.write_bytes(first)
    os.utime(target, ns=(original.st_atime_ns, original.st_mtime_ns))
    result = run(folder, out)
    assert (result.read, case_refs(result.master)) == (1, ["SYN-0201"])


_COLLECT = """
import sys
from pathlib import Path
from auditbook.collection.collect import collect
folder, master, ledger = sys.argv[1:4]
collect(Path(folder), out=Path(master), ledger_path=Path(ledger), workers=2)
"""


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (Linux /proc)."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                stat_line = Path(f"/proc/{entry}/stat").read_text()
                if int(stat_line.rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(entry))
    return out


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc to find the worker processes")
def test_two_interrupts_end_collect_within_15_seconds_leaving_no_worker(tmp_path: Path, two: tuple[bytes, bytes]
                                                                         ) -> None:
    folder, out = tmp_path / "returns", tmp_path / "out"
    base = tmp_path / "base.xlsx"
    base.write_bytes(two[0])
    clones(base, folder, 150)  # read by a pool of worker processes for some seconds, even on a loaded machine
    proc = subprocess.Popen([sys.executable, "-c", _COLLECT, str(folder), str(out / "master.xlsx"),
                             str(out / "ledger.sqlite3")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while len(_children(proc.pid)) < 2 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        workers = _children(proc.pid)
        assert len(workers) >= 2 and proc.poll() is None, "the workers never started"
        time.sleep(0.5)  # reading
        os.kill(proc.pid, signal.SIGINT)  # Ctrl+C as a script sends it: to the process,
        time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGINT)  # then as a terminal does: to the whole group
        interrupted = time.monotonic()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pytest.fail("collect did not end within 15 seconds of two interrupts")
        ended = time.monotonic() - interrupted
        deadline = time.monotonic() + 5
        while _group_alive(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _group_alive(proc.pid), f"processes left behind: {_children(1)}"
        assert ended < 15
        assert proc.returncode != 0
        assert not (out / "master.xlsx").exists()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=30)


# A worker stops half way through sending its report back, as one killed by an interrupt at that moment does: it
# has sent the report's length and a little of it, then interrupts collect and waits to be killed.
_HALF_SENT = """
import os, signal, struct, sys, time
from pathlib import Path
from auditbook.returns import workers
made = []
def recording(*args):
    made.append(real(*args))
    return made[-1]
real, workers._pool = workers._pool, recording
def half_sent(path):
    os.write(made[-1]._result_queue._writer.fileno(), struct.pack("!i", 100_000) + b"x" * 1000)
    os.kill(os.getppid(), signal.SIGINT)
    time.sleep(600)
workers._validate_in_worker = half_sent
workers._in_pool([Path(sys.argv[1])], [0], None, 1, lambda i, report: None)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="a worker interrupts collect with a POSIX signal")
def test_an_interrupt_while_a_worker_is_half_way_through_sending_a_report_ends_collect(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", _HALF_SENT, str(tmp_path / "SYN-0001.xlsx")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pytest.fail("collect did not end within 15 seconds of the interrupt")
        deadline = time.monotonic() + 5
        while _group_alive(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _group_alive(proc.pid), "the worker was left behind"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        _, err = proc.communicate(timeout=30)
    # Ended by the interrupt (Python ends itself with SIGINT when KeyboardInterrupt reaches the top).
    assert proc.returncode == -signal.SIGINT, err.decode()
    assert err.decode().rstrip().splitlines()[-1] == "KeyboardInterrupt"


# -- collect's own files never overwrite or swallow a return -------------------------------------------------------


def _one_line(result: Result) -> str:
    """The one line a failed command printed (on stderr), checked to be one line."""
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    return lines[0]


@pytest.fixture
def returned(tmp_path: Path, two: tuple[bytes, bytes]) -> Path:
    """A returns folder holding one valid return, SYN-0201.xlsx."""
    folder = tmp_path / "returns"
    folder.mkdir()
    (folder / "SYN-0201.xlsx").write_bytes(two[0])
    return folder


def test_out_naming_a_return_is_refused_and_the_return_kept(returned: Path, tmp_path: Path) -> None:
    target = returned / "SYN-0201.xlsx"
    before = target.read_bytes()
    result = runner.invoke(app, ["collect", str(returned), "--out", str(target), "--ledger", str(tmp_path / "l.db")])
    assert result.exit_code == 2, result.output
    assert _one_line(result) == (f"Error: the master would be written over {target}, which is not an auditbook "
                                 "master. Give --out a new file name (or the master an earlier collect wrote), or move "
                                 "that file first.")
    assert target.read_bytes() == before
    # A master collect wrote is written again; a pack is not a master.
    out = tmp_path / "out"
    assert runner.invoke(app, ["collect", str(returned), "--out", str(out / "m.xlsx"), "--ledger",
                               str(out / "l.db"), "--packs", str(out / "packs")]).exit_code == 0
    assert runner.invoke(app, ["collect", str(returned), "--out", str(out / "m.xlsx"), "--ledger",
                               str(out / "l2.db")]).exit_code == 0
    pack = next((out / "packs").glob("pack_*.xlsx"))
    result = runner.invoke(app, ["collect", str(returned), "--out", str(pack), "--ledger", str(out / "l3.db")])
    assert result.exit_code == 2, result.output
    assert "which is a team manager's pack." in _one_line(result)


def test_a_return_saved_into_a_packs_folder_inside_the_returns_folder_is_read(returned: Path, tmp_path: Path,
                                                                             two: tuple[bytes, bytes]) -> None:
    packs = returned / "packs"
    first = run(returned, tmp_path, packs=packs)
    assert len(first.packs) == 1
    (packs / "SYN-0202.xlsx").write_bytes(two[1])  # saved next to the packs by mistake
    again = run(returned, tmp_path, packs=packs)
    # The return is read and merged; the pack auditbook wrote is not taken for one.
    assert (again.files, again.read, again.skipped) == (2, 1, 0)
    assert case_refs(again.master) == ["SYN-0201", "SYN-0202"]
    assert run(returned, tmp_path).files == 2  # and without --packs, the ledger still knows its packs


def _pack_cases(pack: Path) -> list[str]:
    ws = openpyxl.load_workbook(pack, read_only=True)["Findings"]
    return sorted({str(r[0]) for r in ws.iter_rows(min_row=2, values_only=True) if r[0]})


def test_a_pack_file_stays_with_its_manager_when_a_new_name_appears(tmp_path: Path) -> None:
    folder, out = tmp_path / "returns", tmp_path / "out"
    folder.mkdir()
    # Two names that make the same file name; the newcomer's sorts first.
    valid_return(folder / "SYN-0301.xlsx", changes={"profile_case_ref": "SYN-0301",
                                                     "profile_team_manager": "Example Smith."})
    run(folder, out, packs=out / "packs")
    assert _pack_cases(out / "packs" / "pack_example-smith.xlsx") == ["SYN-0301"]
    valid_return(folder / "SYN-0302.xlsx", changes={"profile_case_ref": "SYN-0302",
                                                     "profile_team_manager": "Example Smith"})
    result = run(folder, out, packs=out / "packs")
    assert sorted(p.name for p in result.packs) == ["pack_example-smith-2.xlsx", "pack_example-smith.xlsx"]
    assert _pack_cases(out / "packs" / "pack_example-smith.xlsx") == ["SYN-0301"]
    assert _pack_cases(out / "packs" / "pack_example-smith-2.xlsx") == ["SYN-0302"]


# -- every operational failure is one line and exit 2, and no master is replaced before the ledger is safe ---------


def test_a_data_folder_that_cannot_be_written_is_one_line(returned: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder would be")
    monkeypatch.setenv("AUDITBOOK_DATA_DIR", str(blocker / "auditbook"))
    result = runner.invoke(app, ["collect", str(returned), "--out", str(tmp_path / "m.xlsx")])
    assert result.exit_code == 2, result.output
    line = _one_line(result)  # why is the system's word for it ("Not a directory" here)
    assert line.startswith(f"Error: cannot keep the ledger key in your data folder {blocker / 'auditbook'} (")
    assert line.endswith("). Check that folder can be written, or set AUDITBOOK_DATA_DIR to one that can.")
    assert not (tmp_path / "m.xlsx").exists()


def test_a_master_folder_that_cannot_be_written_is_one_line(returned: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the master's folder would be")
    result = runner.invoke(app, ["collect", str(returned), "--out", str(blocker / "m.xlsx"), "--ledger",
                                 str(tmp_path / "l.db")])
    assert result.exit_code == 2, result.output
    assert _one_line(result).startswith(f"Error: could not write the master {blocker / 'm.xlsx'} (")


class _FullDisk:
    """A ledger connection whose disk fills: SQLite itself refuses to grow the file past the pages it has
    (max_page_count), as it does when the disk is full."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        db.execute(f"PRAGMA max_page_count = {max(pages, 1)}")

    def __getattr__(self, name: str) -> object:
        return getattr(self.db, name)


class _CommitFails:
    """A ledger connection whose COMMIT fails as on a full disk, after everything else went through."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def execute(self, sql: str, *args: object) -> object:
        if sql == "COMMIT":
            raise sqlite3.OperationalError("database or disk is full")
        return self.db.execute(sql, *args)

    def __getattr__(self, name: str) -> object:
        return getattr(self.db, name)


@pytest.mark.parametrize("full", [_FullDisk, _CommitFails])
def test_the_ledger_disk_filling_is_one_line_and_leaves_the_master(
        full: type, tmp_path: Path, two: tuple[bytes, bytes], monkeypatch: pytest.MonkeyPatch) -> None:
    folder, out = tmp_path / "returns", tmp_path / "out"
    folder.mkdir()
    (folder / "SYN-0201.xlsx").write_bytes(two[0])
    args = ["collect", str(folder), "--out", str(out / "master.xlsx"), "--ledger", str(out / "ledger.sqlite3")]
    assert runner.invoke(app, args).exit_code == 0
    before = (out / "master.xlsx").read_bytes()
    (folder / "SYN-0202.xlsx").write_bytes(two[1])
    real_connect = sqlite3.connect
    monkeypatch.setattr(ledger_module.sqlite3, "connect", lambda *a, **k: full(real_connect(*a, **k)))
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    ledger = out / "ledger.sqlite3"
    assert _one_line(result) == (f"Error: the ledger {ledger} could not be written (database or disk is "
                                 "full); nothing of this run was kept and the master is unchanged. Free some space "
                                 "where the ledger is (or give --ledger another place), then collect again.")
    assert (out / "master.xlsx").read_bytes() == before
    assert [p.name for p in out.iterdir() if p.name.startswith(".auditbook-")] == []
    monkeypatch.undo()
    # Nothing of the failed run was kept: the new return is read and merged now.
    result = run_cli(args)
    assert result.stdout.splitlines()[-1].startswith("2 files: 1 unchanged since last run, 1 read; master holds 2 ")
    assert case_refs(out / "master.xlsx") == ["SYN-0201", "SYN-0202"]


def run_cli(args: list[str]) -> Result:
    """Run the command line in this process, checking it succeeded."""
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return result


# -- every edit read back is accountable ---------------------------------------------------------------------------


def _save_as(path: Path, who: str, edit: Callable[[Worksheet, list[object]], None]) -> None:
    """Edit a file's Actions tab and save it as `who` (what Excel writes into docProps/core.xml lastModifiedBy)."""
    wb = openpyxl.load_workbook(path)
    ws = wb["Actions"]
    edit(ws, [c.value for c in ws[1]])
    wb.properties.lastModifiedBy = who
    wb.save(path)


def test_every_edit_read_back_is_logged_and_another_managers_action_refused(folder: Path) -> None:
    packs = folder.parent / "packs"
    first = run_register(folder, packs=packs)
    held = {p: [r["Action ID"] for r in actions_tab(p)] for p in first.packs}
    mine, theirs = [p for p in first.packs if held[p]][:2]
    own, other = held[mine][0], held[theirs][0]
    was = {r["Action ID"]: r for r in actions_tab(first.master)}
    forger = 'Example Manager =HYPERLINK("http://example.invalid")'

    def in_pack(ws: Worksheet, head: list[object]) -> None:
        ws.cell(row=2, column=head.index("Status") + 1).value = "Done"
        extra = ws.max_row + 1  # another manager's action typed in below: not theirs to change
        ws.cell(row=extra, column=head.index("Action ID") + 1).value = other
        ws.cell(row=extra, column=head.index("Status") + 1).value = "Done"

    _save_as(mine, forger, in_pack)
    note_row = [r["Action ID"] for r in actions_tab(first.master)].index(other) + 2
    _save_as(first.master, "Example Collator",
             lambda ws, head: setattr(ws.cell(row=note_row, column=head.index("Notes") + 1), "value", "Chased"))
    saved = {mine.name: mine.stat().st_mtime, "the master": first.master.stat().st_mtime}
    second = run_register(folder, packs=packs)
    ws = openpyxl.load_workbook(second.master)["Edits"]
    assert [c.value for c in ws[1]] == ["Read", "From", "Where", "Last saved by (as the file says)", "File saved",
                                        "Action or plan ID", "Field", "Was", "Now", "Outcome"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert {(r[1], r[4]) for r in rows} == {
        (name, datetime.fromtimestamp(t).isoformat(sep=" ", timespec="seconds")) for name, t in saved.items()}
    logged = sorted(tuple("" if v is None else v for v in r[1:4] + r[5:]) for r in rows)
    extra_row = len(held[mine]) + 2
    assert logged == sorted([
        (mine.name, "Actions row 2", forger, own, "Status", was[own]["Status"] or "", "Done", "taken"),
        (mine.name, f"Actions row {extra_row}", forger, other, "Status", was[other]["Status"] or "", "Done",
         "refused: not one of this pack's actions (a team manager changes only their own)"),
        ("the master", f"Actions row {note_row}", "Example Collator", other, "Notes", "", "Chased", "taken"),
    ])
    assert {r[0] for r in ws.iter_rows(min_row=2, values_only=True)} == {NOW.isoformat(sep=" ")}
    # Who the file says saved it is shown as text, never run as a formula.
    forged = next(c for row in ws.iter_rows(min_row=2) for c in row if c.value == forger)
    assert forged.data_type == "s"
    states = {r["Action ID"]: r for r in actions_tab(second.master)}
    assert (states[own]["Status"], states[other]["Status"], states[other]["Notes"]) == (
        "Done", was[other]["Status"], "Chased")
    # The log is kept: the next master still shows it.
    third = run_register(folder, packs=packs, threshold=0.4)
    assert len(list(openpyxl.load_workbook(third.master)["Edits"].iter_rows(min_row=2))) == 3


def test_an_output_left_in_the_folder_is_remembered_not_read_every_time(returned: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run(returned, out, packs=out / "packs")
    shutil.copy(next((out / "packs").glob("pack_*.xlsx")), returned / "copy of a pack.xlsx")
    first = run(returned, out)
    assert (first.read, [n.reason for n in first.not_merged]) == (
        1, ["auditbook output (a team manager's pack), not a return"])
    again = run(returned, out, threshold=0.4)
    assert (again.read, again.unchanged) == (0, 2)
