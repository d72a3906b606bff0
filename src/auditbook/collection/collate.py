"""Pure: merge validated returns into the master's rows, recurring themes and actions."""

from __future__ import annotations

from collections import Counter, defaultdict
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


@dataclass(frozen=True)
class ThemeRow:
    """A ranked theme, question or section for the Self-Assessment Group."""

    scope: str
    section: str
    item: str
    kind: str
    count: int
    of: int

    @property
    def share(self) -> float:
        """The share of audits it applies to."""
        return self.count / self.of if self.of else 0.0


@dataclass
class Collation:
    """Everything the master workbook shows."""

    merged: list[Merged] = field(default_factory=list)
    not_merged: list[NotMerged] = field(default_factory=list)
    section_concerns: list[ThemeRow] = field(default_factory=list)
    theme_ranks: list[ThemeRow] = field(default_factory=list)
    question_noes: list[ThemeRow] = field(default_factory=list)
    threshold: float = 0.3
    #: What the merged audits were made from: the specs' titles, and their grade scale (in list order).
    title: str = "Audits"
    grades: tuple[str, ...] = ()
    good_or_better: frozenset[str] = frozenset()
    needs_action: frozenset[str] = frozenset()
    #: The specs the merged audits were made from (all known specs when none was merged).
    specs: tuple[Spec, ...] = ()

    def count(self, status: str) -> int:
        """How many files were not merged for this reason."""
        return sum(1 for n in self.not_merged if n.status == status)

    def recurring(self, row: ThemeRow) -> bool:
        """Whether a row is at or over the threshold share of audits."""
        return row.of > 0 and row.share >= self.threshold


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
    _themes(out, registry)
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


def _themes(out: Collation, registry: SpecRegistry) -> None:
    audits = [m.audit for m in out.merged]
    titles: dict[str, str] = {}
    applicable: Counter[str] = Counter()
    concerns: Counter[str] = Counter()
    for a in audits:
        for s in a.sections:
            titles.setdefault(s.id, s.title)
            if s.applies and s.grade:
                applicable[s.id] += 1
                concerns[s.id] += s.grade in out.needs_action
    graded = " or ".join(g for g in out.grades if g in out.needs_action) or "a grade that needs action"
    out.section_concerns = sorted(
        (ThemeRow("All", titles[sid], f"Graded {graded}", "concern", concerns[sid], n)
         for sid, n in applicable.items()), key=lambda r: (-r.share, r.section))
    out.theme_ranks = _rank_themes(out.merged, registry)
    out.question_noes = _rank_noes(audits, registry)


def _theme_kinds(registry: SpecRegistry) -> dict[str, str]:
    return {t.label: t.kind for spec in registry.by_sha.values() for t in spec.themes}


def _rank_themes(merged: list[Merged], registry: SpecRegistry) -> list[ThemeRow]:
    kinds = _theme_kinds(registry)
    scopes: dict[str, list[Audit]] = defaultdict(list)
    for m in merged:
        scopes["All"].append(m.audit)
        scopes[f"Team: {m.audit.text(Role.TEAM) or '(none)'}"].append(m.audit)
        scopes[f"Round: {m.round or '(none)'}"].append(m.audit)
    rows: list[ThemeRow] = []
    for scope, audits in scopes.items():
        tally: Counter[str] = Counter()
        for a in audits:
            tally.update({t for s in a.sections for t in s.themes})
        rows += [ThemeRow(scope, "", theme, kinds.get(theme, ""), n, len(audits)) for theme, n in tally.items()]
    def scope_order(scope: str) -> tuple[int, str]:
        return (0 if scope == "All" else 1 if scope.startswith("Team: ") else 2, scope)

    return sorted(rows, key=lambda r: (scope_order(r.scope), -r.count, r.item))


def _rank_noes(audits: list[Audit], registry: SpecRegistry) -> list[ThemeRow]:
    answered: Counter[tuple[str, str]] = Counter()
    noes: Counter[tuple[str, str]] = Counter()
    labels: dict[tuple[str, str], tuple[str, str]] = {}
    for a in audits:
        spec = registry.by_sha.get(a.provenance.spec_sha256)
        if spec is None:
            continue
        for s in a.sections:
            section = spec.section(s.id)
            for f in section.fields:
                if f.type != "question" or s.answers.get(f.id) is None:
                    continue
                key = (s.id, f.id)
                labels.setdefault(key, (section.title, f.label))
                answered[key] += 1
                noes[key] += s.answers[f.id] == "No"
    rows = [ThemeRow("All", labels[k][0], labels[k][1], "question", noes[k], n) for k, n in answered.items() if noes[k]]
    return sorted(rows, key=lambda r: (-r.count, -r.share, r.section, r.item))
