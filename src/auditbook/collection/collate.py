"""Pure: merge validated returns into the master's rows (themes.py, cohorts.py and trends.py work out the rest)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from auditbook.problems import Code, Problem
from auditbook.returns.audit import Audit
from auditbook.returns.provenance import SpecRegistry
from auditbook.returns.report import Report
from auditbook.spec.models import Spec
from auditbook.spec.roles import Role
from auditbook.text import norm


@dataclass(frozen=True)
class Source:
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

    @property
    def round(self) -> str:
        """The audit round: the round named, else the audit month."""
        return self.audit.round


@dataclass(frozen=True)
class NotMerged:
    """A file that is not in the master, and why."""

    file: str
    status: str  # "rejected", "superseded", "duplicate", "skipped", "other round"
    reason: str
    problems: tuple[Problem, ...] = ()
    #: The case and round a rejected return was for, when they could be read.
    case_ref: str | None = None
    round: str = ""
    audit_month: str = ""


@dataclass
class Collation:
    """Everything the master workbook shows."""

    merged: list[Merged] = field(default_factory=list)
    not_merged: list[NotMerged] = field(default_factory=list)
    #: The share of audits at or above which a concern counts as high (themes.py says when it recurs).
    threshold: float = 0.3
    #: What the merged audits were made from: the specs' titles, and their grade scale (in list order).
    title: str = "Audits"
    grades: tuple[str, ...] = ()
    good_or_better: frozenset[str] = frozenset()
    needs_action: frozenset[str] = frozenset()
    #: The answers to a practice question that say the practice fell short (the specs' grading.shortfall).
    shortfall: tuple[str, ...] = ()
    #: The specs the merged audits were made from (all known specs when none was merged).
    specs: tuple[Spec, ...] = ()

    def count(self, status: str) -> int:
        """How many files were not merged for this reason."""
        return sum(1 for n in self.not_merged if n.status == status)

    def answered_short(self) -> str:
        """How a heading says "answered as falling short", in the specs' words: "answered No or Partly"."""
        return "answered " + " or ".join(self.shortfall) if self.shortfall else "answered as falling short"


def _sort_key(m: Merged) -> tuple[date, str, str]:
    completed = m.audit.completed
    return (completed or date.min, m.audit.provenance.generated_at or "", m.file)


def merge(sources: Iterable[Source], registry: SpecRegistry, *, threshold: float = 0.3,
          round_name: str | None = None) -> Collation:
    """Choose what goes into the master: valid returns, once each, the latest for each case and round.

    With `round_name`, returns of other rounds are listed as such rather than merged.
    """
    out = Collation(threshold=threshold)
    candidates: list[Merged] = []
    by_sha: dict[str, str] = {}
    # Of exact copies the shortest path is kept: "X.xlsx" rather than "X - Copy.xlsx".
    for src in sorted(sources, key=lambda s: (len(s.path), s.path)):
        r = src.report
        if r.skipped is not None:
            out.not_merged.append(NotMerged(src.path, "skipped", r.skipped))
        elif not r.valid or r.audit is None:
            reason = f"{len(r.errors)} error(s)" if r.errors else "could not be read"
            case, rnd, month = (None, "", "") if r.audit is None else (
                r.audit.case_ref or None, r.audit.round, r.audit.text(Role.AUDIT_MONTH))
            out.not_merged.append(NotMerged(src.path, "rejected", reason, tuple(r.errors), case, rnd, month))
        elif src.sha256 in by_sha:
            out.not_merged.append(NotMerged(src.path, "duplicate", f"an exact copy of {by_sha[src.sha256]}"))
        else:
            by_sha[src.sha256] = src.path
            m = Merged(r.audit, src.path, tuple(r.warnings), source_missing=not src.present)
            if round_name is not None and norm(m.round) != norm(round_name):
                out.not_merged.append(NotMerged(src.path, "other round", f"round {m.round}, not {round_name}"))
            else:
                candidates.append(m)
    groups: dict[tuple[str, str], list[Merged]] = defaultdict(list)
    for m in candidates:
        groups[(norm(m.audit.case_ref), norm(m.round))].append(m)
    for group in groups.values():
        group.sort(key=_sort_key)
        keep = group[-1]
        out.merged.append(keep)
        for older in group[:-1]:
            out.not_merged.append(NotMerged(older.file, "superseded",
                                            f"a later return for case {keep.audit.case_ref} in round {keep.round} "
                                            f"is {keep.file}"))
    out.merged = _flag_reused_templates(sorted(out.merged, key=lambda m: (m.round, m.audit.case_ref, m.file)))
    _scale(out, registry)
    return out


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
            warning = Problem("warning", Code.TEMPLATE_REUSED,
                              f"this return was made from the same blank workbook as case(s) {', '.join(others)}; "
                              "merged as a separate audit. Generate one workbook per case next time.")
            m = Merged(m.audit, m.file, (*m.warnings, warning), m.source_missing)
        result.append(m)
    return result
