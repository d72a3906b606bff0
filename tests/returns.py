"""Returned workbooks for the tests, built here: valid returns, and the defects only a user's edits can make.

The writer makes a filled return directly (`prefill` writes values into the input cells as a user would,
bad ones included). Defects the writer cannot make (a formula typed into an input, protection removed, a
name deleted or moved, a sheet deleted, metadata tampered with) are made by editing the saved file with
openpyxl, the reference reader. Checked with openpyxl 3.1.5: a load and save keeps the custom document
properties, defined names, sheet protection, hidden and very hidden sheets, data validations and
conditional formats; it drops the cached values of formulas, which validate never reads. `test_validate`
checks that an untouched load and save still validates clean, so a defect case tests its edit only.
"""

from __future__ import annotations

import io
import re
import tempfile
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import openpyxl
import yaml
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.workbook.workbook import Workbook

from auditbook.dates import month_end, parse_month
from auditbook.spec import Spec, default_spec_path, load_spec, parse_spec
from auditbook.spec.layout import (
    META_SHEET,
    Layout,
    build_layout,
    cell_ref,
    quote_sheet,
    sheet_ref,
)
from auditbook.spec.metadata import meta_name, property_name
from auditbook.workbook.synthetic import synthetic_answers
from auditbook.workbook.writer import build_workbook

Answer = str | int | date
Answers = dict[str, Answer]

#: The scenarios the issue asks valid returns for: a CP case, a child in care aged 16+, an early help case.
SCENARIOS = ("child_protection", "in_care_16_plus", "early_help")
#: The three places a workbook carries its template's identity, as validate names them.
CARRIERS = ("document properties", "metadata sheet", "named constants")
#: The seed every return uses unless a test asks for another, so a failure reproduces.
SEED = 7


@cache
def spec() -> Spec:
    """The bundled Deep Dive spec."""
    return load_spec(default_spec_path())


@cache
def layout() -> Layout:
    """The bundled spec's layout."""
    return build_layout(spec())


def where(name: str, lay: Layout | None = None) -> tuple[str, str]:
    """(sheet, cell) where the layout puts an input."""
    inp = (lay or layout()).by_name[name]
    return inp.sheet, inp.cell


def answers(scenario: str = "child_protection", *, seed: int = SEED, lay: Layout | None = None,
            **options: Any) -> Answers:
    """Complete, valid answers for a scenario, keyed by defined name (options go to synthetic_answers)."""
    return synthetic_answers(lay or layout(), seed=seed, scenario=scenario, **options)


def make_return(path: Path, filled: Mapping[str, Answer | None], *, of: Spec | None = None) -> Path:
    """Write a return filled with these answers; a None value leaves that input empty."""
    prefill = {k: v for k, v in filled.items() if v is not None}
    return build_workbook(of or spec(), out=path, prefill=prefill)


def valid_return(path: Path, scenario: str = "child_protection", *,
                 changes: Mapping[str, Answer | None] | None = None, seed: int = SEED, **options: Any) -> Path:
    """A valid return for a scenario, then `changes` applied to its answers (None clears an input)."""
    return make_return(path, {**answers(scenario, seed=seed, **options), **(changes or {})})


def due_of(filled: Mapping[str, Answer | None]) -> date:
    """The due date the audit month of these answers gives (the workbook works it out; it is not an answer)."""
    return month_end(*parse_month(str(filled["profile_audit_month"])))


def without(filled: Mapping[str, Answer], prefix: str) -> dict[str, Answer | None]:
    """Changes that clear every answered input whose defined name starts with prefix."""
    return {k: None for k in filled if k.startswith(prefix)}


@cache
def _pristine(scenario: str, seed: int) -> bytes:
    """The bytes of a valid return, built once: openpyxl edits start from a copy."""
    with tempfile.TemporaryDirectory() as tmp:
        return make_return(Path(tmp) / "return.xlsx", answers(scenario, seed=seed)).read_bytes()


def copy_of_valid(path: Path, scenario: str = "child_protection", *, seed: int = SEED) -> Path:
    """A valid return for a scenario, built once per test run and copied (for edits with openpyxl)."""
    path.write_bytes(_pristine(scenario, seed))
    return path


# -- editing a saved return with openpyxl ------------------------------------------------------------


@contextmanager
def edit(path: Path) -> Iterator[Workbook]:
    """Open a saved workbook with openpyxl, let the caller change it, and save it back in place."""
    wb = openpyxl.load_workbook(path)
    yield wb
    wb.save(path)


