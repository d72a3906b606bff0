"""Pure: the tidy tables as a Frictionless Data Package, for analysts (R, pandas, Frictionless, Power BI).

The same facts as the master's tidy tabs, shaped for a program rather than a person: snake_case ASCII
names, one boolean convention (true/false), missing values left empty (and declared so), section grades
without a sentinel (whether a section applies is a field of its own), the answers keyed by spec, version
and field so they join the dictionary, and a Table Schema per table: types, the spec's choices as enums,
primary and foreign keys. Nothing is prefixed or changed for a spreadsheet's sake (`--for-excel` does that).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

from auditbook.analysis.evidence import Evidence
from auditbook.outputs.tidy import (
    DATE,
    INT,
    JUDGEMENT_COLUMNS,
    NOT_GRADED,
    PCT,
    PROFILE_COLUMNS,
    Table,
    actions_table,
    audits_table,
    dictionary_table,
    findings_table,
    rejected_table,
)
from auditbook.returns.audit import APPLIES, NOT_APPLICABLE
from auditbook.returns.provenance import SpecRegistry
from auditbook.spec.models import Spec
from auditbook.spec.roles import Role
from auditbook.text import shown
from auditbook.workbook.describe import data_dictionary

#: The name of the descriptor written beside the CSV files.
DESCRIPTOR = "datapackage.json"
#: The package's name in its descriptor: how an export tells a descriptor it wrote.
PACKAGE_NAME = "auditbook-export"
TRUE, FALSE = "true", "false"
_TYPES = {DATE: "date", INT: "integer", PCT: "number"}


class Field(NamedTuple):
    """A field of a Table Schema: its name, Frictionless type, what it holds and, for a choice, its values."""

    name: str
    type: str = "string"
    description: str = ""
    enum: tuple[str, ...] = ()


class ForeignKey(NamedTuple):
    """Fields of a table that name a row of another (by its primary key)."""

    fields: tuple[str, ...]
    resource: str
    reference: tuple[str, ...]


class DataTable(NamedTuple):
    """A table of the package: its name, fields, rows (values as written) and keys."""

    name: str
    description: str
    fields: tuple[Field, ...]
    rows: list[tuple[object, ...]]
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()


def snake(header: str) -> str:
    """A header as a snake_case ASCII name: "2 Child's Voice" -> "2_childs_voice" (accents, curly quotes dropped)."""
    ascii_text = unicodedata.normalize("NFKD", header).encode("ascii", "ignore").decode("ascii")
    name = re.sub(r"[^a-z0-9]+", "_", ascii_text.replace("'", "").lower()).strip("_")
    return name or "field"


def _flag(value: object) -> bool | None:
    """A Yes/No-like cell of a tidy table as a boolean: Yes, Overdue -> true; No and empty -> false."""
    if value is None:
        return None
    return str(value).strip().lower() in ("yes", "overdue", "true")


#: Tidy columns that hold a yes/no, by header: in the package each is a boolean.
_FLAGS = frozenset({"Late", "Urgent concern", "Source file missing", "Overdue", "Required"})
#: What a tidy column's header says about its values, for the schema.
_ABOUT = {
    "Case reference": "The case reference: the child's record in the case management system.",
    "Round": "The audit round.",
    "Late": "Completed after its due date.",
    "Urgent concern": "An urgent concern was raised during the audit.",
    "Source file missing": "The return is no longer in the folder; its answers are kept from the ledger.",
    "Warnings": "How many warnings validate gave the return.",
    "Overdue": "Past its timescale and not closed.",
    "Required": "The spec requires an answer when the input applies.",
}


def _choices(specs: Sequence[Spec], registry: SpecRegistry, role: Role) -> tuple[str, ...]:
    """Every choice the specs offer for the field of `role`, in the order first met (empty when it is free text)."""
    out: dict[str, None] = {}
    for spec in specs:
        ref = spec.roles.field(role)
        layout = registry.layout(spec)
        inp = layout.by_ref.get(ref) if ref else None
        if inp is not None and inp.list_id in layout.lists:
            out.update(dict.fromkeys(layout.lists[inp.list_id].values))
    return tuple(out)


def _grades(specs: Sequence[Spec]) -> tuple[str, ...]:
    """Every grade of the specs' grade lists, in the order first met."""
    return tuple(dict.fromkeys(g for spec in specs for g in spec.lists.get(spec.grade_list, [])))


