"""Pure: what one round of audits came to (kept by the ledger for every round it sees) and trends across rounds."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import compress, repeat
from operator import and_, itemgetter
from typing import Any, NamedTuple

from auditbook.analysis.collate import Merged
from auditbook.returns.audit import APPLIES, Audit, Value
from auditbook.returns.provenance import SpecRegistry
from auditbook.spec.layout import Layout
from auditbook.spec.models import Spec
from auditbook.spec.roles import Role
from auditbook.text import norm

OVERALL = "Overall"
#: The count of answers kept beside the shortfall answers' counts in a question's tally.
ANSWERED = "answered"


def percent(share: float) -> int:
    """A share as the whole percentage shown for it (halves up, as a spreadsheet's 0% format shows them)."""
    return math.floor(share * 100 + 0.5 + 1e-9)


def points(now: float | None, before: float | None) -> int | None:
    """The change between two shares in whole percentage points, worked out from the unrounded shares (5 of 12 then
    1 of 12 is 33 points, not 42% - 8% = 34), halves away from zero."""
    if now is None or before is None:
        return None
    by = math.floor(abs(now - before) * 100 + 0.5 + 1e-9)
    return -by if now < before else by


#: What a change says when one of the rounds has too few audits behind it to compare.
TOO_FEW = "too few to compare"


class Change(NamedTuple):
    """A change between two rounds' shares, knowing whether up is better or worse for what it measures.

    `points` is None when there is nothing to compare, with `why` saying so ("too few to compare").
    """

    points: int | None
    up_is_better: bool
    why: str = ""

    @property
    def better(self) -> bool | None:
        """True when the change is for the better, False for the worse, None when none or no change."""
        if not self.points:
            return None
        return (self.points > 0) == self.up_is_better

    def words(self) -> str:
        """The change in words with an arrow for its direction: "\u25b2 worse by 9 points", "\u25bc better by 8
        points", "no change", or why there is none ("too few to compare"; "" when there is no earlier round)."""
        if self.points is None:
            return self.why
        if self.points == 0:
            return "no change"
        arrow = "\u25b2" if self.points > 0 else "\u25bc"
        size = abs(self.points)
        return f"{arrow} {'better' if self.better else 'worse'} by {size} point{'' if size == 1 else 's'}"


def compare(now: float | None, now_n: int, before: float | None, before_n: int | None, *, min_audits: int,
            up_is_better: bool) -> Change:
    """The change from `before` (a share of `before_n` audits) to `now` (of `now_n`): none without an earlier share,
    "too few to compare" unless both rounds have at least `min_audits` audits behind them."""
    if now is None or before is None or before_n is None:
        return Change(None, up_is_better)
    if now_n < min_audits or before_n < min_audits:
        return Change(None, up_is_better, TOO_FEW)
    return Change(points(now, before), up_is_better)


def shortfall(tally: dict[str, int]) -> int:
    """How many answers to a question said the practice fell short (the spec's grading.shortfall answers)."""
    return sum(n for word, n in tally.items() if word != ANSWERED)


@dataclass
class RoundSummary:
    """One round's figures: grade counts overall and per section, theme tags, questions answered as falling short."""

    round: str
    #: Sorts rounds when no calendar is given: the earliest due date (or audit month) of its audits.
    sort_key: str = ""
    audits: int = 0
    overall: dict[str, int] = field(default_factory=dict)
    sections: dict[str, dict[str, int]] = field(default_factory=dict)
    #: Audits tagged with each theme (a theme tagged in two sections of one audit counts once).
    themes: dict[str, int] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    #: "section title\tquestion label" -> {"answered": n, and per shortfall answer given (e.g. "No"): n}.
    questions: dict[str, dict[str, int]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The stored form."""
        return dict(self.__dict__)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RoundSummary:
        """Read back the stored form (unknown keys of a later version are ignored)."""
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def scope(self, name: str) -> dict[str, int]:
        """Grade counts of the overall judgement or of one section (by title)."""
        return self.overall if name == OVERALL else self.sections.get(name, {})


def summarise(round_name: str, merged: Sequence[Merged], registry: SpecRegistry) -> RoundSummary:
    """The figures of one round's merged audits."""
    out = RoundSummary(round_name)
    keys = [str(m.audit.due_date or m.audit.text(Role.AUDIT_MONTH)) for m in merged]
    out.sort_key = min((k for k in keys if k), default="")
    out.audits = len(merged)
    overall: Counter[str] = Counter()
    themes: Counter[str] = Counter()
    # Each spec's theme kinds, practice questions and shortfall words, worked out once: most audits share one spec.
    of_spec: dict[str, _Asked] = {}
    answered: Counter[tuple[str, str, Value]] = Counter()
    sections = out.sections
    #: The specs by their last audit: a theme both give a kind keeps the kind of the spec met last.
    last: dict[str, _Asked] = {}
    for m in merged:
        a = m.audit
        grade = a.text(Role.OVERALL_GRADE)
        if grade:
            overall[grade] += 1
        for s in a.sections:
            if s.applies and s.grade:
                grades = sections.get(s.title)
                if grades is None:
                    grades = sections[s.title] = {}
                grades[s.grade] = grades.get(s.grade, 0) + 1
        themes.update({t for s in a.sections for t in s.themes})
        sha = a.provenance.spec_sha256
        spec = registry.by_sha.get(sha)
        if spec is None:
            continue
        known = of_spec.get(sha)
        if known is None:
            known = of_spec[sha] = _Asked(sha, spec, registry.layout(spec))
            out.kinds.update(known.kinds)  # the themes in the order they were first met
        last.pop(sha, None)
        last[sha] = known
        known.count(a, answered)
    for known in last.values():
        out.kinds.update(known.kinds)
    out.overall = dict(overall)
    out.themes = dict(themes)
    out.questions = _tallies(answered, of_spec)
    return out


def _questions(spec: Spec, layout: Layout) -> dict[str, tuple[str, str]]:
    """A spec's practice questions by their inputs' names: (section id, "section title\tquestion label")."""
    asked = {(s.id, f.id): f"{s.title}\t{f.label}" for s in spec.sections if s.kind == "judged" for f in s.fields
             if f.type == "question"}
    return {i.name: (i.section, key) for i in layout.inputs if (key := asked.get((i.section, i.field))) is not None}


#: An answer's input name, value and whether it applies (Answer.name, .value, .applies), read in C.
_NAME, _VALUE, _APPLIES = itemgetter(2), itemgetter(4), itemgetter(5)


class _Asked:
    """One spec's theme kinds, practice questions and shortfall words, and the answers it has seen."""

    def __init__(self, sha: str, spec: Spec, layout: Layout) -> None:
        self.kinds = {t.label: t.kind for t in spec.themes}
        #: Input name -> (section id, "section title\tquestion label").
        self.questions = _questions(spec, layout)
        #: Counted answers are keyed by the spec's SHA-256 too (two specs may name an input alike).
        self.sha = sha
        self._words = {norm(w): w for w in spec.grading.shortfall}
        # The same few answers ("Yes", "No", "Partly") come back in every audit: each is looked up once.
        self._seen: dict[str, str | None] = {}
        self._asked_in: dict[frozenset[str], frozenset[str]] = {}

    def word(self, text: str) -> str | None:
        """The shortfall word an answer is, or None."""
        try:
            return self._seen[text]
        except KeyError:
            word = self._seen[text] = self._words.get(norm(text))
            return word

    def count(self, a: Audit, answered: Counter[tuple[str, str, Value]]) -> None:
        """Count an audit's counted answers to the practice questions of the sections that apply to it, by (spec's
        SHA-256, input name, value): picked out and counted in C, since most of an audit's answers are not to practice
        questions (a flat key: a nested tuple's hash is worked out again at every lookup)."""
        applying = frozenset(s.id for s in a.sections if s.applies)
        asked = self._asked_in.get(applying)
        if asked is None:  # the questions of the sections that apply: a few sets of sections recur in every round
            asked = self._asked_in[applying] = frozenset(n for n, (s, _) in self.questions.items() if s in applying)
        answers = a.answers
        chosen = list(compress(answers, map(and_, map(asked.__contains__, map(_NAME, answers)),
                                            map(APPLIES.__eq__, map(_APPLIES, answers)))))
        answered.update(zip(repeat(self.sha), map(_NAME, chosen), map(_VALUE, chosen)))


def _tallies(answered: Counter[tuple[str, str, Value]], of_spec: dict[str, _Asked]) -> dict[str, dict[str, int]]:
    """The questions' tallies from the answers counted by (spec, name, value), in the order the answers were first
    met (as counting them one by one would make them)."""
    tallies: dict[str, dict[str, int]] = {}
    for (sha, name, value), n in answered.items():
        asked = of_spec[sha]
        key = asked.questions[name][1]
        tally = tallies.get(key)
        if tally is None:
            tally = tallies[key] = {ANSWERED: 0}
        tally[ANSWERED] += n
        word = asked.word(str(value))
        if word is not None:
            tally[word] = tally.get(word, 0) + n
    return tallies


def ordered(summaries: Sequence[RoundSummary], calendar: Sequence[str] = ()) -> list[RoundSummary]:
    """Rounds in order: those the calendar names in its order, then the rest by their earliest due date."""
    place = {norm(name): i for i, name in enumerate(calendar)}
    return sorted(summaries, key=lambda s: (place.get(norm(s.round), len(place)), s.sort_key, s.round))


class TrendRow(NamedTuple):
    """One scope (overall or a section) in one round."""

    round: str
    scope: str
    graded: int
    counts: tuple[int, ...]
    good: float | None
    #: Since the round before, % good or better being the measure (see `compare`).
    changed: Change

    @property
    def change(self) -> int | None:
        """Percentage points since the round before (None when there is none to show)."""
        return self.changed.points


def good_share(counts: dict[str, int], grades: Sequence[str],
               good_or_better: frozenset[str]) -> tuple[int, float | None]:
    """How many were graded and the share of them good or better."""
    graded = sum(counts.get(g, 0) for g in grades)
    return graded, (sum(counts.get(g, 0) for g in grades if g in good_or_better) / graded if graded else None)


def section_share(summary: RoundSummary, grades: Sequence[str],
                  good_or_better: frozenset[str]) -> tuple[int, float | None]:
    """Every section grade of a round together: how many were given and the share good or better."""
    total: Counter[str] = Counter()
    for counts in summary.sections.values():
        total.update(counts)
    return good_share(dict(total), grades, good_or_better)


def trend_rows(rounds: Sequence[RoundSummary], scopes: Sequence[str], grades: Sequence[str],
               good_or_better: frozenset[str], *, min_audits: int = 1) -> list[TrendRow]:
    """Per round and scope: grade counts, % good or better, and the change from the previous round that graded it
    (compared only when both have at least `min_audits` audits graded)."""
    rows: list[TrendRow] = []
    previous: dict[str, tuple[float, int]] = {}
    for r in rounds:
        for scope in scopes:
            counts = r.scope(scope)
            graded, share = good_share(counts, grades, good_or_better)
            before, before_n = previous.get(scope, (None, None))
            change = compare(share, graded, before, before_n, min_audits=min_audits, up_is_better=True)
            rows.append(TrendRow(r.round, scope, graded, tuple(counts.get(g, 0) for g in grades), share, change))
            if share is not None:
                previous[scope] = (share, graded)
    return rows