def _cell(wb: Workbook, name: str) -> tuple[str, str]:
    dn = wb.defined_names[name]
    ((sheet, ref),) = list(dn.destinations)
    return sheet, ref.replace("$", "")


def type_formula(path: Path, name: str, formula: str) -> tuple[str, str]:
    """Type a formula into the input cell a defined name points at; returns (sheet, cell)."""
    with edit(path) as wb:
        sheet, cell = _cell(wb, name)
        wb[sheet][cell] = formula
    return sheet, cell


def type_value(path: Path, name: str, value: str | float) -> tuple[str, str]:
    """Type a value into an input cell past its data validation (as pasting does); returns (sheet, cell).

    openpyxl stores a string that is an error code such as "#N/A" as an error cell, as Excel does.
    """
    with edit(path) as wb:
        sheet, cell = _cell(wb, name)
        wb[sheet][cell] = value
    return sheet, cell


def unprotect(path: Path, sheet: str) -> None:
    """Remove a sheet's protection, as Review > Unprotect Sheet does."""
    with edit(path) as wb:
        wb[sheet].protection.sheet = False


def delete_name(path: Path, name: str) -> None:
    """Delete a defined name, as Name Manager > Delete does."""
    with edit(path) as wb:
        del wb.defined_names[name]


def break_name(path: Path, name: str) -> None:
    """Make a defined name point nowhere, as deleting its row in Excel does ('Case profile'!#REF!)."""
    with edit(path) as wb:
        sheet, _ = _cell(wb, name)
        wb.defined_names[name] = DefinedName(name, attr_text=f"{quote_sheet(sheet)}!#REF!")


def move_name_down(path: Path, name: str) -> tuple[str, str]:
    """Point a defined name one row lower and move its cell's value there; returns the new (sheet, cell).

    openpyxl's insert_rows does not move defined names, so this does by hand what inserting a row
    above the input does to it in Excel.
    """
    with edit(path) as wb:
        sheet, cell = _cell(wb, name)
        ws = wb[sheet]
        old = ws[cell]
        new = ws.cell(row=old.row + 1, column=old.column)
        new.value, old.value = old.value, None
        new.number_format = old.number_format
        wb.defined_names[name] = DefinedName(name, attr_text=sheet_ref(sheet, new.row - 1, new.column - 1))
    return sheet, cell_ref(new.row - 1, new.column - 1)


def set_sheet_state(path: Path, sheet: str, state: str) -> None:
    """Show or hide a sheet ("visible", "hidden", "veryHidden")."""
    with edit(path) as wb:
        wb[sheet].sheet_state = state


def delete_sheet(path: Path, sheet: str) -> None:
    """Delete a worksheet, as right-click > Delete does on an unprotected workbook."""
    with edit(path) as wb:
        wb.remove(wb[sheet])


def set_carrier(wb: Workbook, carrier: str, key: str, value: str) -> None:
    """Change one metadata value in one of the three carriers."""
    if carrier == "document properties":
        prop = next(p for p in wb.custom_doc_props.props if p.name == property_name(key))
        prop.value = value
    elif carrier == "metadata sheet":
        ws = wb[META_SHEET]
        row = next(r for r in range(1, ws.max_row + 1) if ws.cell(row=r, column=1).value == key)
        ws.cell(row=row, column=2).value = value
    elif carrier == "named constants":
        wb.defined_names[meta_name(key)] = DefinedName(meta_name(key), attr_text=f'"{value}"')
    else:
        raise ValueError(carrier)


def tamper(path: Path, changes: Mapping[str, str], key: str = "spec_sha256") -> None:
    """Set a metadata key to a value per carrier ({carrier: value}), leaving the other carriers alone."""
    with edit(path) as wb:
        for carrier, value in changes.items():
            set_carrier(wb, carrier, key, value)


def carriers(path: Path, key: str) -> dict[str, str]:
    """A metadata key's value in each carrier, read with openpyxl (to check an edit took)."""
    wb = openpyxl.load_workbook(path)
    ws = wb[META_SHEET]
    sheet = next(ws.cell(row=r, column=2).value for r in range(1, ws.max_row + 1)
                 if ws.cell(row=r, column=1).value == key)
    prop = next(p.value for p in wb.custom_doc_props.props if p.name == property_name(key))
    named = wb.defined_names[meta_name(key)].attr_text.strip('"')
    return {"document properties": prop, "metadata sheet": sheet, "named constants": named}


