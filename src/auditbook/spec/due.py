"""Pure: when an audit is due, by the spec's own rule. One home for validate, allocate and the Returns tab, so
they all say what the workbook's locked due date formula shows."""

from __future__ import annotations

from datetime import date

from auditbook.dates import month_end, parse_month
from auditbook.errors import AuditbookError
from auditbook.spec.conditions import DateOf
from auditbook.spec.logic import Facts, date_value
from auditbook.spec.models import Spec
from auditbook.spec.roles import Role


def due_rule(spec: Spec) -> DateOf | None:
    """The `derived:` rule of the spec's due date field, or None when its due date is typed (or it has none)."""
    ref = spec.roles.field(Role.DUE_DATE)
    f = spec.field_at(ref) if ref is not None else None
    return f.derived if f is not None else None


def due_date(spec: Spec, month: str) -> date | None:
    """When an audit of this audit month ("YYYY-MM") is due: the spec's rule for its due date when that is worked
    out from the audit month (as the workbook's formula is), else the end of the audit month; None when the
    month cannot be read."""
    rule = due_rule(spec)
    month_ref = spec.roles.field(Role.AUDIT_MONTH)
    if rule is not None and month_ref is not None and rule.ref == month_ref:
        return date_value(rule, Facts({month_ref: month}))
    try:
        return month_end(*parse_month(month))
    except (AuditbookError, ValueError):
        return None
