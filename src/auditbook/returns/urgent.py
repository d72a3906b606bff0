"""Take a return's urgent concern out of what was read, before and apart from validation.

An urgent child protection concern raised during an audit must never be lost: a return rejected for a missing
case story, a late one, one superseded by a later return or an exact copy of another still reports its concern.
So the concern is read from the values the reader gave (the file has been through the same safety checks as for
validation), with the spec's urgent condition and urgent roles, whatever validation then decides of the return.
Only answers the reader could read count: an answer it refused is not guessed at.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict

from auditbook.returns.coerce import as_condition_text
from auditbook.returns.values import ReadValues
from auditbook.spec.conditions import fields_in
from auditbook.spec.layout import Layout
from auditbook.spec.logic import Facts, truth
from auditbook.spec.roles import Role


class UrgentConcern(BaseModel):
    """An urgent concern as a return records it (the case reference the only personal data in its summary)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    case_ref: str
    #: The workbook it was recorded in (with the case reference, what makes its id).
    instance_id: str
    raised: date | None = None
    with_whom: str = ""
    with_name: str = ""
    what: str = ""
    agreed: str = ""
    team: str = ""
    team_manager: str = ""


def _value(layout: Layout, read: ReadValues, role: Role) -> object:
    inp = layout.role_input(role)
    return None if inp is None else read.values.get(inp.name)


def _text(layout: Layout, read: ReadValues, role: Role) -> str:
    value = _value(layout, read, role)
    return "" if value is None else str(value).strip()


def urgent_concern(layout: Layout, read: ReadValues, instance_id: str) -> UrgentConcern | None:
    """The urgent concern these answers record, or None (none raised, or the spec has no urgent role)."""
    cond = layout.spec.roles.urgent
    if cond is None:
        return None
    # Only the few answers the condition looks at: this runs for every file read, before validation.
    looked_at = {ref: as_condition_text(read.values.get(inp.name)) for ref in fields_in(cond)
                 if (inp := layout.by_ref.get(ref)) is not None}
    if truth(cond, Facts(looked_at)) is not True:
        return None
    raised = _value(layout, read, Role.URGENT_WHEN)
    return UrgentConcern(
        case_ref=_text(layout, read, Role.CASE_REF), instance_id=instance_id,
        raised=raised if isinstance(raised, date) else None,
        with_whom=_text(layout, read, Role.URGENT_WITH_WHOM), with_name=_text(layout, read, Role.URGENT_WITH_NAME),
        what=_text(layout, read, Role.URGENT_WHAT), agreed=_text(layout, read, Role.URGENT_AGREED),
        team=_text(layout, read, Role.TEAM), team_manager=_text(layout, read, Role.TEAM_MANAGER))
