"""`auditbook export`: the tidy tables (audits, answers, findings, actions, rejected, dictionary) as CSV or xlsx.

For R, pandas or Power BI. Every table has one header row and one fact per row; the classification is
said beside them (README.txt with the CSVs; document properties, page headers and an About sheet in the
workbook), never inside a table where it would break a reader.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

from auditbook.analysis.evidence import Evidence
from auditbook.atomic import replacing
from auditbook.errors import CollectError
from auditbook.outputs.sheets import output_workbook
from auditbook.outputs.tidy import (
    Table,
    actions_table,
    answers_table,
    audits_table,
    dictionary_table,
    findings_table,
    rejected_table,
)
from auditbook.store.ours import temporary
from auditbook.text import csv_text, shown

FORMATS = ("csv", "xlsx")
WORKBOOK_NAME = "auditbook-export.xlsx"


def tables(e: Evidence) -> list[Table]:
    """The tidy tables, in the order they are written."""
    c = e.collation
    return [audits_table(c), answers_table(c, e.registry), findings_table(c),
            actions_table(e.actions, e.states, e.today), rejected_table(c), dictionary_table(c.specs, e.registry)]


def csv_cell(value: object, *, raw: bool = False) -> str:
    """A value as a CSV field: dates ISO, text shown safe (control characters escaped, as in the master) and, unless
    `raw`, text a spreadsheet would run as a formula (=, +, -, @, tab, CR first) kept as text with a leading '."""
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()[:10]
    if not isinstance(value, str):
        return str(value)
    text = shown(value, keep_lines=True)
    return text if raw else csv_text(text)


#: What README.txt says of text that looks like a formula, in a safe export and in a raw one.
SAFE_NOTE = ("Text that starts with = + - @, a tab or a carriage return is written with a leading ' so that a",
             "spreadsheet opening the file shows it as text and never runs it as a formula. For R or pandas, export",
             "with --raw to have the text exactly as typed, or strip that one leading '.")
RAW_NOTE = ("Text is written exactly as typed (--raw): do not open these files by double-clicking them in a",
            "spreadsheet, which would run text starting with = + - or @ as a formula.")


def _readme(e: Evidence, classification: str, written: list[str], generated_at: datetime,
            note: Sequence[str] = (), *, fmt: str = "csv") -> str:
    c = e.collation
    form = ("Files (UTF-8 with a byte order mark, one header row, dates as YYYY-MM-DD):" if fmt == "csv" else
            "One sheet and Excel Table per table (one header row, dates as dates):")
    lines = [
        f"{classification}",
        "",
        f"{c.title}: tidy tables exported by auditbook on {generated_at:%d/%m/%Y %H:%M}.",
        "",
        f"These files hold information about children and are {classification}. They carry auditors' free text",
        "(answers, evidence, findings). Keep them under the same access controls as the returns, share them",
        "only with those who need them, and delete them when the round's returns are deleted.",
        "",
        form,
        *[f"  {name}" for name in written],
        "",
        "Join them on 'Case reference' and 'Round'; 'Field' in answers joins 'Field' in dictionary.",
        *(["", *note] if note else []),
    ]
    return "\r\n".join(lines) + "\r\n"


def export(e: Evidence, to: Path, *, fmt: str = "csv", classification: str = "OFFICIAL-SENSITIVE",
           generated_at: datetime | None = None, raw: bool = False) -> list[Path]:
    """Write the tidy tables into the folder `to`; returns the files written (each whole or not at all).

    CSV text that a spreadsheet would run as a formula gets a leading ' unless `raw` (see csv_cell).
    """
    if fmt not in FORMATS:
        raise CollectError(f"unknown export format {fmt!r}: use csv or xlsx.")
    if to.exists() and not to.is_dir():
        raise CollectError(f"{to} is a file: give a folder to export into.")
    to.mkdir(parents=True, exist_ok=True)
    moment = generated_at or datetime.now()
    written: list[Path] = []
    if fmt == "csv":
        for table in tables(e):
            out = to / f"{table.name.lower()}.csv"
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\r\n")
            writer.writerow([c.header for c in table.columns])
            writer.writerows([csv_cell(v, raw=raw) for v in row] for row in table.rows)
            with replacing(out, prefix=temporary("export")) as tmp:
                # utf-8-sig: Excel opens it with the right characters.
                tmp.write_text(buffer.getvalue(), encoding="utf-8-sig", newline="")
            written.append(out)
    else:
        out = to / WORKBOOK_NAME
        _workbook(e, out, classification, moment)
        written.append(out)
    readme = to / "README.txt"
    with replacing(readme, prefix=temporary("export")) as tmp:
        note = () if fmt != "csv" else RAW_NOTE if raw else SAFE_NOTE
        tmp.write_text(_readme(e, classification, [p.name for p in written], moment, note, fmt=fmt),
                       encoding="utf-8")
    return [*written, readme]


def _workbook(e: Evidence, out: Path, classification: str, moment: datetime) -> None:
    with output_workbook(out, kind="export", title=f"{e.collation.title}: tidy tables",
                         classification=classification) as s:
        written = tables(e)
        about = s.sheet("About")
        about.set_column(0, 0, 100)
        about.write_string(0, 0, classification, s.red)
        for r, line in enumerate(_readme(e, classification, [t.name for t in written], moment,
                                         fmt="xlsx").splitlines()[2:], start=2):
            about.write_string(r, 0, line, s.text)
        for table in written:
            s.tidy(table)


def names(fmt: str) -> Sequence[str]:
    """The files an export writes in a format (besides README.txt)."""
    return [WORKBOOK_NAME] if fmt == "xlsx" else [f"{n}.csv" for n in
                                                    ("audits", "answers", "findings", "actions", "rejected",
                                                     "dictionary")]
