"""A hostile shared folder (issue 8): good returns beside one of each hazard. Collect finishes, the master holds
every good return, and each hazard is named with its reason; nothing reaches the terminal raw."""

from __future__ import annotations

import contextlib
import os
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from auditbook.cli import app
from auditbook.collection.collect import collect
from auditbook.collection.result import CollectResult
from auditbook.returns.provenance import SpecRegistry
from auditbook.store import ledger as ledger_module
from auditbook.store import scan as scan_module
from tests import hazards as hz
from tests.returns import spec, valid_return, where

#: Pipes, sockets, symbolic links and control characters in file names are POSIX things: on Windows this
#: module does not run (CI runs it on Linux).
pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs a POSIX file system")
runner = CliRunner()
REGISTRY = SpecRegistry.of(spec())
LATIN1 = os.fsdecode(b"SYN-0103 caf\xe9.xlsx")  # a Windows zip unpacked on Linux: not UTF-8
ESC_NAME = "\x1b[2J\x1b[Hrejected fake.xlsx: 0 error(s)\n.xlsx"
BIDI_NAME = "SYN-0104 \u202exslx.exe"


@contextlib.contextmanager
def unreadable(monkeypatch: pytest.MonkeyPatch, folder: Path, file: Path) -> Iterator[None]:
    """Make a folder and a file unreadable: by permissions, or (as root, whom permissions do not stop) by
    refusing them where collect opens them."""
    if os.geteuid() != 0:  # (POSIX only, as this module)
        folder.chmod(0)
        file.chmod(0)
        try:
            yield
        finally:
            folder.chmod(0o755)
            file.chmod(0o644)
        return
    real_scandir, real_open = os.scandir, ledger_module.open_regular

    def scandir(path: os.PathLike[str] | str) -> object:
        if Path(path) == folder.resolve():
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    def open_regular(path: Path) -> object:
        if path == file.resolve():
            raise PermissionError(13, "Permission denied")
        return real_open(path)

    monkeypatch.setattr(scan_module.os, "scandir", scandir)
    monkeypatch.setattr(ledger_module, "open_regular", open_regular)  # the ledger fingerprints (hashes) each file
    yield


def hostile_folder(folder: Path) -> dict[str, str]:
    """Good returns and one of each hazard; the good ones' case references by file."""
    folder.mkdir()
    good = {"SYN-0101.xlsx": "SYN-0101", "team/SYN-0102.xlsx": "SYN-0102", LATIN1: "SYN-0103"}
    # A team manager's name as long as a line of text may be (255 characters): its pack needs a shorter name.
    valid_return(folder / "SYN-0101.xlsx", changes={"profile_case_ref": "SYN-0101",
                                                     "profile_team_manager": "Example " + "Long" * 59 + " Manager"})
    (folder / "team").mkdir()
    valid_return(folder / "team" / "SYN-0102.xlsx", changes={"profile_case_ref": "SYN-0102"})
    valid_return(folder / LATIN1, changes={"profile_case_ref": "SYN-0103"})
    # The reader sees what a parser sees: a decoy sheetData in a comment changes nothing.
    hz.with_sheet_xml(valid_return(folder / "SYN-0105 decoy.xlsx", changes={"profile_case_ref": "SYN-0105"}), "decoy")
    good["SYN-0105 decoy.xlsx"] = "SYN-0105"
    # File-system hazards.
    os.mkfifo(folder / "scan.xlsx")
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(folder / "sock.xlsx"))
    os.symlink(folder, folder / "team" / "loop")
    os.symlink("/etc/passwd", folder / "passwd.xlsx")
    os.symlink(folder / "gone.xlsx", folder / "broken.xlsx")
    (folder / "locked").mkdir()
    valid_return(folder / "locked" / "SYN-0199.xlsx")
    (folder / ".snapshot").mkdir()
    (folder / "SYN-0106 empty.xlsx").write_bytes(b"")
    (folder / ESC_NAME).write_bytes(b"case_ref,grade\nSYN-0001,Good\n")
    (folder / BIDI_NAME).write_bytes(b"case_ref,grade\nSYN-0001,Good\n")
    # Content hazards.
    hz.with_sheet_xml(hz.returned(folder / "utf7.xlsx"), "utf7")
    hz.with_sheet_xml(hz.returned(folder / "bad-ref.xlsx"), "bad-ref")
    surrogate = valid_return(folder / "surrogate.xlsx", changes={"profile_worker": "Example Surrogate Worker"})
    hz.rewrite(surrogate, {"xl/sharedStrings.xml": hz.parts(surrogate)["xl/sharedStrings.xml"].replace(
        b"Example Surrogate Worker", b"Example _xD800_ Worker")})
    hz.with_external_link(hz.returned(folder / "external-link.xlsx"))
    hz.with_sheet_xml(hz.returned(folder / "dde.xlsx"), "dde")
    hz.with_sheet_xml(hz.returned(folder / "webservice.xlsx"), "webservice")
    hz.with_sheet_xml(hz.returned(folder / "hidden-webservice.xlsx"), "hidden-webservice")
    hz.with_sheet_xml(hz.returned(folder / "validation-ref.xlsx"), "validation-ref")
    hz.with_ole_object(hz.returned(folder / "ole.xlsx"))
    hz.with_hidden_vba(hz.returned(folder / "vba-renamed.xlsx"))
    hz.with_unknown_part(hz.returned(folder / "unknown-part.xlsx"))
    hz.with_remote_picture(hz.returned(folder / "remote-picture.xlsx"))
    return good


