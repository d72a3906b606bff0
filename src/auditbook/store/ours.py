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
from dataclasses import dataclass
from pathlib import Path

from auditbook.errors import UnreadableFileError
from auditbook.problems import Code
from auditbook.returns.report import Report
from auditbook.returns.safety import MIB, Limits, open_checked, parse_xml, read_member

#: The custom document property auditbook writes into its masters, packs and exports, with their kind.
OUTPUT_PROPERTY = "auditbook output"
#: What the temporary files auditbook writes an output into (before it replaces the old one) are named from.
TEMPORARY = ".auditbook-"
KINDS = {"master": "a master workbook", "pack": "a team manager's pack", "export": "an export of the tidy tables"}
#: Workbooks a person may have meant as a return (validate says how to save them as .xlsx).
SPREADSHEETS = (".xlsx", ".xlsm", ".xls", ".xlsb", ".xltx", ".xltm", ".ods", ".fods", ".numbers")
#: Sheets only auditbook's outputs have (for those written before they carried OUTPUT_PROPERTY).
_MASTER_SHEETS = frozenset({"Summary", "Audits", "Grades", "Cohorts", "Trends", "Themes", "Actions", "SAG action plan",
                            "Findings", "Answers", "Returns", "Rejected", "Dictionary", "Lists"})
_EXPORT_SHEETS = frozenset({"About", "Audits", "Answers", "Findings", "Actions", "Rejected", "Dictionary"})
_PACK_SHEETS = frozenset({"Findings", "Actions", "How to use this pack"})
#: auditbook's own files (a master, with its tidy tabs, is far larger than a return) get larger caps; every
#: other safety check still runs before a part is read.
OUTPUT_LIMITS = Limits(max_file_bytes=500 * MIB, max_uncompressed_bytes=4000 * MIB, max_member_bytes=2000 * MIB,
                 max_ratio=5000.0)
#: The parts read here are small in any workbook.
_PART = Limits(max_member_bytes=MIB)
#: Why a return was refused when the file may be auditbook's own output.
_MAYBE_OURS = frozenset({Code.NOT_AN_AUDIT_WORKBOOK, Code.FILE_TOO_LARGE, Code.ZIP_BOMB})
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_CUSTOM = "{http://schemas.openxmlformats.org/officeDocument/2006/custom-properties}"


def temporary(kind: str) -> str:
    """The prefix of the temporary file an output of this kind ("master", "export", ...) is written to first."""
    return f"{TEMPORARY}{kind}-"


def stale_temporaries(folder: Path, kind: str, suffix: str) -> list[Path]:
    """Temporary files of this kind (ending `suffix`) left in a folder by a run that was killed."""
    return sorted(folder.glob(f"{temporary(kind)}*{suffix}"))


def _key(path: str | Path) -> str:
    return os.path.normcase(str(Path(path).resolve()))


@dataclass(frozen=True)
class Own:
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
    kind = output_kind(path)
    if kind is None:
        return report
    return Report(file=report.file, skipped=f"auditbook output ({kind}), not a return")


def output_kind(path: Path) -> str | None:
    """What kind of auditbook output a workbook is (a master, a pack, an export), or None."""
    try:
        with open_checked(path, OUTPUT_LIMITS) as zf:
            custom = "docProps/custom.xml" in zf.namelist()
            props = _properties(read_member(zf, "docProps/custom.xml", _PART)) if custom else {}
            sheets = _sheets(read_member(zf, "xl/workbook.xml", _PART))
    except (UnreadableFileError, OSError, KeyError, ValueError):
        return None
    kind = props.get(OUTPUT_PROPERTY)
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


def _properties(data: bytes) -> dict[str, str]:
    root = parse_xml(data, "docProps/custom.xml")
    return {p.get("name") or "": "".join(p[0].itertext()) for p in root.iterfind(f"{_CUSTOM}property") if len(p)}


def _sheets(data: bytes) -> frozenset[str]:
    root = parse_xml(data, "xl/workbook.xml")
    return frozenset(s.get("name") or "" for s in root.iter(f"{_MAIN}sheet"))
