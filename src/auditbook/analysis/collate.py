"""Pure: merge validated returns into the master's rows (themes.py, cohorts.py and trends.py work out the rest)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from auditbook.analysis.pairing import Pair, ToPair, moderated, pair
from auditbook.dates import uk
from auditbook.local import RoundCalendar
from auditbook.problems import Code, Problem
from auditbook.returns.audit import Audit, round_of
from auditbook.returns.provenance import SpecRegistry
from auditbook.returns.report import Report
from auditbook.spec.models import Spec
from auditbook.spec.roles import Role
from auditbook.text import norm, plural, word


class Source(NamedTuple):
    """One file of the returns folder (or remembered by the ledger) and what validating it gave."""

    path: str
    report: Report
    sha256: str
    present: bool = True


@dataclass(frozen=True)
class Merged:
    """An audit that goes into the master."""

    audit: Audit
    file: str
    warnings: tuple[Problem, ...]
    source_missing: bool = False
    #: The audit round, worked out once by `merge` (see `round_of`) and spelt one way for every audit in it.
    round: str = ""
    #: The audit as returned, when a moderation changed its grades (`audit` then has the moderator's grades).
    original: Audit | None = None

    def __post_init__(self) -> None:
        if not self.round:
            object.__setattr__(self, "round", round_of(self.audit))


class NotMerged(NamedTuple):
    """A file that is not in the master, and why."""

    file: str
    status: str  # "rejected", "superseded", "duplicate", "skipped", "other round"
    reason: str
    problems: tuple[Problem, ...] = ()
    #: The case and round a rejected return was for, when they could be read.
    case_ref: str | None = None
    round: str = ""
    audit_month: str = ""
    #: Whether the file is a moderation (rejected, not paired with its audit, or superseded by a later one).
    moderation: bool = False


@dataclass
class Collation:
    """Everything the master workbook shows."""

    merged: list[Merged] = field(default_factory=list)
    not_merged: list[NotMerged] = field(default_factory=list)
    #: The share of audits at or above which a theme counts as high (themes.py says when it recurs).
    threshold: float = 0.3
    #: The fewest audits a theme recurs in, and the fewest behind each of two shares compared.
    min_audits: int = 3
    #: A team or group of children with fewer audits than this has its figures suppressed.
    small_group: int = 5
    #: What the merged audits were made from: the specs' titles, and their grade scale (in list order).
    title: str = "Audits"
    grades: tuple[str, ...] = ()
    good_or_better: frozenset[str] = frozenset()
    needs_action: frozenset[str] = frozenset()
    #: The answers to a practice question that say the practice fell short (the specs' grading.shortfall).
    shortfall: tuple[str, ...] = ()
    #: The specs the merged audits were made from (all known specs when none was merged).
    specs: tuple[Spec, ...] = ()
    #: The round of every valid return read, whether merged or not (for "rounds seen" when --round matches none).
    rounds_seen: list[str] = field(default_factory=list)
    #: Each moderation paired with its audit (analysis/pairing.py); the audit's grades as merged are the moderator's.
    moderations: list[Pair] = field(default_factory=list)

    def count(self, status: str) -> int:
        """How many files were not merged for this reason."""
        return sum(1 for n in self.not_merged if n.status == status)

    def answered_short(self) -> str:
        """How a heading says "answered as falling short", in the specs' words: "answered No or Partly"."""
        return "answered " + " or ".join(self.shortfall) if self.shortfall else "answered as falling short"


def _sort_key(m: Merged, today: date | None = None) -> tuple[bool, date, str, str]:
    """Which return of a case counts: the last in this order. A return completed after `today` (a typing slip, or a
    copy dated ahead to win) comes before every other, so it never supersedes one completed already."""
    completed = m.audit.completed
    return (not _ahead(m, today), completed or date.min, m.audit.provenance.generated_at or "", m.file)


def _ahead(m: Merged, today: date | None) -> bool:
    """Whether an audit says it was completed after `today`."""
    completed = m.audit.completed
    return today is not None and completed is not None and completed > today