#: What each hazard is listed as: (status, words in its reason or first problem).
HAZARDS = {
    "scan.xlsx": ("skipped", "named pipe"),
    "sock.xlsx": ("skipped", "socket"),
    "team/loop": ("skipped", "loops back"),
    "passwd.xlsx": ("skipped", "outside the returns folder"),
    "broken.xlsx": ("not read", "could not be read"),
    "locked": ("not read", "folder could not be read"),
    ".snapshot": ("skipped", "hidden folder"),
    "SYN-0106 empty.xlsx": ("rejected", "empty"),
    "\\x1b[2J\\x1b[Hrejected fake.xlsx: 0 error(s)\\x0a.xlsx": ("rejected", "CSV"),
    "utf7.xlsx": ("rejected", 'declares the text encoding "UTF-7"'),
    "bad-ref.xlsx": ("rejected", 'cell reference "1A"'),
    "surrogate.xlsx": ("rejected", "no workbook can store (\\ud800)"),
    "external-link.xlsx": ("rejected", "a link to another workbook"),
    "dde.xlsx": ("rejected", "DDE"),
    "webservice.xlsx": ("rejected", "WEBSERVICE"),
    "hidden-webservice.xlsx": ("rejected", "WEBSERVICE"),
    "validation-ref.xlsx": ("rejected", "a reference to another workbook"),
    "ole.xlsx": ("rejected", "embedded OLE object"),
    "vba-renamed.xlsx": ("rejected", "VBA macro project"),
    "unknown-part.xlsx": ("rejected", "xl/tools/run.exe"),
    "remote-picture.xlsx": ("rejected", "fetched from outside the file"),
}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    folder = tmp_path_factory.mktemp("hostile") / "returns"
    return folder, hostile_folder(folder)


def run_hostile(folder: Path, out: Path, monkeypatch: pytest.MonkeyPatch, **options: object) -> CollectResult:
    with unreadable(monkeypatch, folder / "locked", folder / "broken.xlsx"):
        return collect(folder, out=out / "master.xlsx", ledger_path=out / "ledger.sqlite3", registry=REGISTRY,
                       workers=1, packs=out / "packs", **options)  # type: ignore[arg-type]


