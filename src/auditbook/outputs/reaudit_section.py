"""The round report's section on re-audited cases: how many came back better, the same or worse, in words.

A count from 1 to under the small-number threshold is shown as "fewer than N", so no small group of children can
be picked out; the master's Cases tab has every case.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import NamedTuple

from auditbook.analysis.cohorts import SMALL
from auditbook.analysis.evidence import Evidence
from auditbook.analysis.reaudit import BETTER, NOT_COMPARED, SAME, WORSE, grade_scales, reaudited
from auditbook.outputs.cases_tab import case_histories


class ReauditSection(NamedTuple):
    """What the report says of the round's re-audits: a sentence, the counts by change, and the cases now due."""

    lowest: str
    summary: str
    counts: tuple[tuple[str, str], ...]
    due: str


def small_count(n: int, small: int = SMALL) -> str:
    """A count as the report shows it: "none", "fewer than 5" under the threshold, else the number."""
    return "none" if n == 0 else f"fewer than {small}" if n < small else str(n)


def moved_summary(moved: Mapping[str, int], lowest: str, round_name: str, small: int = SMALL) -> str:
    """How the round's re-audited cases moved, in one sentence, small counts held back."""
    total = sum(moved.values())
    if not total:
        return f"No case audited in {round_name} follows an earlier audit graded {lowest}."
    said = {change: small_count(moved.get(change, 0), small) for change in (BETTER, SAME, WORSE, NOT_COMPARED)}
    # With a group held back as "fewer than N", an exact total would give it away by subtraction.
    hidden = any(0 < n < small for n in moved.values())
    of = "the" if hidden and total >= small else small_count(total, small)
    cases_word = "case" if total == 1 and small <= 1 else "cases"
    unmatched = (f"; for {said[NOT_COMPARED]} the earlier or the later audit has no overall grade"
                 if moved.get(NOT_COMPARED) else "")
    return (f"Of {of} {cases_word} re-audited in {round_name} after an earlier audit graded {lowest} (overall or in a "
            f"section), the overall grade was better for {said[BETTER]}, the same for {said[SAME]} and worse for "
            f"{said[WORSE]}{unmatched}.")


def reaudit_section(e: Evidence, small: int = SMALL) -> ReauditSection | None:
    """The section, or None when the specs have no grade scale or no round is reported."""
    lows = list(dict.fromkeys(scale[-1] for scale in grade_scales(e.collation.specs).values() if scale))
    if not lows or e.current is None:
        return None
    lowest = " or ".join(lows)  # "Inadequate"; "Inadequate or Weak" when specs with two scales were merged
    cases = case_histories(e)
    moved = Counter(r.change for r in reaudited(cases, e.current.round))
    counts = tuple((change, small_count(moved[change], small)) for change in (BETTER, SAME, WORSE, NOT_COMPARED)
                   if change != NOT_COMPARED or moved[change])
    due = sum(1 for h in cases if h.due)
    return ReauditSection(lowest, moved_summary(moved, lowest, e.current.round, small), counts,
                          f"Cases due for re-audit in a later round (their latest audit graded {lowest}): "
                          f"{small_count(due, small)}. The master's Cases tab lists them.")
