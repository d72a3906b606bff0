"""Pure: how far moderators agreed with auditors' grades, per section and overall.

For each scope (the overall grade, then each section in the specs' order): the number of pairs (a grade the
auditor gave and the moderator judged), exact agreement, agreement within one grade, Cohen's weighted kappa with
quadratic weights and its 95% confidence interval, and which way the grades moved. The grade scale is the spec's
grade list in its order (best first), so "stricter" is a moderator's grade lower on it than the auditor's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

from auditbook.analysis.pairing import OVERALL, Pair
from auditbook.text import norm

#: The normal quantile of a two-sided 95% interval.
Z95 = 1.959963984540054


class Kappa(NamedTuple):
    """A weighted kappa, its large-sample standard error and its 95% confidence interval."""

    value: float
    se: float
    low: float
    high: float


def quadratic_weights(k: int) -> list[list[float]]:
    """Agreement weights 1 - (i - j)^2 / (k - 1)^2 (Fleiss and Cohen 1973): full credit on the diagonal, less the
    further apart the two grades are."""
    if k < 2:
        return [[1.0] * k for _ in range(k)]
    return [[1 - (i - j) ** 2 / (k - 1) ** 2 for j in range(k)] for i in range(k)]


def weighted_kappa(table: Sequence[Sequence[int]], weights: Sequence[Sequence[float]] | None = None) -> Kappa | None:
    """Cohen's weighted kappa of a k x k table of counts (rows: the first rater, columns: the second), with agreement
    weights (quadratic unless given), or None when it is not defined (no pairs, or every pair in one grade so that
    chance agreement is complete).

    kappa_w = (p_o - p_e) / (1 - p_e), p_o = sum w_ij p_ij and p_e = sum w_ij p_i. p_.j (Cohen 1968, Psychological
    Bulletin 70, 213-220). Its variance is the large-sample (non-null) variance of Fleiss, Cohen and Everitt (1969),
    "Large sample standard errors of kappa and weighted kappa", Psychological Bulletin 72, 323-327:

        var = [sum_ij p_ij (w_ij - (wbar_i. + wbar_.j)(1 - kappa_w))^2 - (kappa_w - p_e (1 - kappa_w))^2]
              / (n (1 - p_e)^2),   wbar_i. = sum_j p_.j w_ij,  wbar_.j = sum_i p_i. w_ij,

    as SAS PROC FREQ's AGREE option computes the ASE; the interval is kappa_w +- 1.96 se (with few pairs, a rough
    guide only: the approximation wants dozens of pairs).
    """
    k = len(table)
    n = sum(sum(row) for row in table)
    if n == 0 or k == 0:
        return None
    w = weights if weights is not None else quadratic_weights(k)
    p = [[table[i][j] / n for j in range(k)] for i in range(k)]
    rows = [sum(p[i]) for i in range(k)]
    cols = [sum(p[i][j] for i in range(k)) for j in range(k)]
    p_o = sum(w[i][j] * p[i][j] for i in range(k) for j in range(k))
    p_e = sum(w[i][j] * rows[i] * cols[j] for i in range(k) for j in range(k))
    if math.isclose(p_e, 1.0):
        return None
    kappa = (p_o - p_e) / (1 - p_e)
    wbar_row = [sum(cols[j] * w[i][j] for j in range(k)) for i in range(k)]
    wbar_col = [sum(rows[i] * w[i][j] for i in range(k)) for j in range(k)]
    spread = sum(p[i][j] * (w[i][j] - (wbar_row[i] + wbar_col[j]) * (1 - kappa)) ** 2
                 for i in range(k) for j in range(k))
    var = (spread - (kappa - p_e * (1 - kappa)) ** 2) / (n * (1 - p_e) ** 2)
    se = math.sqrt(max(var, 0.0))
    return Kappa(kappa, se, kappa - Z95 * se, kappa + Z95 * se)


class Agreement(NamedTuple):
    """One scope's agreement: pairs, exact, within one grade, kappa, and which way grades moved."""

    scope: str
    pairs: int
    exact: int
    within_one: int
    kappa: Kappa | None
    #: Moderator's grade below the auditor's on the scale (stricter), and above it (more lenient).
    stricter: int
    lenient: int
    #: Pairs whose grade is not on the scale (an older spec's): counted in `pairs` and exact agreement only.
    off_scale: int = 0

    @property
    def exact_share(self) -> float | None:
        """The share of pairs graded the same."""
        return self.exact / self.pairs if self.pairs else None

    @property
    def within_one_share(self) -> float | None:
        """The share of pairs no more than one grade apart."""
        return self.within_one / self.pairs if self.pairs else None

    def words(self) -> str:
        """The figures in plain words: "moderators agreed with 8 of 10 overall grades; 2 were graded lower ..."."""
        what = "overall grades" if self.scope == OVERALL else f"grades of {self.scope}"
        if not self.pairs:
            return f"no {what} were moderated"
        said = f"moderators agreed with {self.exact} of {self.pairs} {what}"
        moved = [f"{n} {'was' if n == 1 else 'were'} graded {how}" for n, how in (
            (self.stricter, "lower (moderator stricter)"), (self.lenient, "higher (moderator more lenient)")) if n]
        if moved:
            said += "; " + " and ".join(moved)
        if self.kappa is not None:
            said += (f"; weighted kappa {self.kappa.value:.2f} (95% CI {self.kappa.low:.2f} to "
                     f"{min(self.kappa.high, 1.0):.2f})")
        return said


def agreement(scope: str, grades: Sequence[tuple[str, str]], scale: Sequence[str]) -> Agreement:
    """The agreement of (auditor's, moderator's) grade pairs on a scale (best grade first)."""
    index = {norm(g): i for i, g in enumerate(scale)}
    k = len(scale)
    table = [[0] * k for _ in range(k)]
    exact = within = stricter = lenient = off = 0
    for theirs, ours in grades:
        exact += norm(theirs) == norm(ours)
        a, m = index.get(norm(theirs)), index.get(norm(ours))
        if a is None or m is None:
            off += 1
            continue
        table[a][m] += 1
        within += abs(a - m) <= 1
        stricter += m > a
        lenient += m < a
    return Agreement(scope, len(grades), exact, within, weighted_kappa(table) if k else None, stricter, lenient, off)


def agreements(pairs: Sequence[Pair], scale: Sequence[str], sections: Sequence[str]) -> list[Agreement]:
    """Overall first, then each section (by title, in `sections`' order, then any other): the pairs where both the
    auditor and the moderator gave a grade."""
    by_scope: dict[str, list[tuple[str, str]]] = {}
    for p in pairs:
        for j in p.judgements:
            if j.auditor and j.moderator:
                key = OVERALL if j.scope == OVERALL else j.title
                by_scope.setdefault(key, []).append((j.auditor, j.moderator))
    order = [OVERALL, *sections, *sorted(set(by_scope) - {OVERALL, *sections})]
    return [agreement(s, by_scope[s], scale) for s in order if s in by_scope]
