"""Pure: themes that discriminate. Concerns and strengths apart, ranked by count then share, against the previous round.

A theme (a concern theme tag, a section graded as needing action, a practice question answered as falling short)
*recurs* in a round when it is in at least `min_audits` audits of that round and in at least the threshold share
of the audits it could apply to: a first round has recurring themes. It is *persistent* when it recurred in the
round before too. A strength is never recurring. Shares always come with their counts and the audits behind them;
a change is shown only when both rounds have at least `min_audits` audits behind it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from auditbook.analysis.cohorts import suppress
from auditbook.analysis.collate import Merged
from auditbook.analysis.trends import ANSWERED, Change, RoundSummary, compare, shortfall
from auditbook.spec.roles import Role

CONCERN, STRENGTH, SECTION, QUESTION = "concern", "strength", "section", "question"
#: The Self-Assessment Group's definition, in one sentence (the master, the report and the README say it).
RECURRING = ("A theme (a concern tag, a section needing action, a practice question {short}) recurs in a round when "
             "it is in at least {n} audits of that round and in at least {share} of the audits it could apply to; it "
             "is persistent when it recurred in the round before as well.")


def definition(*, threshold: float, min_audits: int, short: str = "answered No or Partly") -> str:
    """The definition of a recurring theme with this round's settings, in one sentence."""
    return RECURRING.format(short=short, n=min_audits, share=f"{threshold:.0%}")


def recurs(count: int, of: int, *, threshold: float, min_audits: int) -> bool:
    """Whether a theme in `count` of the `of` audits it could apply to recurs."""
    return of > 0 and count >= min_audits and count / of >= threshold


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
    #: The audits behind the previous round's share.
    previous_of: int | None = None
    recurring: bool = False
    #: Recurring this round and the round before.
    persistent: bool = False
    #: The first round (of those the ledger has seen, up to this one) in which it recurred.
    first_seen: str = ""
    #: For questions: how many answered No and how many Partly.
    detail: str = ""
    changed: Change = field(default_factory=lambda: Change(None, False))
    #: A team's figure left out: the team has fewer audits than the small-group size.
    suppressed: bool = False

    @property
    def share(self) -> float:
        """The share of the audits it could apply to."""
        return self.count / self.of if self.of else 0.0

    @property
    def change(self) -> int | None:
        """Change in share since the previous round, in whole percentage points (None when not compared)."""
        return self.changed.points

    @property
    def name(self) -> str:
        """What the SAG action plan calls it: the tag, "<section> needing action", "<section>: <question>"."""
        if self.kind == SECTION:
            return f"{self.section} needing action"
        if self.kind == QUESTION:
            return f"{self.section}: {self.item}"
        return self.item


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
    min_audits: int = 3

    def recurring(self) -> list[Ranked]:
        """Every recurring theme: concern tags, sections needing action, questions answered short."""
        return [r for r in (*self.concerns, *self.sections, *self.questions) if r.recurring]


#: A theme's count and the audits it could apply to in one round (None when the round does not have it).
Counts = Callable[[RoundSummary], tuple[int, int] | None]


@dataclass(frozen=True)
class _Rules:
    threshold: float
    min_audits: int


def _ranked(kind: str, section: str, item: str, counts: Counts, rounds: Sequence[RoundSummary], rules: _Rules,
            detail: str = "") -> Ranked:
    """A theme against every round up to this one (the last of `rounds`)."""
    series = [counts(r) for r in rounds]
    count, of = series[-1] or (0, 0)
    flags = [kind != STRENGTH and c is not None and recurs(*c, threshold=rules.threshold, min_audits=rules.min_audits)
             for c in series]
    before = series[-2] if len(series) > 1 else None
    first = next((r.round for r, f in zip(rounds, flags, strict=True) if f), "")
    previous = before[0] / before[1] if before and before[1] else None
    changed = compare(count / of if of else None, of, previous, before[1] if before else None,
                      min_audits=rules.min_audits, up_is_better=kind == STRENGTH)
    return Ranked(kind, "All", section, item, count, of, previous, before[1] if before else None, flags[-1],
                  flags[-1] and len(flags) > 1 and flags[-2], first if flags[-1] else "", detail, changed)


