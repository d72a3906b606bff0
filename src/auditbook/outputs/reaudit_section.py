"""The round report's section on re-audited cases: how many came back better, the same or worse, in words.

A count from 1 to under the small-number threshold is shown as "fewer than N", so no small group of children can
be picked out; the master's Cases tab has every case.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from auditbook.analysis.cohorts import SMALL
from auditbook.analysis.evidence import Evidence
from auditbook.analysis.reaudit import BETTER, NOT_COMPARED, SAME, WORSE, due_for_reaudit, reaudited
from auditbook.outputs.cases_tab import case_histories


@dataclass(frozen=True)
class ReauditSection:
    """What the report says of the round's re-audits: a sentence, the counts by change, and the cases now due."""

    lowest: str
    summary: str
    counts: tuple[tuple[str, str], ...]
    due: str


def small_count(n: int, small: int = SMALL) -> str:
    """A count as the report shows it: "none", "fewer than 5" under the threshold, else the number."""
    return "none" if n == 0 else f"fewer than {small}" if n < small else str(n)


def reaudit_section(e: Evidence, small: int = SMALL) -> ReauditSection | None:
    """The section, or None when the specs have no grade scale or no round is reported."""
    grades = e.collation.grades
    if not grades or e.current is None:
        return None
    lowest = grades[-1]
    cases = case_histories(e)
    moved = Counter(r.change for r in reaudited(cases, grades, e.current.round))
    total = sum(moved.values())
    counts = tuple((change, small_count(moved[change], small)) for change in (BETTER, SAME, WORSE, NOT_COMPARED)
                   if change != NOT_COMPARED or moved[change])
    if total:
        words = dict(counts)
        cases_word = "case" if total == 1 and small <= 1 else "cases"
        summary = (f"Of {small_count(total, small)} {cases_word} re-audited in {e.current.round} after an earlier "
                   f"audit graded {lowest} (overall or in a section), the overall grade was better for "
                   f"{words[BETTER]}, the same for {words[SAME]} and worse for {words[WORSE]}.")
    else:
        summary = f"No case audited in {e.current.round} follows an earlier audit graded {lowest}."
    due = len(due_for_reaudit(e.collation.merged, grades, rounds=[r.round for r in e.rounds]))
    return ReauditSection(lowest, summary, counts,
                          f"Cases due for re-audit in a later round (their latest audit graded {lowest}): "
                          f"{small_count(due, small)}. The master's Cases tab lists them.")
