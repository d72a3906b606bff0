"""The Urgent concerns tab, the first of the master and of a team manager's pack: every urgent concern recorded in
the folder, whatever became of its return, with a Status and Notes to fill in (read back like an action's)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from auditbook.analysis.actions import State
from auditbook.analysis.urgent import URGENT_STATUSES, Urgent
from auditbook.outputs.sheets import Sheets
from auditbook.outputs.tidy import DATE, WRAP, Column, Table, Value, projected
from auditbook.store.readback import URGENT_ID
from auditbook.store.register import URGENT_TAB

URGENT_COLUMNS = (
    Column(URGENT_ID, 22, WRAP), Column("Case reference", 14, WRAP), Column("Round", 12, WRAP),
    Column("Team", 14, WRAP), Column("Team manager", 16, WRAP), Column("Raised", 11, DATE),
    Column("Raised with", 16, WRAP), Column("Name", 16, WRAP), Column("What the concern was", 40, WRAP),
    Column("What was agreed", 40, WRAP), Column("Return", 28, WRAP), Column("Status", 10, WRAP),
    Column("Notes", 30, WRAP), Column("Date closed", 11, DATE), Column("Conflicting edits", 30, WRAP),
    Column("Source file", 24, WRAP))
STATUS_PROMPT = "Closed once you have checked the concern was acted on. Blank or Open until then."


def urgent_table(urgent: Sequence[Urgent], states: Mapping[str, State]) -> Table:
    """Every urgent concern with what is kept of its status (blank is open: the date raised is never a deadline)."""
    rows: list[tuple[Value, ...]] = []
    for u in urgent:
        c, st = u.concern, states.get(u.id, State())
        rows.append((u.id, c.case_ref, u.round, c.team, c.team_manager, c.raised, c.with_whom, c.with_name, c.what,
                     c.agreed, u.return_words(), st.status, st.notes, st.closed, st.conflict, u.file))
    return Table("UrgentConcerns", URGENT_COLUMNS, rows, key_columns=2)


def urgent_tab(s: Sheets, urgent: Sequence[Urgent], states: Mapping[str, State],
               widths: Mapping[str, float] | None = None) -> None:
    """The tab: a Table named UrgentConcerns, Status offered as Open or Closed, conflicting edits flagged.

    With `widths`, only those columns, at those widths (a pack's, to print on one page's width)."""
    table = urgent_table(urgent, states)
    if widths is not None:
        table = projected(table, widths)
    ws = s.tidy(table, sheet=URGENT_TAB)
    n = max(len(table.rows), 1)
    headers = [c.header for c in table.columns]
    status = headers.index("Status")
    ws.data_validation(1, status, n, status, {"validate": "list", "source": list(URGENT_STATUSES),
                                              "input_title": "Status", "input_message": STATUS_PROMPT})
    if "Conflicting edits" in headers:
        conflict = headers.index("Conflicting edits")
        ws.conditional_format(1, conflict, n, conflict, {"type": "no_blanks", "format": s.flag})
