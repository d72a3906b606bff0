"""Pure: themes that discriminate. Concerns and strengths apart, ranked by share, against the previous round.

"Recurring" is kept for a concern (a concern theme tag, a section graded as needing action) whose share
of the audits it could apply to is at or above the threshold in this round and in at least one earlier
round the ledger has seen. A strength is never recurring; a concern that is high once is "high this
round", not recurring. Shares always come with their counts and the number of audits behind them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from auditbook.analysis.collate import Merged
from auditbook.analysis.trends import ANSWERED, RoundSummary, points, shortfall
from auditbook.spec.roles import Role

CONCERN, STRENGTH, SECTION, QUESTION = "concern", "strength", "section", "question"


@dataclass(frozen=True)
class Ranked:
    """A theme, section or question ranked for the Self-Assessment Group."""

    kind: str
    scope: str
    section: str
    item: str
    count: int
    of: int
    previous: float | None
    #: Rounds (this one included) in which it was at or above the threshold.
    rounds_high: int
    recurring: bool
    #: For questions: how many answered No and how many Partly.
    detail: str = ""

    @property
    def share(self) -> float:
        """The share of the audits it could apply to."""
        return self.count / self.of if self.of else 0.0

    @property
    def change(self) -> int | None:
        """Change in share since the previous round, in percentage points (None when that round had none)."""
        return points(self.share, self.previous)


@dataclass
class Themes:
    """Everything the Themes tab and the report rank."""

    current: str
    previous: str | None
    threshold: float
    concerns: list[Ranked]
    strengths: list[Ranked]
    sections: list[Ranked]
    questions: list[Ranked]
    by_team: list[Ranked]


def _share(count: int, of: int) -> float | None:
    return count / of if of else None


def _history(label: str, earlier: Sequence[RoundSummary], threshold: float, *, section: bool = False,
             needs_action: frozenset[str] = frozenset(), grades: Sequence[str] = ()) -> list[float]:
    shares: list[float] = []
    for r in earlier:
        if section:
            counts = r.sections.get(label, {})
            graded = sum(counts.get(g, 0) for g in grades)
            s = _share(sum(counts.get(g, 0) for g in needs_action), graded)
        else:
            s = _share(r.themes.get(label, 0), r.audits)
        if s is not None:
            shares.append(s)
    return shares


def analyse(current: RoundSummary, earlier: Sequence[RoundSummary], merged: Sequence[Merged], *, threshold: float,
            grades: Sequence[str], needs_action: frozenset[str], shortfall_words: Sequence[str] = (),
            section_order: Sequence[str] = ()) -> Themes:
    """Rank this round's themes, sections and questions against the rounds before it (oldest first).

    A question's detail counts each shortfall answer, in the order of `shortfall_words` (the specs' grading);
    questions come section by section in `section_order` (the specs' order of section titles).
    """
    prev = earlier[-1] if earlier else None

    def ranked_theme(label: str, count: int, of: int, scope: str) -> Ranked:
        kind = current.kinds.get(label, CONCERN)
        before = _history(label, earlier, threshold)
        share = count / of if of else 0.0
        high = sum(1 for s in before if s >= threshold) + (share >= threshold)
        previous = _share(prev.themes.get(label, 0), prev.audits) if prev is not None and scope == "All" else None
        return Ranked(kind, scope, "", label, count, of, previous, high,
                      kind == CONCERN and share >= threshold and high >= 2)

    tags = [ranked_theme(label, n, current.audits, "All") for label, n in current.themes.items()]
    tags.sort(key=lambda r: (-r.share, -r.count, r.item))
    sections: list[Ranked] = []
    for title, counts in current.sections.items():
        graded = sum(counts.get(g, 0) for g in grades)
        n = sum(counts.get(g, 0) for g in needs_action)
        before = _history(title, earlier, threshold, section=True, needs_action=needs_action, grades=grades)
        share = n / graded if graded else 0.0
        high = sum(1 for s in before if s >= threshold) + (share >= threshold)
        previous = None
        if prev is not None and title in prev.sections:
            pg = sum(prev.sections[title].get(g, 0) for g in grades)
            previous = _share(sum(prev.sections[title].get(g, 0) for g in needs_action), pg)
        sections.append(Ranked(SECTION, "All", title, "Graded " + (" or ".join(
            g for g in grades if g in needs_action) or "as needing action"), n, graded, previous, high,
            share >= threshold and high >= 2))
    sections.sort(key=lambda r: (-r.share, r.section))
    questions: list[Ranked] = []
    for key, tally in current.questions.items():
        section, _, label = key.partition("\t")
        last = prev.questions.get(key) if prev is not None else None
        previous = _share(shortfall(last), last.get(ANSWERED, 0)) if last else None
        words = [*[w for w in shortfall_words if w in tally], *sorted(w for w in tally if w not in shortfall_words)]
        detail = ", ".join(f"{tally[w]} {w}" for w in words if w != ANSWERED and tally[w])
        questions.append(Ranked(QUESTION, "All", section, label, shortfall(tally), tally.get(ANSWERED, 0),
                                previous, 0, False, detail))
    order = {title: i for i, title in enumerate(dict.fromkeys([*section_order, *current.sections]))}
    questions = [q for q in questions if q.count]
    questions.sort(key=lambda r: (order.get(r.section, len(order)), -r.share, -r.count, r.item))
    by_team = _by_team(merged, threshold, current)
    return Themes(current.round, prev.round if prev else None, threshold,
                  [t for t in tags if t.kind != STRENGTH], [t for t in tags if t.kind == STRENGTH],
                  sections, questions, by_team)


def _by_team(merged: Sequence[Merged], threshold: float, current: RoundSummary) -> list[Ranked]:
    teams: dict[str, list[Merged]] = {}
    for m in merged:
        teams.setdefault(m.audit.text(Role.TEAM) or "(none)", []).append(m)
    rows: list[Ranked] = []
    for team, members in sorted(teams.items()):
        tally: Counter[str] = Counter()
        for m in members:
            tally.update({t for s in m.audit.sections for t in s.themes})
        for label, n in tally.items():
            kind = current.kinds.get(label, CONCERN)
            rows.append(Ranked(kind, f"Team: {team}", "", label, n, len(members), None, 0, False))
    rows.sort(key=lambda r: (r.scope, r.kind != CONCERN, -r.share, r.item))
    return rows

