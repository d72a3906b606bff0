"""The ledger's stored form of a report: compact (no labels: they are the spec's), read back as validate gave it,
and a report stored by the format before it (answers split into forms, sections, tables and set-aside) still read."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from pydantic import BaseModel, ValidationError

from auditbook.collection.collect import collect
from auditbook.returns.audit import APPLIES, NOT_APPLICABLE, ActionItem, Audit, Provenance, SectionResult
from auditbook.returns.provenance import SpecRegistry
from auditbook.returns.report import Report
from auditbook.returns.validate import validate_file
from auditbook.spec.layout import Layout
from auditbook.store import scan
from auditbook.store.ledger import Ledger
from auditbook.store.reports import SpecNotKnown, report_from_json, report_to_json
from tests.returns import spec, valid_return

REGISTRY = SpecRegistry.of(spec())
#: A child protection return with a follow-up answered whose condition is false (set aside, "No") and actions.
CHANGES = {"child_protection_s47_in_period": "Yes", "child_protection_strategy_before_s47": "Yes",
           "child_protection_emergency_evidenced": "Yes",
           "child_protection_emergency_evidenced_evidence": "Example evidence of immediate risk."}


def _report(path: Path) -> Report:
    report = validate_file(valid_return(path, changes=CHANGES), registry=REGISTRY)
    assert report.valid and report.audit is not None
    return report


def _dates(value: object) -> object:
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    raise TypeError(type(value).__name__)


def _format_4(report: Report, layout: Layout) -> str:
    """The report as format 4 stored it (Audit.model_dump of the model it had then)."""
    a = report.audit
    assert a is not None

    def given(section: str) -> dict[str, object]:
        return {i.field: a.answer(section, i.field) for i in layout.section(section).inputs}

    cells = {(x.section, x.row, x.field): x.value for x in a.answers if x.row is not None}
    tables: dict[str, list[dict[str, object]]] = {}
    for sl in layout.sections:
        if sl.section.kind != "table":
            continue
        used = sorted({row for sid, row, _ in cells if sid == sl.section.id})
        tables[sl.section.id] = [{"row": r, **{i.field: cells.get((sl.section.id, r, i.field)) for i in sl.inputs
                                                if i.row_index == r}} for r in used]
    audit: dict[str, Any] = {
        "provenance": a.provenance.model_dump(), "facts": a.facts, "urgent": a.urgent,
        "forms": {sl.section.id: given(sl.section.id) for sl in layout.sections if sl.section.kind == "form"},
        "sections": [{**s.model_dump(), "answers": given(s.id)} for s in a.sections], "tables": tables,
        "actions": [x.model_dump() for x in a.actions],
        "set_aside": [{"section": x.section, "field": x.field, "value": x.value, "applies": x.applies}
                      for x in a.set_aside],
        "due_date": a.due_date, "late": a.late}
    return json.dumps({"file": report.file, "skipped": None, "problems": [p.as_dict() for p in report.problems],
                       "audit": audit}, default=_dates)


def test_a_stored_report_reads_back_as_validate_gave_it(tmp_path: Path) -> None:
    report = _report(tmp_path / "r.xlsx")
    assert report.audit is not None
    assert [(x.field, x.applies) for x in report.audit.set_aside] == [
        ("emergency_evidenced", NOT_APPLICABLE), ("emergency_evidenced_evidence", NOT_APPLICABLE)]
    assert report.audit.actions and any(x.row is not None for x in report.audit.answers)
    assert report_from_json(report_to_json(report), REGISTRY) == report


def test_labels_are_restored_from_the_spec_not_stored(tmp_path: Path) -> None:
    report = _report(tmp_path / "r.xlsx")
    assert report.audit is not None
    text = report_to_json(report)
    labels = {x.label for x in report.audit.answers if len(x.label) > 20}
    assert labels and [label for label in labels if json.dumps(label) in text] == []
    back = report_from_json(text, REGISTRY).audit
    assert back is not None
    assert [(x.section, x.field, x.name, x.label, x.row) for x in back.answers] == [
        (x.section, x.field, x.name, x.label, x.row) for x in report.audit.answers]


def test_a_report_stored_by_format_4_reads_back(tmp_path: Path) -> None:
    report = _report(tmp_path / "r.xlsx")
    layout = REGISTRY.layout(spec())
    assert report_from_json(_format_4(report, layout), REGISTRY) == report


def test_a_report_stored_before_format_4_reads_back_with_the_answers_it_kept(tmp_path: Path) -> None:
    """Before format 4 an audit kept no answers set aside (nor, earlier still, an urgent flag)."""
    report = _report(tmp_path / "r.xlsx")
    assert report.audit is not None
    older = json.loads(_format_4(report, REGISTRY.layout(spec())))
    del older["audit"]["set_aside"], older["audit"]["urgent"]
    back = report_from_json(json.dumps(older), REGISTRY).audit
    assert back is not None
    assert back.answers == [x for x in report.audit.answers if x.applies == APPLIES]
    assert (back.sections, back.facts, back.actions) == (report.audit.sections, report.audit.facts,
                                                         report.audit.actions)


def test_a_stored_report_whose_spec_is_not_known_now_is_said_so(tmp_path: Path) -> None:
    with pytest.raises(SpecNotKnown):
        report_from_json(report_to_json(_report(tmp_path / "r.xlsx")), SpecRegistry({}))


def test_a_return_gone_from_the_folder_stored_by_format_4_stays_in_the_master(tmp_path: Path) -> None:
    """It cannot be read afresh: what the earlier format stored is what the master keeps, flagged."""
    folder = tmp_path / "returns"
    for case in ("SYN-0001", "SYN-0002"):
        valid_return(folder / f"{case}.xlsx", changes={**CHANGES, "profile_case_ref": case})
    ledger_path, master = tmp_path / "ledger.sqlite3", tmp_path / "m.xlsx"
    collect(folder, out=master, ledger_path=ledger_path, registry=REGISTRY)
    ledger = Ledger(ledger_path, folder=str(folder.resolve()))
    entry = ledger.entries()["SYN-0002.xlsx"]
    old = _format_4(report_from_json(entry.report_json, REGISTRY), REGISTRY.layout(spec()))
    ledger.db.execute("UPDATE files SET report = ?, mac = ? WHERE path = ?", (
        old, ledger.sign("file", entry.path, entry.sha256, old, entry.registry), entry.path))
    ledger.commit()
    ledger.close()
    (folder / "SYN-0002.xlsx").unlink()
    result = collect(folder, out=master, ledger_path=ledger_path, registry=REGISTRY)
    assert (result.rejected, result.source_missing) == (0, ["SYN-0002.xlsx"])
    rows = list(openpyxl.load_workbook(master)["Answers"].iter_rows(min_row=2, values_only=True))
    head = [c.value for c in openpyxl.load_workbook(master)["Answers"][1]]
    kept = [(r[head.index("Field")], r[head.index("Applies")]) for r in rows if r[0] == "SYN-0002"]
    assert ("child_protection_emergency_evidenced", NOT_APPLICABLE) in kept
    assert ("profile_case_ref", APPLIES) in kept


@pytest.mark.parametrize("model", [Audit, SectionResult, ActionItem, Provenance])
def test_models_made_without_validating_have_nothing_that_validating_would_add(model: type[BaseModel]) -> None:
    """trusted_model sets what model_construct sets: only for models with no private attributes, extra fields or
    post-init (a pydantic upgrade that adds any to making a model shows up here)."""
    assert not model.__private_attributes__ and not model.__pydantic_post_init__
    assert not model.__pydantic_root_model__ and model.model_config.get("extra") == "forbid"
    assert set(vars(BaseModel).get("__slots__", ())) == {"__dict__", "__pydantic_fields_set__", "__pydantic_extra__",
                                                         "__pydantic_private__"}


def test_a_trusted_read_back_makes_the_same_audit_as_validating(tmp_path: Path) -> None:
    report = _report(tmp_path / "r.xlsx")
    text = report_to_json(report)
    checked, trusted = report_from_json(text, REGISTRY), report_from_json(text, REGISTRY, trusted=True)
    assert checked.audit is not None and trusted.audit is not None
    assert trusted == checked == report
    assert repr(trusted) == repr(checked)
    a, b = trusted.audit, checked.audit
    assert a.model_dump(exclude_unset=True) == b.model_dump(exclude_unset=True) == b.model_dump()
    assert a.model_dump_json() == b.model_dump_json()
    for x, y in [(a, b), (a.provenance, b.provenance), *zip(a.sections, b.sections, strict=True),
                 *zip(a.actions, b.actions, strict=True)]:
        assert (type(x), x.__pydantic_fields_set__, list(vars(x))) == (
            type(y), y.__pydantic_fields_set__, list(vars(y)))
    assert a.actions and all(isinstance(s, SectionResult) for s in a.sections)
    with pytest.raises(ValidationError):  # frozen, as validated ones are
        a.sections[0].grade = "x"  # type: ignore[misc]


def test_a_stored_provenance_without_every_field_is_checked_as_it_is_read(tmp_path: Path) -> None:
    """Only a provenance stored with every field, in order, is made without validating: one missing a field (stored
    before the field was added) gets its default, as validating gives it."""
    report = _report(tmp_path / "r.xlsx")
    data = json.loads(report_to_json(report))
    del data["audit"]["provenance"]["follows_up"]
    trusted = report_from_json(json.dumps(data), REGISTRY, trusted=True)
    assert trusted.audit is not None and trusted.audit.provenance.follows_up is None
    assert trusted == report and trusted.audit.provenance.model_fields_set == set(data["audit"]["provenance"])


def test_only_rows_stored_under_the_specs_given_now_are_read_back_without_checking(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A row stored under another registry key (an older format, other specs) is kept only when its return is gone
    from the folder, and is then read back checked."""
    folder = tmp_path / "returns"
    for case in ("SYN-0001", "SYN-0002", "SYN-0003"):
        valid_return(folder / f"{case}.xlsx", changes={**CHANGES, "profile_case_ref": case})
    ledger_path, master = tmp_path / "ledger.sqlite3", tmp_path / "m.xlsx"
    collect(folder, out=master, ledger_path=ledger_path, registry=REGISTRY)
    ledger = Ledger(ledger_path, folder=str(folder.resolve()))
    entry = ledger.entries()["SYN-0002.xlsx"]
    ledger.db.execute("UPDATE files SET registry = ?, mac = ? WHERE path = ?", (
        "older", ledger.sign("file", entry.path, entry.sha256, entry.report_json, "older"), entry.path))
    ledger.commit()
    ledger.close()
    (folder / "SYN-0002.xlsx").unlink()
    (folder / "SYN-0003.xlsx").touch()  # changed time, same bytes: still taken from the ledger
    seen: list[tuple[str, bool]] = []

    def spy(text: str, registry: SpecRegistry, *, trusted: bool = False) -> Report:
        seen.append((json.loads(text)["file"], trusted))
        return report_from_json(text, registry, trusted=trusted)

    monkeypatch.setattr(scan, "report_from_json", spy)
    result = collect(folder, out=master, ledger_path=ledger_path, registry=REGISTRY)
    assert result.source_missing == ["SYN-0002.xlsx"] and result.rejected == 0
    assert sorted(set(seen)) == [("SYN-0001.xlsx", True), ("SYN-0002.xlsx", False), ("SYN-0003.xlsx", True)]
