"""Generate one audit workbook: starting values from the command line, a readable file name."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from auditbook.dates import audit_period, month_end, parse_month
from auditbook.errors import AuditbookError
from auditbook.spec import Spec
from auditbook.text import slug
from auditbook.workbook.writer import Prefill, build_workbook

#: Longest case reference accepted: it goes into every page footer, which Excel caps at 255 characters.
MAX_CASE_REF = 60


def profile_prefill(
    *, case_ref: str | None = None, auditor: str | None = None, team: str | None = None,
    month: str | None = None, worker: str | None = None, team_manager: str | None = None,
    round_name: str | None = None,
) -> dict[str, str | int | date]:
    """Case profile starting values keyed by defined name (only those given)."""
    if case_ref is not None and len(case_ref.strip()) > MAX_CASE_REF:
        raise AuditbookError(f"the case reference is {len(case_ref.strip())} characters long; the most is "
                             f"{MAX_CASE_REF} (it is printed in every page footer). Use the case number only.")
    values: dict[str, str | int | date] = {}
    for name, value in (("profile_case_ref", case_ref), ("profile_auditor", auditor), ("profile_team", team),
                        ("profile_worker", worker), ("profile_team_manager", team_manager),
                        ("profile_round", round_name)):
        if value is not None and value.strip():
            values[name] = value.strip()
    if month:
        year, mon = parse_month(month)
        due = month_end(year, mon)
        values["profile_audit_month"] = f"{year:04d}-{mon:02d}"
        values["profile_due_date"] = due
        values["profile_period_from"], values["profile_period_to"] = audit_period(due)
    return values


def default_filename(spec: Spec, prefill: Prefill) -> str:
    """A file name a person can read and sort: spec, month, team, case reference."""
    parts = [spec.id.replace("_", "-")]
    for key in ("profile_audit_month", "profile_team", "profile_case_ref"):
        value = prefill.get(key)
        if value:
            parts.append(slug(str(value)))
    if len(parts) == 1:
        parts.append("blank")
    return "_".join(parts) + ".xlsx"


def generate_workbook(spec: Spec, *, out: Path, prefill: Prefill, password: str = "",
                      lock_prefill: bool = False, overwrite: bool = True) -> Path:
    """Write one workbook; `out` is a folder (a readable name is chosen) or an .xlsx path."""
    if out.suffix.lower() != ".xlsx":
        out = out / default_filename(spec, prefill)
    if out.exists() and not overwrite:
        raise AuditbookError(f"{out} already exists and may hold an auditor's work. Give --force to replace it, "
                             "or another --out.")
    return build_workbook(spec, out=out, prefill=prefill, password=password, lock_prefill=lock_prefill)
