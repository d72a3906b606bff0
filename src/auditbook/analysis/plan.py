"""The SAG action plan's rows: the thematic actions the Self-Assessment Group agrees, as plain data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

PLAN_COLUMNS = ("ID", "Theme", "Action", "Owner", "Due", "Status", "Linked themes", "Notes")
#: What the SAG may say of one of its thematic actions (the Status dropdown of the SAG action plan tab).
PLAN_STATUSES = ("Not started", "In progress", "Done", "Withdrawn")


@dataclass(frozen=True)
class PlanRow:
    """One thematic action of the SAG action plan."""

    id: str
    theme: str = ""
    action: str = ""
    owner: str = ""
    due: date | None = None
    status: str = ""
    linked: str = ""
    notes: str = ""
