"""The master collation workbook, written with xlsxwriter (packs.py writes the packs with its Actions tab).

Every auditor's text goes in as literal text. The tidy tabs (Audits, Answers, Findings, Actions,
Rejected, Dictionary, SAG action plan) are Excel Tables of the same names, for Power Query and Power BI; the Urgent
concerns tab, first, is the Table UrgentConcerns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path

from auditbook.analysis.actions import ACTION_STATUSES, Action, State
from auditbook.analysis.collate import Collation
from auditbook.analysis.evidence import Evidence
from auditbook.errors import CollectError
from auditbook.outputs.analysis_tabs import cohorts_tab, grades_tab, lists_tab, plan_tab, themes_tab, trends_tab
from auditbook.outputs.cases_tab import cases_tab
from auditbook.outputs.edits_tab import edits_tab
from auditbook.outputs.moderation_tab import moderation_tabs
from auditbook.outputs.pack_guide import STATUS_PROMPT
from auditbook.outputs.sheets import Sheets, output_workbook
from auditbook.outputs.sheetxml import THIS_ROW, Formula, cell_text
from auditbook.outputs.summary_tab import summary_tab
from auditbook.outputs.tidy import (
    ANSWER_COLUMNS,
    DATE,
    WRAP,
    AnswerRows,
    Column,
    Table,
    actions_table,
    audits_table,
    dictionary_table,
    findings_table,
    projected,
    rejected_table,
)
from auditbook.outputs.urgent_tab import urgent_tab
from auditbook.outputs.zipraw import Segment
from auditbook.spec.layout import col_letter
from auditbook.store.editlog import LoggedEdit
from auditbook.store.ledger import Piece
from auditbook.store.pieces import Pieces
from auditbook.text import plural


def overdue_formula(columns: Sequence[Column]) -> str:
    """The Overdue column's formula for a row {r} of an actions tab with these columns: past its timescale, not
    closed (the same rule as Action.overdue)."""
    col = {c.header: col_letter(i) for i, c in enumerate(columns)}
    closed = ",".join(f'{col["Status"]}{{r}}<>"{s}"' for s in ("Done", "Not needed"))
    return (f'=IF(AND({col["Timescale"]}{{r}}<>"",{closed},{col["Date closed"]}{{r}}="",'
            f'{col["Timescale"]}{{r}}<TODAY()),"Overdue","")')


def check_not_open(out: Path) -> None:
    """Refuse to replace a master someone has open (Excel and LibreOffice leave a lock file beside it)."""
    for lock, program in ((out.with_name("~$" + out.name), "Excel"),
                          (out.with_name(f".~lock.{out.name}#"), "LibreOffice")):
        if lock.exists():
            raise CollectError(f"{out.name} is open in {program} (its lock file {lock.name} is there). Close it and "
                               "run collect again.")


def actions_tab(s: Sheets, actions: Sequence[Action], states: Mapping[str, State], today: date,
                widths: Mapping[str, float] | None = None) -> None:
    """The Actions tab: the action register with Status offered from the list and Overdue worked out by Excel.

    With `widths`, only those columns, at those widths (a pack's fewer, narrower ones, to print on one page's width).
    """
    table = actions_table(actions, states, today)
    if widths is not None:
        table = projected(table, widths)
    headers = [c.header for c in table.columns]
    overdue = headers.index("Overdue")
    formula = overdue_formula(table.columns)
    # Written with the number of the row each is in: two formulas (overdue or not), not one a row.
    cells = {v: Formula(formula.format(r=THIS_ROW), v) for v in ("Overdue", "")}
    rows = [(*r[:overdue], cells[str(r[overdue] or "")], *r[overdue + 1:]) for r in table.rows]
    ws = s.tidy(table, rows=rows)
    n = max(len(rows), 1)
    status = headers.index("Status")
    ws.data_validation(1, status, n, status, {"validate": "list", "source": list(ACTION_STATUSES),
                                              "input_title": "Status", "input_message": STATUS_PROMPT})
    ws.conditional_format(1, overdue, n, overdue, {"type": "cell", "criteria": "==", "value": '"Overdue"',
                                                   "format": s.flag})
    conflict = headers.index("Conflicting edits")
    ws.conditional_format(1, conflict, n, conflict, {"type": "no_blanks", "format": s.flag})


def _returns_tab(s: Sheets, e: Evidence) -> None:
    cols = (Column("Case reference", 16, WRAP), Column("Team", 16, WRAP), Column("Auditor", 18, WRAP),
            Column("Team manager", 20, WRAP), Column("Round", 16, WRAP), Column("Due date", 11, DATE),
            Column("Status", 22, WRAP), Column("Detail", 60, WRAP),
            Column("File", 30, WRAP))
    rows = [(r.case_ref, r.team, r.auditor, r.team_manager, r.round, r.due, r.status, r.detail, r.file)
            for r in e.returns or ()]
    ws = s.tidy(Table("Returns", cols, list(rows)))
    if rows:
        for value in ("Outstanding (overdue)", "Returned but"):
            ws.conditional_format(1, 6, len(rows), 6, {"type": "text", "criteria": "begins with", "value": value,
                                                       "format": s.flag})


def answers_tab(s: Sheets, c: Collation, made: AnswerRows, pieces: Pieces | None, shared: Mapping[str, int]) -> None:
    """The Answers tab: a row per return and answer, made by `made` and KeptRows with the `shared` strings seeded for
    it (from `made.labels`).

    With `pieces`, a return's rows kept from the last master are put in as they were kept while they would start at
    the same row: returns whose rows were kept stay in the order they were, the others' rows are made after them (and
    kept for the next master). A return removed or replaced moves the rows after it: those are made again."""
    ws, maker, table = s.kept_rows("Answers", ANSWER_COLUMNS, (3, 3, 1, 1), shared, key_columns=2)
    whos = [made.who(m) for m in c.merged]
    keys = [None if pieces is None else pieces.key(m.file, *who, maker.signature)
            for m, who in zip(c.merged, whos, strict=True)]
    kept = [None if pieces is None or k is None else pieces.get(k) for k in keys]
    order = sorted(range(len(keys)), key=lambda i: (0, first, i) if (first := _first(kept[i])) else (1, 0, i))
    segments: list[Segment] = []
    row = 2  # under the header
    for i in order:
        key, piece = keys[i], kept[i]
        if pieces is not None and key is not None and piece is not None and _first(piece) == row:
            pieces.use(key)
            segment = Segment(*piece)
        else:
            items = made.items(c.merged[i])
            if items is None:  # its spec is not known: its answers cannot be labelled
                continue
            segment = maker.piece(whos[i], items, row)
            if pieces is not None and key is not None:
                pieces.put(key, segment)
        segments.append(segment)
        row += segment.rows
    s.fast.add_segments(ws, segments, len(ANSWER_COLUMNS) - 1, table)


def _first(piece: Piece | None) -> int:
    """The row a kept piece's rows start at (0 when there is none)."""
    return 0 if piece is None else Segment(*piece).first