# -- an older version of the spec ------------------------------------------------------------------


def spec_variant(*, version: str, story_label: str) -> Spec:
    """The bundled spec at another version, with the case story's label changed (so its sha differs)."""
    data = yaml.safe_load(default_spec_path().read_text(encoding="utf-8"))
    data["version"] = version
    profile = next(s for s in data["sections"] if s["id"] == "profile")
    next(f for f in profile["fields"] if f["id"] == "story")["label"] = story_label
    return parse_spec(data, source=Path(f"deep_dive-{version}.yaml"))


def write_spec(spec_: Spec, folder: Path) -> Path:
    """Save a spec as YAML in a folder, as an older version is kept in workbook_specs/."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{spec_.id}-{spec_.version}.yaml"
    path.write_text(yaml.safe_dump(spec_.model_dump(mode="json", by_alias=True, exclude_none=True),
                                   sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def profile_only_spec() -> Spec:
    """The bundled spec cut down to its case profile: the same text inputs in a workbook ten times faster to build."""
    data = yaml.safe_load(default_spec_path().read_text(encoding="utf-8"))
    data["id"] = "profile_only"
    data["sections"] = [s for s in data["sections"] if s["id"] == "profile"]
    return parse_spec(keep_roles_of_kept_sections(data), source=Path("profile_only.yaml"))


def keep_roles_of_kept_sections(data: dict[str, Any]) -> dict[str, Any]:
    """A spec's data cut to fewer sections, with the roles, rules and example answers of the cut sections left out."""
    kept = {s["id"] for s in data["sections"]}

    def gone(key: str, value: Any) -> bool:
        ref = value.get("field", "") if key == "urgent" else value if isinstance(value, str) else ""
        return "." in ref and ref.split(".")[0] not in kept

    roles = {k: v for k, v in data.get("roles", {}).items() if not gone(k, v)}
    if roles.get("actions") not in kept:
        roles = {k: v for k, v in roles.items() if k != "actions" and not k.startswith("action_")}
    data["roles"] = roles
    judged = any(s.get("kind", "judged") == "judged" for s in data["sections"])
    data["rules"] = [r for r in data.get("rules", []) if _only_looks_at(r, kept, judged)]
    data["examples"] = {name: {ref: v for ref, v in example.items() if ref.split(".")[0] in kept}
                        for name, example in data.get("examples", {}).items()}
    # A theme of cut sections only goes (unless none would be left: then each belongs to every section kept).
    themes = data.get("themes", [])
    left = [t for t in themes if not t.get("sections") or set(t["sections"]) & kept]
    data["themes"] = [{**t, "sections": [s for s in t.get("sections", []) if s in kept]} for t in left or themes]
    return data


def _only_looks_at(rule: Any, kept: set[str], judged: bool) -> bool:
    """Whether a rule's fields, tables and sections are all among the kept sections."""
    if isinstance(rule, dict):
        tables = [v for k, v in rule.items() if k in ("each", "rows") and v != "sections"]
        return all(t in kept for t in tables) and all(_only_looks_at(v, kept, judged) for v in rule.values())
    if isinstance(rule, list):
        return all(_only_looks_at(v, kept, judged) for v in rule)
    if isinstance(rule, str) and re.fullmatch(r"[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*", rule):
        section = rule.split(".")[0]
        return section in kept or (section == "this" and judged)
    return True


# -- files that are not returns at all -------------------------------------------------------------

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def encrypted_bytes() -> bytes:
    """What Excel writes for a password-protected workbook: an OLE2 container with an EncryptedPackage stream."""
    return OLE_MAGIC + bytes(504) + "EncryptedPackage".encode("utf-16-le") + bytes(512)


def legacy_xls_bytes() -> bytes:
    """An old-format .xls: an OLE2 container without an EncryptedPackage stream."""
    return OLE_MAGIC + bytes(504) + "Workbook".encode("utf-16-le") + bytes(512)


def csv_bytes() -> bytes:
    """A CSV export someone renamed to .xlsx."""
    return b"case_ref,grade\nSYN-0001,Good\n"


def zip_bomb_bytes() -> bytes:
    """A workbook-shaped zip with one member that inflates a thousandfold (8 MB of zeros)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", b'<?xml version="1.0"?><Types/>')
        zf.writestr("xl/workbook.xml", b"<workbook/>")
        zf.writestr("xl/worksheets/sheet1.xml", bytes(8 * 1024 * 1024))
    return buf.getvalue()
