"""The ledger (issue 8): off the share by default, bound to one folder, tamper-evident, --forget; and the
operations around it (a master path that is a folder, a full disk, worker processes that die or are orphaned)."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

import auditbook.collection.collect as collect_module
from auditbook.cli import app
from auditbook.collection.collect import collect, default_paths
from auditbook.errors import CollectError
from auditbook.returns import workers
from auditbook.returns.provenance import SpecRegistry
from auditbook.returns.report import Report
from auditbook.store.ledger import Ledger
from auditbook.store.location import default_ledger, network_fs
from auditbook.store.reports import report_from_json
from auditbook.userdata import data_dir
from tests.returns import spec, valid_return

runner = CliRunner()
REGISTRY = SpecRegistry.of(spec())


def two_returns(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    valid_return(folder / "SYN-0001.xlsx", changes={"profile_case_ref": "SYN-0001", "profile_worker": "Example One"})
    valid_return(folder / "SYN-0002.xlsx", changes={"profile_case_ref": "SYN-0002", "profile_worker": "Example Two"})
    return folder


def workers_of(master: Path) -> dict[str, str]:
    ws = openpyxl.load_workbook(master)["Audits"]
    column = [c.value for c in ws[1]].index("Allocated worker")
    return {r[0]: r[column] for r in ws.iter_rows(min_row=2, values_only=True)}


def test_the_ledger_lives_in_the_user_data_folder_not_the_share(tmp_path: Path) -> None:
    folder = two_returns(tmp_path / "share" / "returns")
    result = collect(folder, registry=REGISTRY)
    assert result.ledger == default_ledger(folder)
    assert data_dir() in result.ledger.parents and str(data_dir()) == os.environ["AUDITBOOK_DATA_DIR"]
    assert sorted(p.name for p in folder.iterdir()) == ["SYN-0001.xlsx", "SYN-0002.xlsx", "auditbook-master.xlsx"]
    assert default_paths(folder, None, tmp_path / "l.sqlite3")[1] == tmp_path / "l.sqlite3"
    # The same folder reached another way is the same ledger; another folder has its own.
    assert default_ledger(tmp_path / "share" / ".." / "share" / "returns") == result.ledger
    assert default_ledger(tmp_path / "other") != result.ledger
    assert collect(folder, registry=REGISTRY).read == 0


def test_a_ledger_refuses_another_folder(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.sqlite3"
    first, second = two_returns(tmp_path / "a"), two_returns(tmp_path / "b")
    collect(first, out=tmp_path / "a.xlsx", ledger_path=ledger, registry=REGISTRY)
    result = runner.invoke(app, ["collect", str(second), "--out", str(tmp_path / "b.xlsx"), "--ledger", str(ledger)])
    assert result.exit_code == 2, result.output
    assert result.output.strip() == (f"Error: the ledger {ledger} belongs to the folder {first.resolve()}, not "
                                     f"{second.resolve()}. Collect that folder, or give --ledger a new path for "
                                     "this one.")
    assert not (tmp_path / "b.xlsx").exists()


def _tamper(ledger: Path, sql: str, *args: object) -> None:
    db = sqlite3.connect(ledger)
    db.execute(sql, args)
    db.commit()
    db.close()


def test_an_edited_row_is_detected_and_read_again_from_its_file(tmp_path: Path) -> None:
    folder = two_returns(tmp_path / "returns")
    ledger = tmp_path / "share" / "ledger.sqlite3"  # --ledger on the share: the key is not there
    collect(folder, out=tmp_path / "m.xlsx", ledger_path=ledger, registry=REGISTRY)
    db = sqlite3.connect(ledger)
    (report,) = db.execute("SELECT report FROM files WHERE path = 'SYN-0001.xlsx'").fetchone()
    db.close()
    assert "Example One" in report
    _tamper(ledger, "UPDATE files SET report = ? WHERE path = 'SYN-0001.xlsx'",
            report.replace("Example One", "Example Forged"))
    result = collect(folder, out=tmp_path / "m.xlsx", ledger_path=ledger, registry=REGISTRY)
    assert (result.read, result.unchanged) == (1, 1)
    assert workers_of(tmp_path / "m.xlsx") == {"SYN-0001": "Example One", "SYN-0002": "Example Two"}


def test_an_edited_row_whose_file_is_gone_is_listed_as_damaged(tmp_path: Path) -> None:
    folder = two_returns(tmp_path / "returns")
    ledger = tmp_path / "ledger.sqlite3"
    collect(folder, out=tmp_path / "m.xlsx", ledger_path=ledger, registry=REGISTRY)
    (folder / "SYN-0001.xlsx").unlink()
    _tamper(ledger, "UPDATE files SET sha256 = 'forged' WHERE path = 'SYN-0001.xlsx'")
    _tamper(ledger, "UPDATE files SET size = 'abc', report = '{not json' WHERE path = 'SYN-0002.xlsx'")
    result = runner.invoke(app, ["collect", str(folder), "--out", str(tmp_path / "m.xlsx"), "--ledger", str(ledger)])
    assert result.exit_code == 1, result.output
    assert "not read SYN-0001.xlsx: ledger entry damaged" in result.stdout
    assert "Traceback" not in result.output
    assert result.stdout.splitlines()[-1] == ("1 file: 0 unchanged since last run, 1 read; "
                                              "master holds 1 audit; 0 rejected; 0 duplicate; 0 superseded; "
                                              "1 damaged in the ledger")
    assert workers_of(tmp_path / "m.xlsx") == {"SYN-0002": "Example Two"}  # the malformed row was read afresh


def test_the_remembered_outcome_is_signed_too(tmp_path: Path) -> None:
    folder = two_returns(tmp_path / "returns")
    ledger = tmp_path / "ledger.sqlite3"
    collect(folder, out=tmp_path / "m.xlsx", ledger_path=ledger, registry=REGISTRY)
    db = sqlite3.connect(ledger)
    (outcome,) = db.execute("SELECT value FROM meta WHERE key = 'outcome'").fetchone()
    db.close()
    forged = json.loads(outcome)
    forged["merged"] = []
    _tamper(ledger, "UPDATE meta SET value = ? WHERE key = 'outcome'", json.dumps(forged))
    result = collect(folder, out=tmp_path / "m.xlsx", ledger_path=ledger, registry=REGISTRY)
    assert [m["case_ref"] for m in result.merged] == ["SYN-0001", "SYN-0002"]


def test_forget_removes_a_files_answers_from_ledger_and_master(tmp_path: Path) -> None:
    folder = two_returns(tmp_path / "returns")
    args = ["collect", str(folder), "--out", str(tmp_path / "m.xlsx"), "--ledger", str(tmp_path / "l.sqlite3")]
    assert runner.invoke(app, args).exit_code == 0
    (folder / "SYN-0001.xlsx").unlink()
    kept = runner.invoke(app, args)
    assert kept.exit_code == 0, kept.output
    assert "source file missing SYN-0001.xlsx: no longer in the folder; kept in the master from the ledger" \
        in kept.stdout
    still_there = runner.invoke(app, [*args, "--forget", "SYN-0002.xlsx"])
    assert still_there.exit_code == 2
    assert "SYN-0002.xlsx is still in the returns folder" in still_there.output
    forgot = runner.invoke(app, [*args, "--forget", "SYN-0001.xlsx"])
    assert forgot.exit_code == 0, forgot.output
    assert forgot.stdout.splitlines()[0] == "forgotten SYN-0001.xlsx: its stored answers were removed from the ledger"
    assert workers_of(tmp_path / "m.xlsx") == {"SYN-0002": "Example Two"}
    db = sqlite3.connect(tmp_path / "l.sqlite3")
    assert [r[0] for r in db.execute("SELECT path FROM files")] == ["SYN-0002.xlsx"]
    db.close()


MOUNTS = """/dev/sda1 / ext4 rw 0 0
//server/share /mnt/share cifs rw 0 0
server:/export /mnt/nfs\\040data nfs4 rw 0 0
"""


def test_network_file_systems_are_recognised() -> None:
    assert network_fs(Path("/mnt/share/deep dive/ledger.sqlite3"), MOUNTS) == "cifs"
    assert network_fs(Path("/mnt/nfs data/ledger.sqlite3"), MOUNTS) == "nfs4"
    assert network_fs(Path("/mnt/shared/ledger.sqlite3"), MOUNTS) is None
    assert network_fs(Path("/home/me/ledger.sqlite3"), MOUNTS) is None
    assert network_fs(Path("//server/share/ledger.sqlite3"), MOUNTS) == "UNC path"


def test_a_ledger_on_a_network_share_is_warned_about(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = two_returns(tmp_path / "returns")
    share = tmp_path / "share"
    monkeypatch.setattr(collect_module, "network_fs", lambda p: "cifs" if share in p.parents else None)
    result = runner.invoke(app, ["collect", str(folder), "--ledger", str(share / "l.sqlite3")])
    assert result.exit_code == 0, result.output
    assert f"Warning: the ledger {share / 'l.sqlite3'} is on a network share (cifs); SQLite advises against" \
        in result.stdout.replace("\n", " ")


def test_a_master_path_that_is_a_folder_is_one_plain_line(tmp_path: Path) -> None:
    folder = two_returns(tmp_path / "returns")
    (tmp_path / "m.xlsx").mkdir()
    result = runner.invoke(app, ["collect", str(folder), "--out", str(tmp_path / "m.xlsx")])
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: the master {tmp_path / 'm.xlsx'} is a folder.")
    assert "Traceback" not in result.output


def test_a_full_disk_leaves_the_old_master(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = two_returns(tmp_path / "returns")
    args = ["collect", str(folder), "--out", str(tmp_path / "m.xlsx"), "--ledger", str(tmp_path / "l.sqlite3")]
    assert runner.invoke(app, args).exit_code == 0
    before = (tmp_path / "m.xlsx").read_bytes()
    valid_return(folder / "SYN-0003.xlsx", changes={"profile_case_ref": "SYN-0003"})

    def full(*_: object, **__: object) -> Path:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(collect_module, "write_master", full)
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and result.output.startswith(
        f"Error: could not write the master {tmp_path / 'm.xlsx'} (No space left on device). The previous master is "
        "unchanged.")
    assert (tmp_path / "m.xlsx").read_bytes() == before
    monkeypatch.undo()
    assert runner.invoke(app, args).stdout.splitlines()[-1] == (
        "3 files: 2 unchanged since last run, 1 read; master holds 3 audits; 0 rejected; 0 duplicate; 0 superseded")


def test_a_worker_that_dies_costs_only_its_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "returns"
    folder.mkdir()
    base = valid_return(tmp_path / "base.xlsx")
    for i in range(6):
        shutil.copyfile(base, folder / f"copy-{i}.xlsx")
    (folder / "killer.xlsx").write_bytes(b"x")
    (folder / "raiser.xlsx").write_bytes(b"x")
    real = workers.validate_file

    def fragile(path: Path, **kwargs: object) -> Report:
        if path.name == "killer.xlsx":
            os._exit(9)  # the worker process dies (as when the system kills it for memory)
        if path.name == "raiser.xlsx":
            raise MemoryError
        return real(path, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(workers, "validate_file", fragile)
    monkeypatch.setattr(workers, "PARALLEL_FROM", 2)
    result = collect(folder, out=tmp_path / "m.xlsx", ledger_path=tmp_path / "l.sqlite3", registry=REGISTRY,
                     workers=2)
    assert result.summary_line() == ("8 files: 0 unchanged since last run, 8 read; "
                                     "master holds 1 audit; 2 rejected; 5 duplicate; 0 superseded")
    problems = {n.file: n.problems[0].message for n in result.not_merged if n.status == "rejected"}
    assert "checking it stopped the worker process" in problems["killer.xlsx"]
    assert "(MemoryError)" in problems["raiser.xlsx"]


_SLOW_COLLECT = """
import sys, time
from pathlib import Path
from auditbook.returns import workers
from auditbook.collection.collect import collect
real = workers.validate_file
def slow(path, **kwargs):
    time.sleep(0.3)
    return real(path, **kwargs)