def test_collect_finishes_merges_every_good_return_and_names_every_hazard(
        hostile: tuple[Path, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder, good = hostile
    result = run_hostile(folder, tmp_path, monkeypatch)
    merged = {m["file"]: m["case_ref"] for m in result.merged}
    assert merged == {("SYN-0103 caf\\xe9.xlsx" if f == LATIN1 else f): c for f, c in good.items()}
    listed = {n.file: n for n in result.not_merged}
    bidi = "SYN-0104 \\u202exslx.exe"
    assert set(listed) == {*HAZARDS, bidi}
    for file, (status, words) in HAZARDS.items():
        n = listed[file]
        text = " ".join([n.reason, *(p.message for p in n.problems)])
        assert n.status == status, (file, n)
        assert words in text, (file, text)
    # Its name ends .exe (shown the other way round on screen): not a workbook, never opened.
    assert (listed[bidi].status, listed[bidi].reason) == ("skipped", "not a workbook (.exe file), not a return")
    active = ("external-link", "dde", "webservice", "hidden-webservice", "validation-ref", "ole", "vba-renamed",
              "unknown-part", "remote-picture")
    assert {f: [p.code for p in listed[f"{f}.xlsx"].problems] for f in active} == {f: ["active-content"]
                                                                                   for f in active}
    # The master holds every good return; the reader saw through the decoy.
    wb = openpyxl.load_workbook(result.master)
    assert sorted(r[0] for r in wb["Audits"].iter_rows(min_row=2, max_col=1, values_only=True)) == sorted(good.values())
    rejected = {r[0] for r in wb["Rejected"].iter_rows(min_row=2, max_col=1, values_only=True)}
    assert rejected == {*HAZARDS, bidi}
    # The long manager's pack has a name every file system takes.
    assert result.packs and all(len(p.name) <= 80 for p in result.packs)
    # Exit 1: things could not be read.
    assert result.rejected > 0


def test_the_surrogate_is_located_on_its_cell(hostile: tuple[Path, dict[str, str]], tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    folder, _ = hostile
    result = run_hostile(folder, tmp_path, monkeypatch)
    (n,) = [n for n in result.not_merged if n.file == "surrogate.xlsx"]
    assert [(p.code, p.sheet, p.cell) for p in n.problems] == [("unstorable-text", *where("profile_worker"))]


def test_nothing_reaches_the_terminal_raw(hostile: tuple[Path, dict[str, str]], tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    folder, _ = hostile
    with unreadable(monkeypatch, folder / "locked", folder / "broken.xlsx"):
        result = runner.invoke(app, ["collect", str(folder), "--out", str(tmp_path / "master.xlsx"), "--ledger",
                                     str(tmp_path / "ledger.sqlite3")])
    assert result.exit_code == 1, result.output
    assert "\x1b" not in result.output and "\u202e" not in result.output
    lines = result.stdout.splitlines()
    assert not any(line.startswith("rejected fake.xlsx") for line in lines)
    assert any(line.startswith("rejected \\x1b[2J\\x1b[Hrejected fake.xlsx: 0 error(s)\\x0a.xlsx: ") for line in lines)
    assert any(line.startswith("skipped scan.xlsx: a named pipe (FIFO)") for line in lines)
    assert lines[-1] == result_line(lines)
    json_run = runner.invoke(app, ["collect", str(folder), "--out", str(tmp_path / "master.xlsx"), "--ledger",
                                   str(tmp_path / "ledger.sqlite3"), "--json"])
    assert "\x1b" not in json_run.stdout and "\u202e" not in json_run.stdout


def result_line(lines: list[str]) -> str:
    (line,) = [x for x in lines if x.endswith("superseded")]
    return line


def test_validate_of_hazards_prints_nothing_raw(hostile: tuple[Path, dict[str, str]]) -> None:
    folder, _ = hostile
    files = [folder / f for f in ("utf7.xlsx", "bad-ref.xlsx", "dde.xlsx", "surrogate.xlsx", ESC_NAME, LATIN1)]
    result = runner.invoke(app, ["validate", *map(str, files)])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and "\x1b" not in result.output
    assert "SYN-0103 caf\\xe9.xlsx (case SYN-0103): valid" in result.stdout
    as_json = runner.invoke(app, ["validate", "--json", *map(str, files)])
    assert as_json.exit_code == 1 and "\x1b" not in as_json.stdout


def test_a_pipe_given_to_validate_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.xlsx")
    result = runner.invoke(app, ["validate", "--json", str(tmp_path / "pipe.xlsx")])
    assert result.exit_code == 1, result.output
    assert "a named pipe (FIFO), not a file" in result.stdout


def test_special_kinds_are_named() -> None:
    assert scan_module.special_kind(stat.S_IFIFO) == "a named pipe (FIFO)"
    assert scan_module.special_kind(stat.S_IFCHR) == "a character device"