def _superseded(older: Merged, keep: Merged, today: date | None) -> NotMerged:
    """A return of a case set aside for the one kept, and why."""
    if not _ahead(older, today) or older.audit.completed is None:
        return NotMerged(older.file, "superseded", f"a later return for case {keep.audit.case_ref} in round "
                         f"{keep.round} is {keep.file}")
    return NotMerged(older.file, "superseded", f"completed {uk(older.audit.completed)}, a date still to come, so it "
                     f"supersedes no return: {keep.file} is kept for case {keep.audit.case_ref} in round {keep.round}",
                     tuple(w for w in older.warnings if w.code is Code.COMPLETED_IN_FUTURE))


def _in_future(m: Merged, today: date | None, registry: SpecRegistry) -> Merged:
    """The audit with a warning, on the cell of its completed date, when it says it was completed after `today`
    (validate's own, when it has one)."""
    if not _ahead(m, today) or any(w.code is Code.COMPLETED_IN_FUTURE for w in m.warnings):
        return m
    assert today is not None and m.audit.completed is not None
    spec = registry.by_sha.get(m.audit.provenance.spec_sha256)
    inp = registry.layout(spec).role_input(Role.COMPLETED) if spec is not None else None
    warning = Problem.of(Code.COMPLETED_IN_FUTURE, case="collect", sheet=inp.sheet if inp else None,
                         cell=inp.cell if inp else None, completed=uk(m.audit.completed), today=uk(today))
    return Merged(m.audit, m.file, (*m.warnings, warning), m.source_missing, m.round)


def calendar_warning(audit: Audit, rounds: RoundCalendar | None) -> Problem | None:
    """A warning when the round an audit names is not the one the round calendar gives its audit month."""
    named, month = audit.text(Role.ROUND).strip(), audit.text(Role.AUDIT_MONTH)
    derived = rounds.contradicts(named, month) if rounds is not None else None
    if derived is None:
        return None
    return Problem.of(Code.ROUND_NOT_IN_CALENDAR, named=named, month=month, derived=derived)


