"""Pure: grades and "% Good or better" by group of children (legal status, age band, gender, ethnicity, team).

Each figure carries the number of audits behind it. As official statistics do, a group with fewer than the
small-group size (SMALL unless the settings say otherwise) is shown as "fewer than 5": no count, no grades, no
share, so that beside the team and case lists no child can be recognised. Where that leaves one group of a
dimension suppressed, the next smallest is suppressed too (secondary suppression), since the round's total
less the groups shown would give it away. Groups the spec's own choice list names but no audit of the round
falls in are listed as not audited.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

from auditbook.returns.audit import Audit
from auditbook.spec.models import Spec
from auditbook.spec.roles import Role
from auditbook.text import norm

#: Fewer audits than this and a group's figures are suppressed (the default of the setting themes.small_group).
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


class Dimension(NamedTuple):
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


class CohortRow(NamedTuple):
    """One group: how many audits, their overall grades, and the share good or better."""

    dimension: str
    group: str
    audits: int
    grades: tuple[int, ...]
    good: int
    graded: int
    #: "" (shown), "small" (fewer audits than the small-group size) or "secondary" (so the total gives none away).
    suppressed: str = ""

    @property
    def share(self) -> float | None:
        """The share of graded audits that were good or better (None when none was graded)."""
        return self.good / self.graded if self.graded else None

    @property
    def small(self) -> bool:
        """Its figures are not shown (too few audits, or to keep another group's from being worked out)."""
        return bool(self.suppressed)


def suppress(sizes: Sequence[int], small: int) -> list[str]:
    """For groups of these sizes (one breakdown whose total is known): "small" for each under `small`, "secondary"
    for the next smallest when exactly one is, since the total less the others would give it away; "" for the rest."""
    out = ["small" if n < small else "" for n in sizes]
    if out.count("small") == 1 and len(out) > 1:
        shown = [i for i, flag in enumerate(out) if not flag]
        out[min(shown, key=lambda i: (sizes[i], i))] = "secondary"
    return out


def dimensions(specs: Sequence[Spec]) -> list[Dimension]:
    """The dimensions the specs give roles for (a spec without a gender role has no gender cohort)."""
    return [d for d in DIMENSIONS if any(s.roles.field(d.role) for s in specs)]


def cohorts(audits: Sequence[Audit], specs: Sequence[Spec], grades: Sequence[str],
            good_or_better: frozenset[str], *, small: int = SMALL) -> list[CohortRow]:
    """Every group of every dimension with at least one audit, largest first within a dimension; groups under
    `small` audits (and, where needed, one more) are marked suppressed (see `suppress`)."""
    rows: list[CohortRow] = []
    for dim in dimensions(specs):
        groups: dict[str, list[Audit]] = {}
        for a in audits:
            groups.setdefault(dim.group(a), []).append(a)
        ranked = sorted(groups.items(), key=lambda kv: (kv[0] == NOT_RECORDED, -len(kv[1]), kv[0]))
        flags = suppress([len(members) for _, members in ranked], small)
        for (group, members), flag in zip(ranked, flags, strict=True):
            counts = Counter(a.text(Role.OVERALL_GRADE) for a in members)
            graded = sum(counts[g] for g in grades)
            rows.append(CohortRow(dim.name, group, len(members), tuple(counts[g] for g in grades),
                                  sum(counts[g] for g in grades if g in good_or_better), graded, flag))
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


def suppression_note(small: int) -> str:
    """Why some groups show no figures (the master's Cohorts and Themes tabs and the round report say it)."""
    return (f"A team or group of children with fewer than {small} audits shows \"fewer than {small}\" and no figures, "
            "as official statistics do, so that no child can be recognised; where that would let a total give it "
            "away, the next smallest group is suppressed too.")


def suppressed(rows: Sequence[CohortRow], small: int) -> list[str]:
    """What was suppressed, a line per dimension: "Ethnicity: 3 groups with fewer than 5 audits, 1 more group"."""
    out: dict[str, list[int]] = {}
    for r in rows:
        counts = out.setdefault(r.dimension, [0, 0])
        counts[0] += r.suppressed == "small"
        counts[1] += r.suppressed == "secondary"
    return [f"{dim}: {n} {'group' if n == 1 else 'groups'} with fewer than {small} audits"
            + (f", and {more} more so that the total gives none away" if more else "")
            for dim, (n, more) in out.items() if n]
