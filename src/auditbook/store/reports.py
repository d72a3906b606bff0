"""A validated file's report as the ledger stores it: compact JSON, read back quickly for every return at each collect.

An audit is stored as its answers (each input's name, its value and, when validate set it aside, why), what
validate decided of each judged section, and the few figures of the whole (urgent, due date, late); beside it, the
urgent concern the file records whatever validation decided (from format 6). Everything
else is the spec's and is the same for every return made from it: the answers' sections, fields and labels, and the
facts, sections and actions the roles read from them, are restored from the spec's layout by its SHA-256 (the
registry the ledger's rows were read with, which `registry_key` names). A report stored by format 4, before the
answers were one list, is still read back: the return it came from may be gone from the folder.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

from auditbook.problems import Problem
from auditbook.returns.assemble import Judged, audit_of, trusted_model, views
from auditbook.returns.audit import APPLIES, Answer, Audit, Provenance, Value
from auditbook.returns.provenance import SpecRegistry
from auditbook.returns.reader import READING
from auditbook.returns.report import Report
from auditbook.returns.urgent import UrgentConcern
from auditbook.spec.layout import Layout

#: Bumped when what is stored changes, so older rows are read afresh rather than misread (it is part of
#: `registry_key`, which every stored row carries).
FORMAT = "6"


def registry_key(registry: SpecRegistry) -> str:
    """What a stored report was read with: this format, the reader's (`READING`) and the specs known. A row stored
    under another key is read afresh from its file."""
    return hashlib.sha256(",".join([FORMAT, READING, *sorted(registry.by_sha)]).encode()).hexdigest()[:16]


class SpecNotKnown(LookupError):
    """The spec a stored audit was made from is not among those given now: its answers cannot be labelled."""


def _encode(value: object) -> object:
    # Dates are tagged: an answer can be text that merely looks like a date, and must come back as text.
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    raise TypeError(type(value).__name__)


def _decode(d: dict[str, Any]) -> object:
    # Called for every object of every stored report: the one key looked for without making a set of the keys.
    return date.fromisoformat(str(d["$date"])) if len(d) == 1 and "$date" in d else d


#: One decoder for every stored report (json.loads with an object_hook makes a new one at each call).
_DECODER = json.JSONDecoder(object_hook=_decode)


def report_to_json(report: Report) -> str:
    """A report as stored in the ledger."""
    return json.dumps({"file": report.file, "skipped": report.skipped,
                       "problems": [p.as_dict() for p in report.problems],
                       "audit": None if report.audit is None else _audit_json(report.audit),
                       "urgent": None if report.urgent is None else report.urgent.model_dump()},
                      default=_encode, separators=(",", ":"))


def _audit_json(a: Audit) -> dict[str, object]:
    return {"provenance": a.provenance.model_dump(),
            # [name, value] for an answer counted, [name, value, why] for one set aside.
            "answers": [[x.name, x.value] if x.applies == APPLIES else [x.name, x.value, x.applies]
                        for x in a.answers],
            "judged": [[s.applies, s.required, s.status] for s in a.sections],
            "urgent": a.urgent, "due_date": a.due_date, "late": a.late}


def report_from_json(text: str, registry: SpecRegistry, *, trusted: bool = False) -> Report:
    """A report read back from the ledger (SpecNotKnown when the spec its audit was made from is not in `registry`).

    `trusted`: the text is as this format stored it (its ledger row's signature checks out and it was stored under
    `registry_key(registry)`), so the audit's values, which validate made, are not checked again (audit_of).
    """
    data = _DECODER.decode(text)
    problems = [Problem.from_dict(p) for p in data["problems"]]
    audit = None if data["audit"] is None else _audit_from(data["audit"], registry, trusted=trusted)
    urgent = data.get("urgent")  # stored from format 6: the urgent concern taken out before validation
    return Report(file=data["file"], problems=problems, audit=audit, skipped=data["skipped"],
                  urgent=None if urgent is None else UrgentConcern.model_validate(urgent))


#: A provenance's fields in order, as `_audit_json` stores them (model_dump gives every field).
_PROVENANCE = tuple(Provenance.model_fields)


def _audit_from(d: dict[str, Any], registry: SpecRegistry, *, trusted: bool) -> Audit:
    trusted = trusted and "forms" not in d  # a row stored by format 4 or before is checked as it is read
    stored = d["provenance"]
    provenance = trusted_model(Provenance, stored) if trusted and tuple(stored) == _PROVENANCE else \
        Provenance.model_validate(stored)
    spec = registry.by_sha.get(provenance.spec_sha256)
    if spec is None:
        raise SpecNotKnown(provenance.spec_sha256)
    try:
        layout = registry.layout_of(spec, provenance.kind)
    except ValueError:
        raise SpecNotKnown(provenance.spec_sha256) from None
    if "forms" in d:
        answers, judged = _earlier(layout, d)
        counted = None
    else:
        answers, counted = _answers(views(layout).places, d["answers"])
        judged = [(bool(a), bool(r), str(s)) for a, r, s in d["judged"]]
    due = d["due_date"]
    return audit_of(layout, provenance, answers, judged=judged, urgent=bool(d.get("urgent", False)),
                    due=due if isinstance(due, date) else None, late=bool(d["late"]), trusted=trusted,
                    counted=counted)


def _answers(places: dict[str, tuple[str, str, str, str, int | None]],
             stored: list[list[Any]]) -> tuple[list[Answer], dict[str, Value]]:
    """The answers as stored ([name, value] or [name, value, why]), placed and labelled as the layout has them, and
    those counted by name (as audit_of counts them: made here in the same pass over them)."""
    new = tuple.__new__  # an Answer made straight from its values: thousands of them are read back at each collect
    out: list[Answer] = []
    add = out.append
    counted: dict[str, Value] = {}
    for a in stored:
        p = places[a[0]]
        why = a[2] if len(a) > 2 else APPLIES
        # The layout's own name (p[2], equal to a[0]), not the one just decoded: one string shared by every return,
        # its hash worked out once, for the lookups by name downstream (the figures, the master).
        add(new(Answer, (p[0], p[1], p[2], p[3], a[1], why, p[4])))
        if why == APPLIES:
            counted[p[2]] = a[1]
    return out, counted


def _earlier(layout: Layout, d: dict[str, Any]) -> tuple[list[Answer], list[Judged]]:
    """The answers of an audit stored by format 4 or before (answers split into forms, sections, table rows and, from
    format 4, answers set aside), which a return gone from the folder is read back from: it cannot be read afresh."""
    sections = {s["id"]: s for s in d["sections"]}
    aside = {(x["section"], x["field"]): x for x in d.get("set_aside", [])}
    tables = d.get("tables", {})
    answers: list[Answer] = []
    for sl in layout.sections:
        sid = sl.section.id
        if sl.section.kind == "table":
            cells = {(row["row"], f): v for row in tables.get(sid, []) for f, v in row.items() if f != "row"}
            answers += [Answer(i.section, i.field, i.name, i.label, v, APPLIES, i.row_index) for i in sl.inputs
                        if (v := cells.get((i.row_index, i.field))) is not None]
            continue
        given = d["forms"].get(sid) or sections.get(sid, {}).get("answers") or {}
        for i in sl.inputs:
            value, why = given.get(i.field), APPLIES
            if value is None and (sid, i.field) in aside:
                value, why = aside[(sid, i.field)]["value"], str(aside[(sid, i.field)]["applies"])
            if value is not None:
                answers.append(Answer(i.section, i.field, i.name, i.label, value, why))
    judged = [(bool(s["applies"]), bool(s["required"]), str(s["status"])) for s in d["sections"]]
    return answers, judged
