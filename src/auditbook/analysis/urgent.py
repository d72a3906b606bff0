"""Pure: every urgent concern the files of the folder record, whatever became of their return, with its status.

A return's urgent concern is taken out before validation (returns/urgent.py), so a return rejected, late,
superseded, a duplicate or of another round still reports it here. Each concern is listed once (by its id: the
case and the workbook it was recorded in, as the action register's urgent row), from the return that went into
the master when there is one. It is open until someone closes it; the date it was raised is not a deadline, so a
concern is never overdue.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import NamedTuple

from auditbook.analysis.actions import State, action_id
from auditbook.analysis.collate import Collation, Source
from auditbook.dates import uk
from auditbook.local import RoundCalendar
from auditbook.problems import Problem
from auditbook.returns.audit import round_of
from auditbook.returns.report import Report
from auditbook.returns.urgent import UrgentConcern
from auditbook.text import plural

#: What the Urgent concerns tab offers under Status: a concern is open until someone has checked it was acted on.
URGENT_STATUSES = ("Open", "Closed")
MERGED = "merged"
#: The row an urgent concern has in the action register (and its id).
URGENT_ROW = "URGENT"


class Urgent(NamedTuple):
    """One urgent concern, where it was recorded and what became of that return."""

    id: str
    concern: UrgentConcern
    round: str
    file: str
    #: "merged", or why the return is not in the master ("rejected", "superseded", "duplicate", "other round").
    outcome: str
    #: Why, in a few words ("1 error: ..."); "" for a return merged on time.
    detail: str

    def closed(self, state: State) -> bool:
        """Whether someone has closed it (Closed, or an action register's Done or Not needed)."""
        return state.is_closed

    def status(self, state: State) -> str:
        """Open or Closed, as the Urgent concerns tab and the report say it."""
        return "Closed" if self.closed(state) else "Open"

    def return_words(self) -> str:
        """What became of the return, in words: "return merged", "return rejected: 1 error: ..."."""
        said = f"return {self.outcome}"
        return f"{said}: {self.detail}" if self.detail else said

    def line(self) -> str:
        """One line, with the case reference the only personal data: what collect and validate print first."""
        c = self.concern
        when = f"raised {uk(c.raised)}" if c.raised else "raised (date not given)"
        whom = f" with {c.with_whom}" if c.with_whom else ""
        return f"URGENT: {c.case_ref or '(no case reference)'}, urgent concern {when}{whom}, {self.return_words()}"


def concern_id(concern: UrgentConcern) -> str:
    """The id of an urgent concern: the same as its row in the action register."""
    return action_id(concern.case_ref, concern.instance_id, URGENT_ROW)


def _first(reason: str, problems: Sequence[Problem]) -> str:
    """Why a return is not merged, with its first problem (as the Returns tab says it)."""
    return f"{reason}: {problems[0].render()}" if problems else reason


def urgent_concerns(sources: Iterable[Source], c: Collation, rounds: RoundCalendar | None = None) -> list[Urgent]:
    """Every urgent concern recorded in these files, once each, oldest raised first."""
    merged = {m.file: m for m in c.merged}
    not_merged = {n.file: n for n in c.not_merged}
    found: dict[str, Urgent] = {}
    for src in sorted(sources, key=lambda s: s.path):
        concern = src.report.urgent
        if concern is None:
            continue
        m, n = merged.get(src.path), not_merged.get(src.path)
        if m is not None:
            u = Urgent(concern_id(concern), concern, m.round, src.path, MERGED,
                       "late" if m.audit.late else "")
        else:
            audit = src.report.audit
            # The round as collate works it out (one place), from the audit validate made of the return.
            name = round_of(audit, rounds) if audit is not None else ""
            outcome, detail = (n.status, _first(n.reason, n.problems)) if n is not None else ("not merged", "")
            u = Urgent(concern_id(concern), concern, name, src.path, outcome, detail)
        kept = found.get(u.id)
        if kept is None or (u.outcome == MERGED and kept.outcome != MERGED):
            found[u.id] = u
    return sorted(found.values(), key=lambda u: (u.concern.raised or date.max, u.concern.case_ref, u.file))


def of_report(report: Report) -> Urgent | None:
    """The urgent concern of one file as validate checked it (no collection): valid, or rejected with why."""
    concern = report.urgent
    if concern is None:
        return None
    errors = report.errors
    outcome, detail = ("valid", "") if report.valid else (
        "rejected", _first(plural(len(errors), "error") if errors else "could not be read", errors))
    name = round_of(report.audit) if report.audit is not None else ""
    return Urgent(concern_id(concern), concern, name, report.file, outcome, detail)


def open_concerns(urgent: Iterable[Urgent], states: Mapping[str, State]) -> list[Urgent]:
    """The concerns not yet closed."""
    return [u for u in urgent if not u.closed(states.get(u.id, State()))]
