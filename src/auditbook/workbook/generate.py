"""Generate one audit workbook: starting values from the command line, a readable file name."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from auditbook.dates import audit_period, month_end, parse_month
from auditbook.errors import AuditbookError
from auditbook.local import LocalDetails, RoundCalendar
from auditbook.spec.layout import Layout, build_layout
from auditbook.spec.models import Spec
from auditbook.spec.roles import Role
from auditbook.text import slug
from auditbook.workbook.context import Answer
from auditbook.workbook.writer import Prefill, build_workbook

#: Longest case reference accepted: it goes into every page footer, which Excel caps at 255 characters.
MAX_CASE_REF = 60


def role_prefill(
    spec: Spec | Layout, *, case_ref: str | None = None, auditor: str | None = None, team: str | None = None,
    month: str | None = None, worker: str | None = None, team_manager: str | None = None,
    round_name: str | None = None, rounds: RoundCalendar | None = None,
) -> dict[str, Answer]:
    """Starting values keyed by defined name, placed through the spec's roles (only those given).

    With no round named, the round calendar (if any) gives the round of the audit month.
    """
    layout = spec if isinstance(spec, Layout) else build_layout(spec)
    if case_ref is not None and len(case_ref.strip()) > MAX_CASE_REF:
        raise AuditbookError(f"the case reference is {len(case_ref.strip())} characters long; the most is "
                             f"{MAX_CASE_REF} (it is printed in every page footer). Use the case number only.")
    given: dict[Role, str | date] = {}
    for role, text in ((Role.CASE_REF, case_ref), (Role.AUDITOR, auditor), (Role.TEAM, team),
                       (Role.WORKER, worker), (Role.TEAM_MANAGER, team_manager), (Role.ROUND, round_name)):
        if text is not None and text.strip():
            given[role] = text.strip()
    if month:
        year, mon = parse_month(month)
        due = month_end(year, mon)
        month = given[Role.AUDIT_MONTH] = f"{year:04d}-{mon:02d}"
        given[Role.DUE_DATE] = due
        given[Role.PERIOD_FROM], given[Role.PERIOD_TO] = audit_period(due)
        derived = rounds.round_of(month) if rounds is not None else None
        if derived and Role.ROUND not in given:
            given[Role.ROUND] = derived
    values: dict[str, Answer] = {}
    for role, value in given.items():
        inp = layout.role_input(role)
        if inp is not None and inp.derived is not None:
            continue  # worked out by the workbook from the audit month
        if inp is not None:
            values[inp.name] = value
        elif role in (Role.CASE_REF, Role.AUDITOR, Role.TEAM, Role.AUDIT_MONTH):
            raise AuditbookError(f"the spec {layout.spec.id} has no field for the {role.value.replace('_', ' ')} "
                                 f"(its roles: block names none), so it cannot be prefilled.")
    return values


def default_filename(spec: Spec, prefill: Prefill) -> str:
    """A file name a person can read and sort: spec, month, team, case reference."""
    layout = build_layout(spec)
    parts = [spec.id.replace("_", "-")]
    for role in (Role.AUDIT_MONTH, Role.TEAM, Role.CASE_REF):
        inp = layout.role_input(role)
        value = prefill.get(inp.name) if inp is not None else None
        if value:
            parts.append(slug(str(value)))
    if len(parts) == 1:
        parts.append("blank")
    return "_".join(parts) + ".xlsx"


def generate_workbook(spec: Spec, *, out: Path, prefill: Prefill, password: str = "",
                      lock_prefill: bool = False, overwrite: bool = True, local: LocalDetails | None = None) -> Path:
    """Write one workbook; `out` is a folder (a readable name is chosen) or an .xlsx path."""
    if out.suffix.lower() != ".xlsx":
        out = out / default_filename(spec, prefill)
    if out.exists() and not overwrite:
        raise AuditbookError(f"{out} already exists and may hold an auditor's work. Give --force to replace it, "
                             "or another --out.")
    return build_workbook(spec, out=out, prefill=prefill, password=password, lock_prefill=lock_prefill,
                          local=local)