def spellings(names: Iterable[str]) -> dict[str, str]:
    """One way to write each round, by its norm(): the spelling most audits use (the first in order on a tie)."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for name in names:
        counts[norm(name)][name] += 1
    return {key: sorted(seen.items(), key=lambda kv: (-kv[1], kv[0]))[0][0] for key, seen in counts.items()}


def merge(sources: Iterable[Source], registry: SpecRegistry, *, threshold: float = 0.3,
          round_name: str | None = None, rounds: RoundCalendar | None = None, today: date | None = None,
          min_audits: int = 3, small_group: int = 5) -> Collation:
    """Choose what goes into the master: valid returns, once each, the latest for each case and round.

    Each audit's round is worked out here once (`round_of`, with the round calendar `rounds`) and spelt as most
    of its audits spell it, so "2026 Round 3" and "2026 round 3" are one round everywhere downstream. With
    `round_name`, returns of other rounds are listed as such rather than merged. Case references compare as
    `norm` reads them (look-alike characters are one case). With `today`, a return completed after it is warned of
    and supersedes no return completed already.
    """
    out = Collation(threshold=threshold, min_audits=min_audits, small_group=small_group)
    valid: list[tuple[Source, str]] = []
    by_sha: dict[str, str] = {}
    # Of exact copies the shortest path is kept: "X.xlsx" rather than "X - Copy.xlsx".
    for src in sorted(sources, key=lambda s: (len(s.path), s.path)):
        r = src.report
        if r.skipped is not None:
            out.not_merged.append(NotMerged(src.path, "skipped", r.skipped))
        elif not r.valid or r.audit is None:
            reason = plural(len(r.errors), "error") if r.errors else "could not be read"
            case, rnd, month = (None, "", "") if r.audit is None else (
                r.audit.case_ref or None, round_of(r.audit, rounds), r.audit.text(Role.AUDIT_MONTH))
            out.not_merged.append(NotMerged(src.path, "rejected", reason, tuple(r.errors), case, rnd, month,
                                            moderation=r.audit is not None and r.audit.is_moderation))
        elif src.sha256 in by_sha:
            out.not_merged.append(NotMerged(src.path, "duplicate", f"an exact copy of {by_sha[src.sha256]}"))
        else:
            by_sha[src.sha256] = src.path
            valid.append((src, round_of(r.audit, rounds)))
    spelt = spellings(name for _, name in valid)
    out.rounds_seen = list(dict.fromkeys(spelt[norm(name)] for _, name in valid))
    candidates: list[Merged] = []
    for src, name in valid:
        audit = src.report.audit
        assert audit is not None
        warning = calendar_warning(audit, rounds)
        m = _in_future(Merged(audit, src.path, (*src.report.warnings, *([warning] if warning else [])),
                              source_missing=not src.present, round=spelt[norm(name)]), today, registry)
        if round_name is not None and norm(m.round) != norm(round_name):
            out.not_merged.append(NotMerged(src.path, "other round", f"round {m.round}, not {round_name}"))
        else:
            candidates.append(m)
    # A moderation is never a later return of its case: it is paired with its audit, and both are kept.
    moderations = [m for m in candidates if m.audit.is_moderation]
    candidates = [m for m in candidates if not m.audit.is_moderation]
    groups: dict[tuple[str, str], list[Merged]] = defaultdict(list)
    for m in candidates:
        groups[(norm(m.audit.case_ref), norm(m.round))].append(m)
    for group in groups.values():
        group.sort(key=lambda m: _sort_key(m, today))
        keep = group[-1]
        out.merged.append(keep)
        out.not_merged += [_superseded(older, keep, today) for older in group[:-1]]
    out.merged = _flag_reused_templates(sorted(out.merged, key=lambda m: (m.round, m.audit.case_ref, m.file)))
    _pair(out, moderations, registry)
    _scale(out, registry)
    return out


def _pair(out: Collation, moderations: list[Merged], registry: SpecRegistry) -> None:
    """Pair each moderation with its merged audit; the audit then counts the moderator's grades, its own kept."""
    found, unpaired = pair([ToPair(m.file, m.audit, m.round, not m.source_missing, m.warnings) for m in moderations],
                           [(m.file, m.audit, m.round) for m in out.merged], registry)
    out.moderations = found
    out.not_merged += [NotMerged(u.file, u.status, u.reason, u.problems, u.case_ref or None, u.round, moderation=True)
                       for u in unpaired]
    by_file = {p.audit_file: p for p in found}
    out.merged = [Merged(moderated(m.audit, p), m.file, m.warnings, m.source_missing, m.round, original=m.audit)
                  if (p := by_file.get(m.file)) is not None else m for m in out.merged]


def _scale(out: Collation, registry: SpecRegistry) -> None:
    """The title and grade scale of the specs the merged audits were made from (all known specs when none)."""
    shas = {m.audit.provenance.spec_sha256 for m in out.merged}
    specs = [s for sha, s in registry.by_sha.items() if sha in shas] or list(registry.by_sha.values())
    out.specs = tuple(specs)
    out.title = " / ".join(dict.fromkeys(s.title for s in specs)) or "Audits"
    out.grades = tuple(dict.fromkeys(g for s in specs for g in s.lists.get(s.grade_list, [])))
    out.good_or_better = frozenset(g for s in specs for g in s.grading.good_or_better)
    out.needs_action = frozenset(g for s in specs for g in s.grading.needs_action)
    out.shortfall = tuple(dict.fromkeys(w for s in specs for w in s.grading.shortfall))


def _flag_reused_templates(merged: list[Merged]) -> list[Merged]:
    cases: dict[str, set[str]] = defaultdict(set)
    for m in merged:
        cases[m.audit.provenance.instance_id].add(m.audit.case_ref)
    result = []
    for m in merged:
        others = sorted(cases[m.audit.provenance.instance_id] - {m.audit.case_ref})
        if others:
            warning = Problem.of(Code.TEMPLATE_REUSED, cases=f"{word(len(others), 'case')} {', '.join(others)}")
            m = Merged(m.audit, m.file, (*m.warnings, warning), m.source_missing, m.round)
        result.append(m)
    return result