#: The Audits columns that hold a field of the spec (by role), whose choices become enums.
_ROLE_OF = {header: role for role, header, _, _ in (*PROFILE_COLUMNS, *JUDGEMENT_COLUMNS)}


def _field(table: Table, i: int, enums: dict[str, tuple[str, ...]]) -> Field:
    col = table.columns[i]
    kind = "boolean" if col.header in _FLAGS else _TYPES.get(col.kind, "string")
    return Field(snake(col.header), kind, _ABOUT.get(col.header, col.header), enums.get(col.header, ()))


def _converted(table: Table, fields: Sequence[Field]) -> list[tuple[object, ...]]:
    """A tidy table's rows with each flag a boolean and empty text missing."""
    change: list[Callable[[object], object]] = [_flag if f.type == "boolean" else _blank for f in fields]
    return [tuple(fn(v) for fn, v in zip(change, row, strict=True)) for row in table.rows]


def _blank(value: object) -> object:
    return None if value == "" else value


def _plain(table: Table, name: str, description: str, enums: dict[str, tuple[str, ...]],
           primary_key: tuple[str, ...] = (), foreign_keys: tuple[ForeignKey, ...] = ()) -> DataTable:
    fields = tuple(_field(table, i, enums) for i in range(len(table.columns)))
    return DataTable(name, description, fields, _converted(table, fields), primary_key, foreign_keys)


def _audits(e: Evidence) -> DataTable:
    """Audits: each section's grade_<section> empty where not graded, with an applies_<section> boolean beside it."""
    c, registry = e.collation, e.registry
    table = audits_table(c)
    lo, hi = table.graded
    enums = {h: _choices(c.specs, registry, r) for h, r in _ROLE_OF.items()}
    grades = _grades(c.specs)
    fields = [_field(table, i, enums) for i in range(len(table.columns))]
    plain = _converted(table, fields)
    sections = _unique([fields[i].name for i in range(lo, hi)])
    fields[lo:hi] = [f for name, col in zip(sections, table.columns[lo:hi], strict=True) for f in (
        Field(f"grade_{name}", "string", f"{col.header}: the section's grade (empty when not graded or not "
              "applicable).", grades),
        Field(f"applies_{name}", "boolean", f"{col.header}: the section applies to the case."))]
    rows = [(*row[:lo], *[v for g in raw[lo:hi] for v in (None if g in (NOT_GRADED, "") else g, g != NOT_GRADED)],
             *row[hi:]) for row, raw in zip(plain, table.rows, strict=True)]
    return DataTable("audits", "One row per merged audit: who, when, the child's profile, every grade, its source.",
                     tuple(fields), rows, ("case_reference", "round"))


def _unique(names: list[str]) -> list[str]:
    """Names made distinct: section titles that differ only in punctuation get _2, _3 after the first."""
    out: list[str] = []
    for name in names:
        unique, n = name, 1
        while unique in out:
            n += 1
            unique = f"{name}_{n}"
        out.append(unique)
    return out


_BY_AUDIT = ForeignKey(("case_reference", "round"), "audits", ("case_reference", "round"))


def _answers(e: Evidence) -> DataTable:
    """Answers: one row per return and answered input, keyed by spec, version and field to join the dictionary."""
    fields = (Field("case_reference", description=_ABOUT["Case reference"]),
              Field("round", description=_ABOUT["Round"]),
              Field("spec", description="The spec the return was made from (its id)."),
              Field("spec_version", description="The version of that spec."),
              Field("field", description="The input's defined name in the workbook; the dictionary says what it is."),
              Field("answer", description="The answer as given (a date as YYYY-MM-DD)."),
              Field("applies", "boolean", "Whether the question applied, as validate decided (empty: not yet "
                    "known, as an answer deciding it was blank)."))
    rows: list[tuple[object, ...]] = []
    for m in e.collation.merged:
        a = m.audit
        p = a.provenance
        rows += [(a.case_ref, m.round, p.spec_id, p.spec_version, x.name, x.value,
                  True if x.applies == APPLIES else False if x.applies == NOT_APPLICABLE else None)
                 for x in a.answers]
    keys = ("spec", "spec_version", "field")
    return DataTable("answers", "One row per return and answered input.", fields, rows,
                     ("case_reference", "round", "field"),
                     (_BY_AUDIT, ForeignKey(keys, "dictionary", ("spec", "version", "field"))))