workers.validate_file = slow
workers.PARALLEL_FROM = 2
print("started", flush=True)
collect(Path(sys.argv[1]), out=Path(sys.argv[2]), ledger_path=Path(sys.argv[3]), workers=2)
"""


def _children(pid: int) -> set[int]:
    out = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.add(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(sys.platform != "linux", reason="reads the process table in /proc (CI runs it on Linux)")
def test_killing_collect_leaves_no_worker_behind(tmp_path: Path) -> None:
    folder = tmp_path / "returns"
    folder.mkdir()
    base = valid_return(tmp_path / "base.xlsx")
    for i in range(30):
        shutil.copyfile(base, folder / f"copy-{i}.xlsx")
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_COLLECT, str(folder), str(tmp_path / "m.xlsx"),
                             str(tmp_path / "l.sqlite3")], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "started"
        deadline = time.monotonic() + 60
        kids: set[int] = set()
        while len(kids) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
            kids = _children(proc.pid)
        assert len(kids) >= 2, "the workers never started"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 15
        while any(_alive(k) for k in kids) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(_alive(k) for k in kids), "worker processes outlived collect"
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)


def test_the_ledger_connection_is_shared_with_other_tables(tmp_path: Path) -> None:
    """Other modules add their own tables inside the one transaction a collect holds."""
    ledger = Ledger(tmp_path / "l.sqlite3", folder="/returns")
    ledger.db.execute("CREATE TABLE IF NOT EXISTS actions (id TEXT PRIMARY KEY, status TEXT)")
    ledger.db.execute("INSERT INTO actions VALUES ('a1', 'Done')")
    ledger.commit()
    ledger.close()
    again = Ledger(tmp_path / "l.sqlite3", folder="/returns")
    try:
        assert again.db.execute("SELECT status FROM actions").fetchall() == [("Done",)]
    finally:
        again.close()
    with pytest.raises(CollectError, match="belongs to the folder /returns, not /elsewhere"):
        Ledger(tmp_path / "l.sqlite3", folder="/elsewhere")


def test_stored_text_no_workbook_can_hold_is_rejected_not_a_crash(tmp_path: Path) -> None:
    """An answer stored by an older auditbook that a workbook cannot hold: that return is rejected, the master
    is written with the others."""
    folder = two_returns(tmp_path / "returns")
    ledger_path = tmp_path / "ledger.sqlite3"
    collect(folder, out=tmp_path / "m.xlsx", ledger_path=ledger_path, registry=REGISTRY)
    ledger = Ledger(ledger_path, folder=str(folder.resolve()))
    entry = ledger.entries()["SYN-0001.xlsx"]
    report = report_from_json(entry.report_json, REGISTRY)
    assert report.audit is not None
    answers = report.audit.answers
    at = next(i for i, x in enumerate(answers) if (x.section, x.field) == ("profile", "worker"))
    answers[at] = answers[at]._replace(value="Example \ud800 One")
    ledger.put("SYN-0001.xlsx", size=entry.size, mtime_ns=entry.mtime_ns, sha256=entry.sha256, report=report,
               registry=entry.registry)
    ledger.db.execute("DELETE FROM meta WHERE key = 'state'")  # the master must be written again
    ledger.commit()
    ledger.close()
    result = collect(folder, out=tmp_path / "m.xlsx", ledger_path=ledger_path, registry=REGISTRY)
    assert [(n.file, n.status, [p.code for p in n.problems]) for n in result.not_merged] == [
        ("SYN-0001.xlsx", "rejected", ["unstorable-text"])]
    assert workers_of(tmp_path / "m.xlsx") == {"SYN-0002": "Example Two"}
