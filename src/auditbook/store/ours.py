"""What in a returns folder is not a return, decided here and nowhere else: auditbook's own files (the master,
the ledger and the packs a collect writes, and their temporary files, never looked at), its outputs left there (a
master, a pack or an export, told by the mark they carry) and files that are not workbooks at all (notes, PDFs, an
export's CSVs and README). Outputs and other files are listed as skipped, not rejected: nobody sent them as a return,
so they are not a problem to chase.

A workbook named like a return whose content is something else (an .xls or a CSV saved as .xlsx) is still
rejected by validate, with how to fix it: someone meant it as a return.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from auditbook.errors import CollectError, UnreadableFileError
from auditbook.problems import Code
from auditbook.returns.report import Report
from auditbook.returns.safety import OWN_LIMITS, Outline, open_checked, outline
from auditbook.text import name_key

#: The custom document property auditbook writes into its masters, packs and exports, with their kind.
OUTPUT_PROPERTY = "auditbook output"
#: What the temporary files auditbook writes an output into (before it replaces the old one) are named from.
TEMPORARY = ".auditbook-"
KINDS = {"master": "a master workbook", "pack": "a team manager's pack", "export": "an export of the tidy tables"}
#: Workbooks a person may have meant as a return (validate says how to save them as .xlsx).
SPREADSHEETS = (".xlsx", ".xlsm", ".xls", ".xlsb", ".xltx", ".xltm", ".ods", ".fods", ".numbers")
#: Sheets only auditbook's outputs have (for those written before they carried OUTPUT_PROPERTY).
_MASTER_SHEETS = frozenset({"Summary", "Audits", "Grades", "Cohorts", "Trends", "Themes", "Actions", "SAG action plan",
                            "Findings", "Answers", "Returns", "Rejected", "Dictionary", "Edits", "Lists",
                            "Urgent concerns", "Cases", "Moderation", "Moderated grades"})
_EXPORT_SHEETS = frozenset({"About", "Audits", "Answers", "Findings", "Actions", "Rejected", "Dictionary"})
_PACK_SHEETS = frozenset({"Findings", "Actions", "How to use this pack", "Urgent concerns"})
#: auditbook's own files (a master, with its tidy tabs, is far larger than a return) get larger caps; every
#: other safety check still runs before a part is read.
OUTPUT_LIMITS = OWN_LIMITS
#: Why a return was refused when the file may be auditbook's own output.
_MAYBE_OURS = frozenset({Code.NOT_AN_AUDIT_WORKBOOK, Code.FILE_TOO_LARGE, Code.ZIP_BOMB})


def temporary(kind: str) -> str:
    """The prefix of the temporary file an output of this kind ("master", "export", ...) is written to first."""
    return f"{TEMPORARY}{kind}-"


def stale_temporaries(folder: Path, kind: str, suffix: str) -> list[Path]:
    """Temporary files of this kind (ending `suffix`) left in a folder by a run that was killed."""
    return sorted(folder.glob(f"{temporary(kind)}*{suffix}"))


def _key(path: str | Path) -> str:
    return os.path.normcase(str(Path(path).resolve()))


class Own(NamedTuple):
    """auditbook's own files where a collect looks (the master, the ledger with SQLite's journals beside it, the packs
    folders): never read as returns."""

    paths: frozenset[str] = frozenset()

    @classmethod
    def of(cls, *, master: Path, ledger: Path, packs: Sequence[Path] = ()) -> Own:
        """The master, the ledger and the folders packs are (or were) written into."""
        journals = [Path(f"{ledger}{x}") for x in ("-journal", "-wal", "-shm")]
        return cls(frozenset(_key(p) for p in (master, ledger, *journals, *packs)))

    def entry(self, folder: str, name: str) -> bool:
        """Whether the entry `name` of a folder (as listed, not followed) is one of ours, or a temporary file."""
        return name.startswith(TEMPORARY) or os.path.normcase(os.path.join(folder, name)) in self.paths

    def target(self, path: Path) -> bool:
        """Whether a folder a shortcut leads to is one of ours (a packs folder)."""
        return _key(path) in self.paths


def not_a_workbook(name: str) -> str | None:
    """Why a file in the returns folder is skipped unread for its name (not a spreadsheet), or None."""
    suffix = Path(name).suffix.lower()
    if suffix in SPREADSHEETS:
        return None
    return f"not a workbook ({suffix or 'no extension'} file), not a return"


def as_own_output(report: Report, path: Path) -> Report:
    """The report of a refused file, or "auditbook output, not a return" when auditbook wrote it."""
    if not report.errors or report.errors[0].code not in _MAYBE_OURS:
        return report
    kind = None if report.outline is None else output_kind(report.outline)
    if kind is None:
        return report
    return Report(file=report.file, skipped=f"auditbook output ({kind}), not a return", read=report.read)


def output_kind(outline: Outline) -> str | None:
    """What kind of auditbook output a workbook is (a master, a pack, an export), or None, from what the one open
    of it read (validate's report carries it)."""
    sheets = outline.sheets
    kind = outline.properties.get(OUTPUT_PROPERTY)
    if kind is not None:
        return KINDS.get(kind, "a file auditbook wrote")
    # Written before they carried the property: told by their sheets, which no audit workbook has together.
    if "SAG action plan" in sheets and sheets <= _MASTER_SHEETS:
        return KINDS["master"]
    if "About" in sheets and sheets <= _EXPORT_SHEETS:
        return KINDS["export"]
    if "Actions" in sheets and sheets <= _PACK_SHEETS:
        return KINDS["pack"]
    return None


def refuse_to_replace(master: Path, as_written: bool) -> None:
    """Raise CollectError when the master's path names an existing workbook that is not an auditbook master (a return,
    a pack), which writing the master would destroy. `as_written`: the ledger knows the file as the master it wrote.
    A file that cannot be read as a workbook is left to the read-back of the master's edits, which refuses it unless
    it is what auditbook wrote."""
    if as_written or not os.path.lexists(master):
        return
    try:
        with open_checked(master, OUTPUT_LIMITS) as zf:
            kind = output_kind(outline(zf, name_key(master.name)))
    except (UnreadableFileError, OSError, KeyError, ValueError):
        return
    if kind == KINDS["master"]:
        return
    what = kind or "not an auditbook master"
    raise CollectError(f"the master would be written over {name_key(str(master))}, which is {what}. Give --out a new "
                       "file name (or the master an earlier collect wrote), or move that file first.")
