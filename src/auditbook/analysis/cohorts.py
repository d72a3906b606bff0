"""Pure: grades and "% Good or better" by group of children (legal status, age band, gender, ethnicity, team).

Each figure carries the number of audits behind it; a group with fewer than SMALL audits is marked as
small rather than hidden, so the Self-Assessment Group sees that it is there and reads it with care.
Groups the spec's own choice list names but no audit of the round falls in are listed as not audited.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from auditbook.returns.audit import Audit
from auditbook.spec.models import Spec
from auditbook.spec.roles import Role
from auditbook.text import norm

#: Fewer audits than this and a group's shares are marked "small cohort: read with care".
SMALL = 5
#: The age bands of the DfE children looked after statistics.
AGE_BANDS: tuple[tuple[str, int, int], ...] = (
    ("Under 1", 0, 0), ("1 to 4", 1, 4), ("5 to 9", 5, 9), ("10 to 15", 10, 15), ("16 and over", 16, 200))
NOT_RECORDED = "(not recorded)"


def age_band(age: object) -> str:
    """The band an age in years falls in ("" when no age was given)."""
    if not isinstance(age, int):
        return ""
    return next((band for band, low, high in AGE_BANDS if low <= age <= high), "")


@dataclass(frozen=True)
class Dimension:
    """A way of grouping children: its name, the role it reads, and how it reads it."""

    name: str
    role: Role

    def group(self, audit: Audit) -> str:
        """The group an audit's child falls in."""
        if self.role is Role.AGE:
            return age_band(audit.fact(Role.AGE)) or NOT_RECORDED
        return audit.text(self.role).strip() or NOT_RECORDED


DIMENSIONS = (Dimension("Legal status", Role.LEGAL_STATUS), Dimension("Age band", Role.AGE),
              Dimension("Gender", Role.GENDER), Dimension("Ethnicity", Role.ETHNICITY), Dimension("Team", Role.TEAM))


@dataclass(frozen=True)
class CohortRow:
    """One group: how many audits, their overall grades, and the share good or better."""

    dimension: str
    group: str
    audits: int
    grades: tuple[int, ...]
    good: int
    graded: int

    @property
    def share(self) -> float | None:
        """The share of graded audits that were good or better (None when none was graded)."""
        return self.good / self.graded if self.graded else None

    @property
    def small(self) -> bool:
        """Too few audits to read much into."""
        return self.audits < SMALL


def dimensions(specs: Sequence[Spec]) -> list[Dimension]:
    """The dimensions the specs give roles for (a spec without a gender role has no gender cohort)."""
    return [d for d in DIMENSIONS if any(s.roles.field(d.role) for s in specs)]


def cohorts(audits: Sequence[Audit], specs: Sequence[Spec], grades: Sequence[str],
            good_or_better: frozenset[str]) -> list[CohortRow]:
    """Every group of every dimension with at least one audit, largest first within a dimension."""
    rows: list[CohortRow] = []
    for dim in dimensions(specs):
        groups: dict[str, list[Audit]] = {}
        for a in audits:
            groups.setdefault(dim.group(a), []).append(a)
        for group, members in sorted(groups.items(), key=lambda kv: (kv[0] == NOT_RECORDED, -len(kv[1]), kv[0])):
            counts = Counter(a.text(Role.OVERALL_GRADE) for a in members)
            graded = sum(counts[g] for g in grades)
            rows.append(CohortRow(dim.name, group, len(members), tuple(counts[g] for g in grades),
                                  sum(counts[g] for g in grades if g in good_or_better), graded))
    return rows


def not_audited(audits: Sequence[Audit], specs: Sequence[Spec]) -> dict[str, list[str]]:
    """Per dimension, the groups the spec names (its choice list, or the age bands) that no audit fell in."""
    out: dict[str, list[str]] = {}
    for dim in dimensions(specs):
        if dim.role is Role.TEAM:
            continue  # teams are not a fixed list: the allocation says which teams were due
        if dim.role is Role.AGE:
            names = [band for band, _, _ in AGE_BANDS]
        else:
            names = list(dict.fromkeys(c for s in specs for c in _choices(s, dim.role)))
        seen = {norm(dim.group(a)) for a in audits}
        missing = [n for n in names if norm(n) not in seen]
        if missing:
            out[dim.name] = missing
    return out


def _choices(spec: Spec, role: Role) -> list[str]:
    ref = spec.roles.field(role)
    f = spec.field_at(ref) if ref is not None else None
    if f is None or f.choices is None:
        return []
    return [c for c in spec.lists.get(f.choices, []) if norm(c) not in ("not known", "prefer not to say")]
