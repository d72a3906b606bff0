"""Pure: the data dictionary of a spec's workbook (what `auditbook describe` prints)."""

from __future__ import annotations

from typing import Any

from auditbook.spec.conditions import Condition, combine
from auditbook.spec.layout import Input, Layout, build_layout
from auditbook.spec.models import Spec
from auditbook.workbook.checks import build_checks


def _cond(cond: Condition | None) -> Any:
    return None if cond is None else cond.model_dump(mode="json", by_alias=True, exclude_none=True)


def data_dictionary(spec: Spec, layout: Layout | None = None) -> dict[str, Any]:
    """Every input and section: where it lives, what it takes, when it applies."""
    layout = layout or build_layout(spec)
    sections = [
        {"id": sl.section.id, "title": sl.section.title, "sheet": sl.sheet, "kind": sl.section.kind,
         "applies_when": _cond(sl.section.applies_when), "required_when": _cond(sl.section.required_when)}
        for sl in layout.sections
    ]
    inputs = []
    for sl in layout.sections:
        for i in sl.inputs:
            inputs.append({
                "name": i.name, "sheet": i.sheet, "cell": i.cell, "section": i.section, "field": i.field,
                "label": i.label, "type": i.type, "choices": _offered(layout, i), "required": i.required,
                "applies_when": _cond(combine(sl.section.applies_when, i.condition)),
                "row": i.row_index,
                "derived": None if i.derived is None else i.derived.model_dump(mode="json", exclude_none=True),
            })
    return {"spec": {"id": spec.id, "version": spec.version, "sha256": spec.sha256},
            "sections": sections, "inputs": inputs, "rules": _rules(layout)}


def _offered(layout: Layout, inp: Input) -> list[str] | None:
    """The choices an input's dropdown offers (a section's theme tags: its own themes), or None."""
    return list(layout.lists[inp.list_id].values) if inp.list_id in layout.lists else None


def _rules(layout: Layout) -> list[dict[str, Any]]:
    """Every rule: what it checks, its severity and cells, and whether the workbook shows it live (and where)."""
    out = []
    for check in build_checks(layout):
        rule = check.rule
        cells = [{"ref": ref, "sheet": i.sheet, "cell": i.cell} if (i := layout.by_ref.get(ref)) else {"ref": ref}
                 for ref in rule.cells]
        out.append({
            "id": rule.id, "severity": rule.severity, "each": rule.each, "when": _cond(rule.when),
            "require": _cond(rule.require), "message": rule.message, "fix": rule.fix, "cells": cells,
            "live": check.live, "check_name": check.name if check.live else None,
        })
    return out