def _dictionary(e: Evidence) -> DataTable:
    """The data dictionary, its choices a JSON array."""
    specs, registry = e.collation.specs, e.registry
    table = dictionary_table(specs, registry)
    plain = _plain(table, "dictionary", "Every input of the specs: name, section, question, type, choices, when "
                   "it applies, sheet and cell.", {}, ("spec", "version", "field"))
    at = [f.name for f in plain.fields].index("choices")
    fields = list(plain.fields)
    fields[at] = Field("choices", "array", "The choices its dropdown offers, as a JSON array (empty: free input).")
    # The tidy table joins the choices with commas, which a choice may hold: the list itself, row for row.
    offered = [i["choices"] for spec in specs for i in data_dictionary(spec, registry.layout(spec))["inputs"]]
    rows = [(*r[:at], choices, *r[at + 1:]) for r, choices in zip(plain.rows, offered, strict=True)]
    return DataTable(plain.name, plain.description, tuple(fields), rows, plain.primary_key)


def package_tables(e: Evidence) -> list[DataTable]:
    """The tables of the data package, in the order they are written."""
    c = e.collation
    grade_enum = tuple(dict.fromkeys([*_grades(c.specs), *_choices(c.specs, e.registry, Role.OVERALL_GRADE)]))
    return [
        _audits(e),
        _answers(e),
        _plain(findings_table(c), "findings", "One row per case and applicable section (and the overall judgement): "
               "grade, theme tags and the auditor's findings.", {"Grade": grade_enum},
               ("case_reference", "round", "section"), (_BY_AUDIT,)),
        _plain(actions_table(e.actions, e.states, e.today), "actions", "The action register: each action with the "
               "status, notes and date closed kept for it.", {}, ("action_id",)),
        _plain(rejected_table(c), "rejected", "Every file not merged, one row per problem.",
               {"Severity": ("error", "warning")}),
        _dictionary(e),
    ]


def csv_value(value: object) -> str:
    """A value as it is written in the package: empty when missing, true/false, ISO dates, text shown safe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return TRUE if value else FALSE
    if isinstance(value, datetime | date):
        return value.isoformat()[:10]
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False)
    return shown(value, keep_lines=True) if isinstance(value, str) else str(value)


def _schema_field(f: Field) -> dict[str, Any]:
    out: dict[str, Any] = {"name": f.name, "type": f.type}
    if f.description:
        out["description"] = f.description
    if f.type == "boolean":
        out.update(trueValues=[TRUE], falseValues=[FALSE])
    if f.enum:
        out["constraints"] = {"enum": list(f.enum)}
    return out


def _resource(t: DataTable) -> dict[str, Any]:
    schema: dict[str, Any] = {"fields": [_schema_field(f) for f in t.fields], "missingValues": [""]}
    if t.primary_key:
        schema["primaryKey"] = list(t.primary_key)
    if t.foreign_keys:
        schema["foreignKeys"] = [{"fields": list(k.fields), "reference": {"resource": k.resource,
                                                                          "fields": list(k.reference)}}
                                 for k in t.foreign_keys]
    return {"name": t.name, "path": f"{t.name}.csv", "profile": "tabular-data-resource", "format": "csv",
            "mediatype": "text/csv", "encoding": "utf-8", "description": t.description,
            "dialect": {"delimiter": ",", "lineTerminator": "\r\n", "quoteChar": '"', "doubleQuote": True,
                        "header": True}, "schema": schema}


def descriptor(tables: Iterable[DataTable], *, title: str, classification: str, created: datetime) -> dict[str, Any]:
    """The datapackage.json of the tables (Frictionless Data Package v1, read by v2 tools as well)."""
    return {
        "profile": "tabular-data-package",
        "name": PACKAGE_NAME,
        "title": f"{title}: tidy tables",
        "description": f"{classification}. Audit answers and findings about children, exported by auditbook: keep "
                       "them under the same access controls as the returns.",
        "created": created.astimezone().isoformat(timespec="seconds"),
        "resources": [_resource(t) for t in tables],
    }
