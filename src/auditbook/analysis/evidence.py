"""Pure: everything the master, the round report and export show, worked out once from a collation.

The round it is about is the round asked for, else the latest round merged; "previous" is the round
before it in the ledger's history (the caller's round calendar first, then by due date).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from auditbook.analysis.actions import Action, ReadBack, State, actions_of
from auditbook.analysis.cohorts import CohortRow, cohorts, not_audited
from auditbook.analysis.collate import Collation, Merged
from auditbook.analysis.plan import PlanLine, PlanRow, Recurring, plan_lines
from auditbook.analysis.themes import Ranked, Themes, analyse, definition
from auditbook.analysis.tracking import ReturnRow
from auditbook.analysis.trends import (
    OVERALL,
    Change,
    RoundSummary,
    TrendRow,
    compare,
    good_share,
    ordered,
    percent,
    summarise,
    trend_rows,
)
from auditbook.analysis.urgent import Urgent
from auditbook.returns.provenance import SpecRegistry
from auditbook.spec.roles import Role
from auditbook.text import norm


@dataclass(frozen=True)
class ScopeShare:
    """One scope (overall or a section) this round: grade counts, % good or better, and the previous round's."""

    scope: str
    counts: Mapping[str, int]
    graded: int
    share: float | None
    before: float | None
    #: The change in % good or better since the previous round (see trends.compare).
    changed: Change = field(default_factory=lambda: Change(None, True))

    @property
    def change(self) -> int | None:
        """The change in % good or better since the previous round, in whole percentage points worked out from the
        unrounded shares (None without both, or with too few audits behind either)."""
        return self.changed.points


@dataclass
class Evidence:
    """A collation and what it comes to for the Self-Assessment Group."""

    collation: Collation
    registry: SpecRegistry
    today: date
    actions: list[Action]
    states: Mapping[str, State]
    #: Every round the ledger has seen, in order; `current` is one of them (None when nothing was merged).
    rounds: list[RoundSummary]
    current: RoundSummary | None
    previous: RoundSummary | None
    in_round: list[Merged]
    themes: Themes | None
    cohorts: list[CohortRow]
    not_audited: dict[str, list[str]]
    trends: list[TrendRow]
    scopes: list[str]
    plan: list[PlanRow] = field(default_factory=list)
    returns: Sequence[ReturnRow] | None = None
    readback: ReadBack = field(default_factory=ReadBack)
    #: Every urgent concern the folder's files record, whatever became of their return (analysis/urgent.py).
    urgent: list[Urgent] = field(default_factory=list)

    def overdue(self) -> list[Action]:
        """Actions past their timescale and not closed."""
        return [a for a in self.actions if a.overdue(self.states.get(a.id, State()), self.today)]

    def overall_share(self) -> tuple[float | None, float | None]:
        """% good or better of this round's overall grades and of the previous round's (None where there is none):
        the headline of the master's Summary and of the round report."""
        c = self.collation
        now = good_share(self.current.overall, c.grades, c.good_or_better)[1] if self.current else None
        before = good_share(self.previous.overall, c.grades, c.good_or_better)[1] if self.previous else None
        return now, before

    def recurring(self) -> list[Ranked]:
        """The themes recurring this round: concern tags, sections needing action, questions answered short."""
        return self.themes.recurring() if self.themes else []

    def definition(self) -> str:
        """What "recurring" means, in one sentence with this collect's settings."""
        c = self.collation
        return definition(threshold=c.threshold, min_audits=c.min_audits, short=c.answered_short())

    def overall_change(self) -> Change:
        """The change in % good or better overall since the previous round (too few to compare under min_audits)."""
        c = self.collation
        now = good_share(self.current.overall, c.grades, c.good_or_better) if self.current else (0, None)
        before = good_share(self.previous.overall, c.grades, c.good_or_better) if self.previous else (0, None)
        return compare(now[1], now[0], before[1], before[0] if self.previous else None, min_audits=c.min_audits,
                       up_is_better=True)

    def plan_lines(self) -> list[PlanLine]:
        """The SAG action plan: the kept rows, then a row for each recurring theme not yet in it."""
        return plan_lines(self.plan, [Recurring(r.name, figures(r), r.first_seen) for r in self.recurring()])

    def teams(self) -> Counter[str]:
        """Audits this round by team."""
        return Counter(m.audit.text(Role.TEAM) or "(none)" for m in self.in_round)

    def not_audited_rows(self) -> list[tuple[str, str]]:
        """The groups of children the specs name that no audit of the round fell in, by dimension (or a row saying
        there are none)."""
        return [(dim, ", ".join(groups)) for dim, groups in self.not_audited.items()] or [
            ("(none)", "every group the spec names had at least one audit")]

    def by_scope(self) -> list[ScopeShare]:
        """This round overall and by section (those graded), each against the previous round: what the master's
        Grades tab and the round report's section charts show, worked out once here."""
        c = self.collation
        out: list[ScopeShare] = []
        if self.current is None:
            return out
        for scope in self.scopes:
            counts = self.current.scope(scope)
            graded, share = good_share(counts, c.grades, c.good_or_better)
            if not graded:
                continue
            before_n, before = good_share(self.previous.scope(scope), c.grades, c.good_or_better) if self.previous \
                else (None, None)
            out.append(ScopeShare(scope, counts, graded, share, before, compare(
                share, graded, before, before_n, min_audits=c.min_audits, up_is_better=True)))
        return out


