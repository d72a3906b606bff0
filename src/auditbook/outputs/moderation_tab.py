"""The master's Moderation tab (agreement between auditors and moderators this round, in figures and words) and its
Moderated grades table (every grade judged twice, the auditor's beside the moderator's): written when a moderation
was paired."""

from __future__ import annotations

from auditbook.analysis.evidence import Evidence
from auditbook.analysis.moderation import Agreement, agreements
from auditbook.analysis.pairing import OVERALL, Pair
from auditbook.outputs.sheets import Cell, Sheets
from auditbook.outputs.tidy import DATE, INT, PCT, TEXT, WRAP, Column, Table
from auditbook.returns.audit import Value
from auditbook.spec.roles import Role
from auditbook.text import norm

#: What the tab says of the round's figures: they count the moderator's grade where an audit was moderated.
FIGURES_NOTE = ("The round's figures (Summary, Grades, Cohorts, Trends, Themes) count the moderator's grade where an "
                "audit was moderated. The auditor's own grades stay as returned: in Moderated grades, beside the "
                "moderator's, and on the Answers tab.")
KAPPA_NOTE = ("Weighted kappa: Cohen's kappa with quadratic weights (grades a step apart count as partly agreeing), "
              "1 for full agreement, 0 for what chance alone would give; its 95% confidence interval uses the "
              "large-sample standard error of Fleiss, Cohen and Everitt (1969) and is only a rough guide with few "
              "pairs. Blank where it cannot be worked out (every pair given one grade).")
_COLUMNS = (Column("Grade", 30, WRAP), Column("Pairs", 8, INT), Column("Agreed exactly", 9, INT),
            Column("% agreed", 9, PCT), Column("Within one grade", 9, INT), Column("% within one grade", 9, PCT),
            Column("Weighted kappa", 9, TEXT), Column("95% CI from", 9, TEXT), Column("95% CI to", 9, TEXT),
            Column("Moderator stricter", 10, INT), Column("Moderator more lenient", 10, INT),
            Column("In words", 60, WRAP))
GRADES_COLUMNS = (
    Column("Case reference", 16, WRAP), Column("Round", 14, WRAP), Column("Team", 16, WRAP),
    Column("Auditor", 18, WRAP), Column("Moderator", 18, WRAP), Column("Moderated on", 11, DATE),
    Column("Grade", 30, WRAP), Column("Auditor's grade", 16, WRAP), Column("Moderator's grade", 16, WRAP),
    Column("Agreed", 8, WRAP), Column("Reason", 50, WRAP), Column("Moderation file", 30, WRAP),
    Column("Audit file", 30, WRAP))


def in_round(e: Evidence) -> list[Pair]:
    """The pairs of the round the master is about."""
    if e.current is None:
        return []
    return [p for p in e.collation.moderations if norm(p.round) == norm(e.current.round)]


def moderation_tabs(s: Sheets, e: Evidence) -> None:
    """The Moderation tab and the Moderated grades table, when any moderation was paired."""
    if not e.collation.moderations:
        return
    pairs = in_round(e)
    sections = [sec.title for spec in e.collation.specs for sec in spec.sections if sec.kind == "judged"]
    found = agreements(pairs, e.collation.grades, sections)
    widths = [c.width for c in _COLUMNS]
    ws = s.sheet("Moderation", widths)
    for i, col in enumerate(_COLUMNS):
        ws.set_column(i, i, col.width)
    where = e.current.round if e.current else "(no round)"
    ws.write_string(0, 0, f"Moderation in {where}: {len(pairs)} of {len(e.in_round)} audits moderated", s.title)
    s.explain(ws, 1, FIGURES_NOTE, widths)
    s.explain(ws, 2, KAPPA_NOTE, widths)
    nxt = s.block(ws, 4, _COLUMNS, [_row(a) for a in found])
    ws.freeze_panes(5, 1)
    ws.repeat_rows(4)
    if not found:
        s.explain(ws, nxt, "No moderation of this round's audits has come back yet.", widths)
    s.tidy(Table("Moderated", GRADES_COLUMNS, [row for p in e.collation.moderations for row in _grades(p)],
                 key_columns=1), sheet="Moderated grades")


def _row(a: Agreement) -> list[Cell]:
    k = a.kappa
    return [("Overall grade" if a.scope == OVERALL else a.scope), a.pairs, a.exact, a.exact_share, a.within_one,
            a.within_one_share, f"{k.value:.2f}" if k else "", f"{k.low:.2f}" if k else "",
            f"{min(k.high, 1.0):.2f}" if k else "", a.stricter, a.lenient, a.words()]


def _grades(p: Pair) -> list[tuple[Value, ...]]:
    audit = p.audit
    return [(audit.case_ref, p.round, audit.text(Role.TEAM), audit.text(Role.AUDITOR), p.moderator, p.moderated_on,
             "Overall grade" if j.scope == OVERALL else j.title, j.auditor or "", j.moderator or "",
             "" if j.agreed is None else "Yes" if j.agreed else "No", j.reason or "", p.file, p.audit_file)
            for j in p.judgements]