def _print_headings(s: Sheets, e: Evidence) -> None:
    """The tabs of figures print their round and n at the top of every page (the tidy tabs print their rows)."""
    current = e.current.round if e.current else "(no round)"
    audits = plural(e.current.audits if e.current else 0, "audit")
    headings = {name: (f"{name}: {current}", f"n = {audits}") for name in ("Summary", "Grades", "Cohorts", "Themes")}
    headings["Trends"] = ("Trends across rounds", plural(len(e.rounds), "round"))
    for name, (title, n) in headings.items():
        ws = s.wb.get_worksheet_by_name(name)
        if ws is not None:
            s.print_heading(ws, title, n)


def write_master(e: Evidence, *, out: Path, classification: str = "OFFICIAL-SENSITIVE",
                 generated_at: datetime | None = None, edits: Sequence[LoggedEdit] = (),
                 pieces: Pieces | None = None) -> Path:
    """Write the master workbook to a temporary file, then move it into place: a crash leaves the old one.

    With `pieces`, each return's Answers rows kept from the last master are put in again, not made again (see
    answers_tab)."""
    check_not_open(out)
    c = e.collation
    themes = list(dict.fromkeys(t.label for spec in c.specs for t in spec.themes))
    try:
        with output_workbook(out, kind="master", title=f"{c.title}: master collation",
                             classification=classification) as s:
            # Before any tab adds a text: the Answers tab's questions keep their numbers from master to master.
            answers = AnswerRows(e.registry)
            shared = s.fast.seed(map(cell_text, answers.labels(c.merged)))
            # First, so the master opens on it: an urgent concern is never missed, whatever became of its return.
            urgent_tab(s, e.urgent, e.states)
            summary_tab(s, e, generated_at or datetime.now())
            s.tidy(audits_table(c))
            cases_tab(s, e)
            grades_tab(s, e)
            moderation_tabs(s, e)
            cohorts_tab(s, e)
            trends_tab(s, e)
            themes_tab(s, e)
            actions_tab(s, e.actions, e.states, e.today)
            plan_tab(s, e, themes)
            s.tidy(findings_table(c))
            answers_tab(s, c, answers, pieces, shared)
            if e.returns is not None:
                _returns_tab(s, e)
            s.tidy(rejected_table(c))
            s.tidy(dictionary_table(c.specs, e.registry))
            edits_tab(s, edits)
            lists_tab(s, themes)
            _print_headings(s, e)
    except PermissionError:
        raise CollectError(f"cannot replace {out}: it is open in another program or read-only. Close it and "
                           "run collect again.") from None
    return out
