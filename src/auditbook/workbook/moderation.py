"""Write a moderation workbook: the audit's workbook made from its moderation spec (spec/moderation.py), every answer
of the audit filled in and locked, the moderator's inputs open, and metadata saying it is a moderation and of which
audit.

The sheets are the writer's own (one module per kind of sheet, each handed the one Context): the moderator's grade,
agreement and reason sit in each judged section's judgement block, and who moderated, when and the overall
judgement on the moderation sheet, a form section like any other.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from auditbook.local import LocalDetails
from auditbook.spec.layout import build_layout
from auditbook.spec.metadata import new_metadata
from auditbook.spec.models import Spec
from auditbook.spec.moderation import MODERATION, moderation_spec
from auditbook.text import slug
from auditbook.workbook.context import Answer
from auditbook.workbook.writer import build_workbook


class AuditToModerate(NamedTuple):
    """What a moderation workbook is made from: the audit's answers counted (by input name) and which audit it is."""

    spec: Spec
    answers: Mapping[str, Answer]
    instance_id: str
    case_ref: str
    round: str
    team: str = ""


def moderation_name(audit: AuditToModerate) -> str:
    """A file name a person can read and sort: moderation, round, team, case reference."""
    parts = ["moderation", slug(audit.round), slug(audit.team), slug(audit.case_ref)]
    return "_".join(p for p in parts if p) + ".xlsx"


def build_moderation(audit: AuditToModerate, *, out: Path, password: str = "", local: LocalDetails | None = None,
                     now: datetime | None = None) -> Path:
    """Write the moderation workbook of an audit to `out` (atomically) and return the path.

    Only the answers the moderation spec has an input for are filled in, and none worked out by a formula (the
    workbook works those out again from the same answers)."""
    spec = moderation_spec(audit.spec)
    layout = build_layout(spec)
    prefill = {name: value for name, value in audit.answers.items()
               if name in layout.by_name and layout.by_name[name].derived is None}
    meta = dataclasses.replace(new_metadata(audit.spec, now=now), kind=MODERATION, audit_instance_id=audit.instance_id,
                               audit_case_ref=audit.case_ref, audit_round=audit.round)
    return build_workbook(spec, out=out, prefill=prefill, lock_prefill=True, password=password, meta=meta,
                          local=local)