def figures(r: Ranked) -> str:
    """The figures behind a theme in words: "5 of 12 audits (42%), persistent"."""
    return (f"{r.count} of {r.of} audits ({percent(r.share)}%)" + (", persistent" if r.persistent else "")
            + (f"; {r.changed.words()} since the previous round" if r.changed.points is not None else ""))


def round_summaries(c: Collation, registry: SpecRegistry) -> list[RoundSummary]:
    """The figures of every round merged in this collation (one summary per round, however it is spelt)."""
    groups: dict[str, list[Merged]] = {}
    for m in c.merged:
        groups.setdefault(norm(m.round), []).append(m)
    return [summarise(ms[0].round, ms, registry) for ms in groups.values()]


def gather(c: Collation, registry: SpecRegistry, *, history: Sequence[RoundSummary], states: Mapping[str, State],
           today: date, round_name: str | None = None, calendar: Sequence[str] = (),
           plan: Sequence[PlanRow] = (), returns: Sequence[ReturnRow] | None = None,
           readback: ReadBack | None = None, actions: Sequence[Action] | None = None) -> Evidence:
    """Work out the round's figures, trends, themes, cohorts and action register from a collation.

    `history` holds every round the ledger has seen, this collation's rounds already updated in it.
    """
    rounds = ordered(history, calendar)
    merged_rounds = {norm(m.round) for m in c.merged}
    current: RoundSummary | None = None
    if round_name is not None:
        current = next((r for r in rounds if norm(r.round) == norm(round_name)), None)
    elif merged_rounds:
        current = [r for r in rounds if norm(r.round) in merged_rounds][-1]
    index = rounds.index(current) if current is not None else -1
    previous = rounds[index - 1] if index > 0 else None
    in_round = [m for m in c.merged if current is not None and norm(m.round) == norm(current.round)]
    themes = None if current is None else analyse(
        current, rounds[:index], in_round, threshold=c.threshold, grades=c.grades, needs_action=c.needs_action,
        shortfall_words=c.shortfall, section_order=[s.title for spec in c.specs for s in spec.sections],
        min_audits=c.min_audits, small=c.small_group)
    audits = [m.audit for m in in_round]
    # Sections in the specs' order (sections only older rounds had come after them).
    spec_order = [s.title for spec in c.specs for s in spec.sections if s.kind == "judged"]
    seen = dict.fromkeys(t for r in rounds for t in r.sections)
    scopes = [OVERALL, *sorted(seen, key=lambda t: (spec_order.index(t) if t in spec_order else len(spec_order), t))]
    return Evidence(
        collation=c, registry=registry, today=today, actions=actions_of(c.merged) if actions is None else list(actions),
        states=states, rounds=rounds,
        current=current, previous=previous, in_round=in_round, themes=themes,
        cohorts=cohorts(audits, c.specs, c.grades, c.good_or_better, small=c.small_group),
        not_audited=not_audited(audits, c.specs),
        trends=trend_rows(rounds, scopes, c.grades, c.good_or_better, min_audits=c.min_audits), scopes=scopes,
        plan=list(plan),
        returns=returns, readback=readback or ReadBack())
