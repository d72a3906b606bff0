"""`auditbook export`: the tidy tables (audits, answers, findings, actions, rejected, dictionary) as CSV or xlsx.

By default the CSVs are a Frictionless Data Package for R, pandas or Power BI (outputs/datapackage.py: snake_case
names, true/false, values as typed, datapackage.json beside them). `--for-excel` writes them for a spreadsheet
instead: the master's headers and text that would run as a formula kept as text with a leading '; so does the
xlsx export (every text a string cell). Every table has one header row and one fact per row; the classification
is said beside them (README.txt and datapackage.json with the CSVs; document properties, page headers and an
About sheet in the workbook), never inside a table where it would break a reader.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

from auditbook.analysis.evidence import Evidence
from auditbook.atomic import replacing
from auditbook.errors import CollectError
from auditbook.outputs.datapackage import (
    DESCRIPTOR,
    PACKAGE_NAME,
    DataTable,
    csv_value,
    descriptor,
    package_tables,
)
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
from auditbook.text import shown

log = logging.getLogger(__name__)
FORMATS = ("csv", "xlsx")
WORKBOOK_NAME = "auditbook-export.xlsx"
#: What a spreadsheet reads as the start of a formula when it opens a CSV file (OWASP's list): text starting
#: with one of them is written with a leading ' in a CSV export --for-excel.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def tables(e: Evidence) -> list[Table]:
    """The tidy tables, in the order they are written."""
    c = e.collation
    return [audits_table(c), answers_table(c, e.registry), findings_table(c),
            actions_table(e.actions, e.states, e.today), rejected_table(c), dictionary_table(c.specs, e.registry)]


def csv_cell(value: object, *, raw: bool = False) -> str:
    """A value as a CSV field --for-excel: dates ISO, text shown safe (control characters escaped, as in the master)
    and, unless `raw`, text a spreadsheet would run as a formula (=, +, -, @, tab, CR first) kept as text with a
    leading '."""
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()[:10]
    if not isinstance(value, str):
        return str(value)
    text = shown(value, keep_lines=True)
    return "'" + text if not raw and text.startswith(FORMULA_STARTS) else text


#: What README.txt says of text that looks like a formula, in an export for Excel and in a data package.
SAFE_NOTE = ("Text that starts with = + - @, a tab or a carriage return is written with a leading ' so that a",
             "spreadsheet opening the file shows it as text and never runs it as a formula (--for-excel). For R or",
             "pandas, export without --for-excel to have the text exactly as typed, or strip that one leading '.")
RAW_NOTE = ("Text is written exactly as typed: do not open these files by double-clicking them in a spreadsheet,",
            "which would run text starting with = + - or @ as a formula (export --for-excel for that).",
            "datapackage.json describes every table (Frictionless Data Package): each field's type, the spec's",
            "choices, the primary and foreign keys. Booleans are true/false; an empty field is a missing value.")


def _readme(e: Evidence, classification: str, written: list[str], generated_at: datetime,
            note: Sequence[str] = (), *, fmt: str = "csv", package: bool = False) -> str:
    c = e.collation
    form = ("Files (UTF-8, one header row, dates as YYYY-MM-DD):" if package else
            "Files (UTF-8 with a byte order mark, one header row, dates as YYYY-MM-DD):" if fmt == "csv" else
            "One sheet and Excel Table per table (one header row, dates as dates):")
    join = ("Join them on case_reference and round; spec, spec_version and field in answers join spec, version and "
            "field in dictionary." if package else
            "Join them on 'Case reference' and 'Round'; 'Field' in answers joins 'Field' in dictionary.")
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
        join,
        *(["", *note] if note else []),
    ]
    return "\r\n".join(lines) + "\r\n"


def export(e: Evidence, to: Path, *, fmt: str = "csv", classification: str = "OFFICIAL-SENSITIVE",
           generated_at: datetime | None = None, for_excel: bool = False) -> list[Path]:
    """Write the tidy tables into the folder `to`; returns the files written (each whole or not at all).

    CSV is a data package (values as typed, datapackage.json beside them) unless `for_excel`: then the master's
    headers, and text that a spreadsheet would run as a formula gets a leading ' (see csv_cell).
    """
    if fmt not in FORMATS:
        raise CollectError(f"unknown export format {fmt!r}: use csv or xlsx.")
    if to.exists() and not to.is_dir():
        raise CollectError(f"{to} is a file: give a folder to export into.")
    to.mkdir(parents=True, exist_ok=True)
    moment = generated_at or datetime.now()
    package = fmt == "csv" and not for_excel
    if package:
        written = _package(e, to, classification, moment)
    elif fmt == "csv":
        written = [_write_csv(to / f"{t.name.lower()}.csv", [c.header for c in t.columns],
                              [[csv_cell(v) for v in row] for row in t.rows], bom=True) for t in tables(e)]
        _drop_stale_descriptor(to)
    else:
        written = [to / WORKBOOK_NAME]
        _workbook(e, written[0], classification, moment)
    readme = to / "README.txt"
    with replacing(readme, prefix=temporary("export")) as tmp:
        note = () if fmt != "csv" else RAW_NOTE if package else SAFE_NOTE
        tmp.write_text(_readme(e, classification, [p.name for p in written], moment, note, fmt=fmt, package=package),
                       encoding="utf-8")
    return [*written, readme]


def _write_csv(out: Path, header: list[str], rows: list[list[str]], *, bom: bool) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    with replacing(out, prefix=temporary("export")) as tmp:
        # utf-8-sig for a spreadsheet: Excel opens it with the right characters. A data package is plain UTF-8.
        tmp.write_text(buffer.getvalue(), encoding="utf-8-sig" if bom else "utf-8", newline="")
    log.debug("wrote %s: %d rows", out.name, len(rows))
    return out


def _drop_stale_descriptor(to: Path) -> None:
    """Remove the datapackage.json an earlier export wrote here: it would describe CSVs these have replaced."""
    path = to / DESCRIPTOR
    try:
        ours = json.loads(path.read_text(encoding="utf-8")).get("name") == PACKAGE_NAME
    except (OSError, ValueError, AttributeError):
        return  # none, or not one auditbook wrote: not ours to remove
    if ours:
        path.unlink(missing_ok=True)
        log.debug("removed the data package descriptor of an earlier export")


def _package(e: Evidence, to: Path, classification: str, moment: datetime) -> list[Path]:
    """The data package's CSVs and, last, its datapackage.json."""
    made: list[DataTable] = package_tables(e)
    written = [_write_csv(to / f"{t.name}.csv", [f.name for f in t.fields],
                          [[csv_value(v) for v in row] for row in t.rows], bom=False) for t in made]
    out = to / DESCRIPTOR
    with replacing(out, prefix=temporary("export")) as tmp:
        tmp.write_text(json.dumps(descriptor(made, title=e.collation.title, classification=classification,
                                             created=moment), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return [*written, out]


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


def names(fmt: str, *, for_excel: bool = False) -> Sequence[str]:
    """The files an export writes in a format (besides README.txt)."""
    if fmt == "xlsx":
        return [WORKBOOK_NAME]
    csvs = [f"{n}.csv" for n in ("audits", "answers", "findings", "actions", "rejected", "dictionary")]
    return csvs if for_excel else [*csvs, DESCRIPTOR]