def _by_count(r: Ranked) -> tuple[int, float, str, str]:
    """Rank by count, then share (small numbers never outrank large ones), then name."""
    return (-r.count, -r.share, r.section, r.item)


def analyse(current: RoundSummary, earlier: Sequence[RoundSummary], merged: Sequence[Merged], *, threshold: float,
            grades: Sequence[str], needs_action: frozenset[str], shortfall_words: Sequence[str] = (),
            section_order: Sequence[str] = (), min_audits: int = 3, small: int = 5) -> Themes:
    """Rank this round's themes, sections and questions against the rounds before it (oldest first).

    A question's detail counts each shortfall answer, in the order of `shortfall_words` (the specs' grading);
    questions come section by section in `section_order` (the specs' order of section titles).
    """
    rounds = [*earlier, current]
    rules = _Rules(threshold, min_audits)
    prev = earlier[-1] if earlier else None

    def tag(label: str) -> Counts:
        return lambda r: (r.themes.get(label, 0), r.audits) if r.audits else None

    def section(title: str) -> Counts:
        def counts(r: RoundSummary) -> tuple[int, int] | None:
            got = r.sections.get(title)
            if got is None:
                return None
            return sum(got.get(g, 0) for g in needs_action), sum(got.get(g, 0) for g in grades)
        return counts

    def question(key: str) -> Counts:
        return lambda r: (shortfall(t), t.get(ANSWERED, 0)) if (t := r.questions.get(key)) else None

    tags = [_ranked(current.kinds.get(label, CONCERN), "", label, tag(label), rounds, rules)
            for label in current.themes]
    tags.sort(key=_by_count)
    needing = "Graded " + (" or ".join(g for g in grades if g in needs_action) or "as needing action")
    sections = sorted((_ranked(SECTION, title, needing, section(title), rounds, rules) for title in current.sections),
                      key=_by_count)
    questions: list[Ranked] = []
    for key, tally in current.questions.items():
        title, _, label = key.partition("\t")
        words = [*[w for w in shortfall_words if w in tally], *sorted(w for w in tally if w not in shortfall_words)]
        detail = ", ".join(f"{tally[w]} {w}" for w in words if w != ANSWERED and tally[w])
        questions.append(_ranked(QUESTION, title, label, question(key), rounds, rules, detail))
    order = {title: i for i, title in enumerate(dict.fromkeys([*section_order, *current.sections]))}
    questions = [q for q in questions if q.count]
    questions.sort(key=lambda r: (order.get(r.section, len(order)), *_by_count(r)))
    by_team = _by_team(merged, current, small)
    return Themes(current.round, prev.round if prev else None, threshold,
                  [t for t in tags if t.kind != STRENGTH], [t for t in tags if t.kind == STRENGTH],
                  sections, questions, by_team, min_audits)


def _by_team(merged: Sequence[Merged], current: RoundSummary, small: int) -> list[Ranked]:
    """Each team's theme tags; a team with fewer than `small` audits is there, its figures suppressed."""
    teams: dict[str, list[Merged]] = {}
    for m in merged:
        teams.setdefault(m.audit.text(Role.TEAM) or "(none)", []).append(m)
    # Every team is a group of each tag's breakdown (a team without the tag has 0): suppressed as cohorts are.
    flags = dict(zip(teams, suppress([len(ms) for ms in teams.values()], small), strict=True))
    rows: list[Ranked] = []
    for team, members in sorted(teams.items()):
        tally: Counter[str] = Counter()
        for m in members:
            tally.update({t for s in m.audit.sections for t in s.themes})
        for label, n in tally.items():
            kind = current.kinds.get(label, CONCERN)
            rows.append(Ranked(kind, f"Team: {team}", "", label, n, len(members), None, suppressed=bool(flags[team])))
    # A suppressed team's tags by name: ranked by count, their order would tell what their figures do not.
    rows.sort(key=lambda r: (r.scope, r.kind != CONCERN, *((0, 0.0, "", r.item) if r.suppressed else _by_count(r))))
    return rows
