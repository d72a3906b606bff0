"""The SAG action plan's rows: the thematic actions the Self-Assessment Group agrees, as plain data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from auditbook.text import norm

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


class PlanLine(NamedTuple):
    """A row of the SAG action plan as shown: what the SAG typed (`row`), and for a recurring theme the figures behind
    it this round and the round it first recurred in (worked out afresh on every collect, never typed)."""

    row: PlanRow
    figures: str = ""
    first_seen: str = ""


def plan_lines(kept: Sequence[PlanRow], recurring: Sequence[Recurring]) -> list[PlanLine]:
    """The plan: every kept row (with its theme's figures when that theme recurs this round), then a row for each
    recurring theme no kept row names, for the SAG to fill in (its ID comes once something is typed in it)."""
    by_theme = {norm(r.theme): r for r in recurring}
    lines = [PlanLine(k, *_figures(by_theme.get(norm(k.theme)))) for k in kept]
    named = {norm(k.theme) for k in kept}
    lines += [PlanLine(PlanRow("", r.theme), *_figures(r)) for r in recurring if norm(r.theme) not in named]
    return lines


class Recurring(NamedTuple):
    """A recurring theme as the plan names it, the figures behind it this round, and the round it first recurred."""

    theme: str
    figures: str
    first_seen: str


def _figures(r: Recurring | None) -> tuple[str, str]:
    return ("", "") if r is None else (r.figures, r.first_seen)
