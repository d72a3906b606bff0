"""The Summary sheet: what a team manager reads first. The case's details and the overall judgement, then the
actions (in the Actions sheet's column order), each section in one line (whether it applies, its status, grade and
themes), and last only the checks that fail, each saying what is wrong and where, with one line for the rest.

Every value here is a formula echoing the sheets behind it, and neither Excel nor LibreOffice refits a row when a
formula's result changes: so each row is as tall as the longest value it can show (the spec bounds them: titles,
grades, theme labels, rule messages), and free text is cut to what fits with a pointer to where it is whole. For
the same reason the lists cannot shrink: the actions and the failing checks are listed first (INDEX and SMALL over
cells on the Lists sheet, shortlists.py), and their rows left over print blank.

Its tables are laid on one grid of columns (summary_grid.py).
"""

from __future__ import annotations

from datetime import date

from xlsxwriter.format import Format

from auditbook.dates import serial
from auditbook.spec.conditions import fields_in
from auditbook.spec.evaluate import CellValue, counted, status_text_table, waiting_status
from auditbook.spec.layout import Input, SectionLayout, sheet_ref
from auditbook.spec.models import FieldSpec, choice_list_of
from auditbook.spec.roles import Role
from auditbook.workbook.checks import Check
from auditbook.workbook.context import TITLE_POINTS, Context, as_text
from auditbook.workbook.fit import snug, snug_for
from auditbook.workbook.formulas import applies_expression
from auditbook.workbook.kleene import string_literal
from auditbook.workbook.shortlists import (
    CHECK,
    CHECK_FAILING,
    CHECK_MESSAGE,
    CHECK_RESULT,
    CHECK_WHERE,
    FIX,
    USED_ACTION_ROWS,
    result_text,
    shortlists_of,
)
from auditbook.workbook.summary_grid import (
    ACTION_GRID,
    APPLIES,
    GRADE,
    LABEL,
    LAST_COL,
    LINES,
    MESSAGE,
    NUMBER,
    RESULT,
    SECTION,
    STATUS,
    THEMES,
    VALUE,
    WHERE,
    WIDTHS,
    Span,
    fits,
    width,
)
from auditbook.workbook.xlsx import FastWorksheet, ok

#: The height of the empty row between two parts of the Summary.
GAP_POINTS = 6.0
#: The case's details, two to a row from DETAILS_ROW.
DETAILS_ROW = 2
DETAILS: tuple[Role, ...] = (Role.CASE_REF, Role.TEAM, Role.WORKER, Role.TEAM_MANAGER, Role.AUDITOR, Role.COMPLETED)
#: Where a detail's label and value go: (label span, value span) for the left and right of a row.
_DETAIL_SPANS = (((0, 1), (2, 3)), ((4, 5), (6, 8)))
#: A section's status when it is optional for this audit and not started (spec/evaluate.py's status).
OPTIONAL, NOT_STARTED = "Optional", "Not started"
#: The longest line shown for an echoed judgement value (the urgent concern's "with whom" and the like).
ECHO_LIMIT = 160
#: What the count line says when every check passes.
NOTHING_TO_FIX = "Checks: nothing to fix or check"
#: How many actions the Summary lists (then a line says how many more there are on the Actions sheet): most audits
#: have a few, and each row held back for one costs paper, blank or not.
ACTION_ROWS = 8
#: How many failing checks the Summary lists (then a line says how many more fail): a return with more has
#: contradictions to sort out before anyone reads its Summary, and every row held back costs paper.
CHECK_ROWS = 8
#: Where an action's text cut short is whole, and where any other value cut short is.
MORE = " (in full on the Actions sheet)"
MORE_SHORT = " (see Actions)"
MANAGER = " (team manager)"


def write(ctx: Context, ws: FastWorksheet) -> None:
    """The Summary: details, the overall judgement, the actions, the sections, then the checks that fail."""
    ws.set_widths(WIDTHS)
    ws.merge_range(0, 0, 0, LAST_COL, f"Summary: {ctx.spec.title}", ctx.fmt.title)
    ws.set_row(0, TITLE_POINTS)
    ws.merge_range(1, 0, 1, LAST_COL, ctx.spec.classification, ctx.fmt.classification)
    row = _gap(ws, _details(ctx, ws))
    # The overall judgement first: what a manager looks for before anything else.
    for inp in _judgement(ctx):
        _judgement_line(ctx, ws, row, inp)
        row += 1
    if ctx.checks:
        _checks_count(ctx, ws, row)
        row += 1
    actions = ctx.layout.actions
    if actions is not None:
        row = _actions_table(ctx, ws, _gap(ws, row), actions) + 1
    row = _sections_table(ctx, ws, _gap(ws, row)) + 1
    if shortlists_of(ctx.layout, ctx.checks).listed:
        _checks_list(ctx, ws, _gap(ws, row))


def _gap(ws: FastWorksheet, row: int) -> int:
    """A thin empty row between two parts of the Summary. Returns the row after it."""
    ws.set_row(row, GAP_POINTS)
    return row + 1


# -- the grid and its cells -----------------------------------------------------------------------


def clipped(name: str, limit: int, more: str = "") -> str:
    """A formula (no "=") echoing a text input, cut to `limit` characters with an ellipsis and `more` after."""
    cut = f'LEFT({name},{limit - 1 - len(more)})&{string_literal("…" + more)}'
    return f'IF(LEN({name})>{limit},{cut},IF({name}="","",{name}))'


def clip(text: str, limit: int, more: str = "") -> str:
    """What clipped() shows for this text."""
    return text if len(text) <= limit else text[: limit - 1 - len(more)] + "…" + more


def allot(wanted: list[float], grid: Span) -> list[Span]:
    """Spans of the grid columns `grid` for columns wanting these widths, in order, each at least one grid column:
    each boundary falls at the grid boundary nearest its share of the whole."""
    first, last = grid
    edges = [sum(WIDTHS[first : c + 1]) for c in range(first, last + 1)]  # the right edge of each grid column
    total, whole, spans, start = sum(wanted), edges[-1], [], first
    for i in range(len(wanted)):
        left = len(wanted) - i - 1  # columns still to place after this one, each needing a grid column
        if left == 0:
            spans.append((start, last))
            break
        target = sum(wanted[: i + 1]) / total * whole
        end = min(range(start, last - left + 1), key=lambda c: abs(edges[c - first] - target))
        spans.append((start, end))
        start = end + 1
    return spans


def _spans(ws: FastWorksheet, row: int, cells: list[tuple[Span, str]], fmt: Format) -> None:
    """Fixed text in spans of columns, merged where a span covers more than one column."""
    for (first, last), text in cells:
        if first == last:
            ws.write_string(row, first, text, fmt)
        else:
            ws.merge_range(row, first, row, last, text, fmt)


def _span_formula(ctx: Context, ws: FastWorksheet, row: int, span: Span, formula: str, value: CellValue,
                  fmt: Format) -> None:
    """A formula in a span of columns (merged where the span covers more than one column)."""
    if span[0] != span[1]:
        ws.merge_range(row, span[0], row, span[1], "", fmt)
    ctx.formula(ws, row, span[0], formula, fmt, value)


def _first_value(raw: object) -> CellValue:
    """A starting value as a formula echoing it first shows it (a date as a serial number, for its format)."""
    if isinstance(raw, date):
        return serial(raw)
    return "" if raw is None else as_text(raw) if isinstance(raw, str | int) else str(raw)


def _echo(ctx: Context, ws: FastWorksheet, row: int, col: int, inp: Input, fmt: Format, *,
          gate: str | None = None) -> None:
    """A formula showing an input's value (blank while it is empty, or while `gate` is FALSE)."""
    raw = ctx.prefill.get(inp.name) if gate is None or ctx.ev.input_applies(inp) else None
    echo = f'IF({inp.name}="","",{inp.name})'
    ctx.formula(ws, row, col, f'=IF({gate},{echo},"")' if gate else f"={echo}", fmt, _first_value(raw))


def _clipped(ctx: Context, ws: FastWorksheet, row: int, span: Span, inp: Input, limit: int, more: str = "",
             fmt: Format | None = None) -> None:
    """A text input echoed in a span, cut to `limit` characters (with `more` after the ellipsis)."""
    raw = ctx.prefill.get(inp.name)
    shown = clip("" if raw is None else str(raw), limit, more)
    ctx.formula(ws, row, span[0], "=" + clipped(inp.name, limit, more), fmt or ctx.fmt.cell, shown)


# -- the case and the overall judgement -----------------------------------------------------------


def _details(ctx: Context, ws: FastWorksheet) -> int:
    """Who and what the audit is about, as a manager looks for it first: case, team, people, completion.

    Returns the next free row.
    """
    shown = [inp for inp in (ctx.layout.role_input(r) for r in DETAILS) if inp is not None]
    for i, inp in enumerate(shown):
        row = DETAILS_ROW + i // 2
        (label_span, value_span) = _DETAIL_SPANS[i % 2]
        ws.merge_range(row, label_span[0], row, label_span[1], inp.label, ctx.fmt.bold)
        fmt = ctx.fmt.value_date if inp.type == "date" else ctx.fmt.value
        ws.merge_range(row, value_span[0], row, value_span[1], "", fmt)
        if inp.type in ("text", "long_text"):
            _clipped(ctx, ws, row, value_span, inp, int(width(value_span) * 1.0), fmt=fmt)  # one line
        else:
            _echo(ctx, ws, row, value_span[0], inp, fmt)
    return DETAILS_ROW + (len(shown) + 1) // 2


def _judgement(ctx: Context) -> list[Input]:
    """The overall judgement's inputs: the grade, whether an urgent concern was raised, when and with whom."""
    layout = ctx.layout
    grade = layout.role_input(Role.OVERALL_GRADE)
    urgent = [layout.by_ref[ref] for ref in fields_in(ctx.spec.roles.urgent) if ref in layout.by_ref]
    when, whom = layout.role_input(Role.URGENT_WHEN), layout.role_input(Role.URGENT_WITH_WHOM)
    return [i for i in (grade, *urgent, when, whom) if i is not None]


def _judgement_line(ctx: Context, ws: FastWorksheet, row: int, inp: Input) -> None:
    """An overall judgement value: its label, then its echo (dates as dd/mm/yyyy, text cut to a line or two).

    A value that applies only sometimes (when the urgent concern was raised) shows nothing, label included,
    while it does not apply.
    """
    flag = applies_expression(ctx.layout, inp)
    applies = ctx.ev.input_applies(inp)
    first, last = VALUE
    fmt = ctx.fmt.bold_date if inp.type == "date" else ctx.fmt.bold
    heights = [(inp.label, width(LABEL))]
    if flag is None:
        ws.merge_range(row, LABEL[0], row, LABEL[1], inp.label, ctx.fmt.bold)
    else:
        _span_formula(ctx, ws, row, LABEL, f'=IF({flag},{string_literal(inp.label)},"")',
                      inp.label if applies else "", ctx.fmt.bold)
    ws.merge_range(row, first, row, last, "", fmt)
    if inp.type in ("text", "long_text"):
        raw = ctx.prefill.get(inp.name)
        shown = "" if raw is None or not applies else str(raw)
        echo = clipped(inp.name, ECHO_LIMIT)
        ctx.formula(ws, row, first, f'=IF({flag},{echo},"")' if flag else f"={echo}", fmt, clip(shown, ECHO_LIMIT))
        heights.append(("x" * min(inp.max_length, ECHO_LIMIT), width(VALUE)))
    else:
        _echo(ctx, ws, row, first, inp, fmt, gate=flag)
    ws.set_row(row, snug_for(heights, bold=True))


# -- the actions ----------------------------------------------------------------------------------
#
# The used rows of the Actions sheet in order (a row left empty between two used ones is passed over), in its own
# column order, each value cut to two lines. Who is responsible shows the team manager when the row names no one,
# as validate reads it. The first column is the row's number on the Actions sheet, where each is whole.


def _actions_table(ctx: Context, ws: FastWorksheet, row: int, sl: SectionLayout) -> int:
    """The actions heading at `row`, the header, a row for each of the first ACTION_ROWS used rows of the Actions
    sheet, then a line saying how many more there are. Returns the last row."""
    fields = sl.section.fields[: ACTION_GRID[1] - ACTION_GRID[0] + 1]  # a grid column each, at most
    spans = allot([_wanted(ctx, f) for f in fields], ACTION_GRID)
    ws.merge_range(row, 0, row, LAST_COL, sl.section.title, ctx.fmt.bold)
    heading = row
    row += 1
    ws.write_string(row, NUMBER, "#", ctx.fmt.header)
    _spans(ws, row, [(span, f.label) for f, span in zip(fields, spans, strict=True)], ctx.fmt.header)
    ws.set_row(row, snug_for([(f.label, width(span)) for f, span in zip(fields, spans, strict=True)], bold=True))
    ws.keep_together(heading, row + 2)  # the heading, the header and the first actions
    used = [r for r in range(1, sl.section.rows + 1)
            if any(ctx.prefill.get(i.name) not in (None, "") for i in sl.inputs if i.row_index == r)]
    shown = min(sl.section.rows, ACTION_ROWS)
    for k in range(1, shown + 1):
        row += 1
        at = used[k - 1] if k <= len(used) else None
        ctx.formula(ws, row, NUMBER, f'=IFERROR(SMALL({USED_ACTION_ROWS},{k}),"")', ctx.fmt.text, at or "")
        number = f"$A${row + 1}"
        for f, span in zip(fields, spans, strict=True):
            _action_cell(ctx, ws, row, span, _ActionColumn(ctx, sl, f, number), at)
        # A row of the table once an action fills it; until then blank, on screen and on paper.
        ok(ws.conditional_format(row, 0, row, LAST_COL, {"type": "formula", "criteria": f'={number}<>""',
                                                          "format": ctx.fmt.used_row}), "an action row's border")
        ws.set_row(row, snug(LINES))
    if sl.section.rows > shown:
        row += 1
        count = f"COUNT({USED_ACTION_ROWS})"
        formula = f'=IF({count}>{shown},"And "&({count}-{shown})&IF({count}-{shown}=1," more action"," more actions")' \
                  f'&{string_literal(f" on the {sl.sheet} sheet.")},"")'
        more = len(used) - shown
        _span_formula(ctx, ws, row, (1, LAST_COL), formula, more_actions(more, sl.sheet) if more > 0 else "",
                      ctx.fmt.text)
    ws.keep_together(row - 1, row)  # never one action alone on a page
    return row


def more_actions(more: int, sheet: str) -> str:
    """The line after the actions the Summary lists, when there are more."""
    return f"And {more} more {'action' if more == 1 else 'actions'} on the {sheet} sheet."


def _wanted(ctx: Context, f: FieldSpec) -> float:
    """How wide an action column wants to be: its text wide, a date or a short choice narrow."""
    if f.type == "long_text":
        return 54
    if f.type == "date":
        return 11
    values = ctx.spec.lists.get(choice_list_of(f) or "", []) if f.type in ("choice", "question") else []
    return min(22, max(8, *(len(v) / 1.5 for v in values))) if values else 20


class _ActionColumn:
    """One column of the actions table as the Summary echoes it: the k-th used row's value, by its row number."""

    def __init__(self, ctx: Context, sl: SectionLayout, f: FieldSpec, number: str) -> None:
        columns: dict[str, tuple[dict[int | None, Input], str]] = ctx.layout.caches.setdefault("summary actions", {})
        if f.id not in columns:
            inputs = {i.row_index: i for i in sl.inputs if i.field == f.id}
            first, last = inputs[1], inputs[sl.section.rows]
            columns[f.id] = inputs, sheet_ref(sl.sheet, first.row, first.col, last.row, first.col)
        self.inputs, column = columns[f.id]
        self.value = f"INDEX({column},{number})"
        self.number = number
        self.field = f
        self.role = next((r for r in (Role.ACTION_TEXT, Role.ACTION_RESPONSIBLE)
                          if ctx.layout.action_column(r) == f.id), None)

    def raw(self, ctx: Context, at: int | None) -> object:
        """The column's starting value in the Actions sheet's row `at`."""
        return None if at is None else ctx.prefill.get(self.inputs[at].name)


def _action_cell(ctx: Context, ws: FastWorksheet, row: int, span: Span, col: _ActionColumn, at: int | None) -> None:
    """A value of the k-th used action row, cut to what the row shows (blank while there is no such row)."""
    limit = fits(span, LINES)
    raw = col.raw(ctx, at)
    fmt = ctx.fmt.date if col.field.type == "date" else ctx.fmt.text
    if col.role is Role.ACTION_RESPONSIBLE:
        expr, shown = _responsible(ctx, col, at, limit)
    elif col.field.type in ("text", "long_text", "choice", "question"):
        more = MORE if col.role is Role.ACTION_TEXT else MORE_SHORT if col.field.type == "text" else ""
        expr, shown = clipped(col.value, limit, more), clip("" if raw is None else str(raw), limit, more)
    else:
        expr, shown = f'IF({col.value}="","",{col.value})', _first_value(raw)
    _span_formula(ctx, ws, row, span, f'=IF({col.number}="","",{expr})', shown, fmt)


def _responsible(ctx: Context, col: _ActionColumn, at: int | None, limit: int) -> tuple[str, CellValue]:
    """Who is responsible: the person named, else the case's team manager (the row is in use)."""
    raw = col.raw(ctx, at)
    named = clipped(col.value, limit, MORE_SHORT)
    manager = ctx.layout.role_input(Role.TEAM_MANAGER)
    if manager is None:
        return named, clip("" if raw is None else str(raw), limit, MORE_SHORT)
    boss = ctx.prefill.get(manager.name)
    fallback = f'IF({manager.name}="","",{clipped(manager.name, limit - len(MANAGER))}&"{MANAGER}")'
    shown = clip(str(raw), limit, MORE_SHORT) if raw else \
        f"{clip(str(boss), limit - len(MANAGER))}{MANAGER}" if boss and at is not None else ""
    return f'IF({col.value}<>"",{named},{fallback})', shown


# -- the sections table ---------------------------------------------------------------------------


def _sections_table(ctx: Context, ws: FastWorksheet, header: int) -> int:
    """The header at `header`, then a row per section (one line for a section that does not apply). Returns the
    last row."""
    _spans(ws, header, [(SECTION, "Section"), (APPLIES, "Applies"), (STATUS, "Status"), (GRADE, "Grade"),
                        (THEMES, "Themes")], ctx.fmt.header)
    row = header
    for sl in ctx.layout.sections:
        row += 1
        _section_row(ctx, ws, row, sl)
    ws.keep_together(header, header + 1)  # the header with the first section
    ws.keep_together(row - 1, row)  # never one section alone on a page
    return row


def _section_row(ctx: Context, ws: FastWorksheet, row: int, sl: SectionLayout) -> None:
    """A section's title, whether it applies, its status, grade and themes, in a row as tall as they can be."""
    s = sl.section
    _spans(ws, row, [(SECTION, s.title)], ctx.fmt.cell)
    _span_formula(ctx, ws, row, APPLIES, *_applies(ctx, sl), ctx.fmt.cell)
    status, status_value = f"={sl.status_name}", str(ctx.ev.value(sl.status_name))
    if sl.required_flag:
        # Applies already says "Optional": the status says how far it got ("Not started", not "Optional" again).
        status = f'=IF({sl.status_name}="{OPTIONAL}","{NOT_STARTED}",{sl.status_name})'
        status_value = NOT_STARTED if status_value == OPTIONAL else status_value
    _span_formula(ctx, ws, row, STATUS, status, status_value, ctx.fmt.cell)
    _grade(ctx, ws, row, sl)
    themes = ctx.layout.theme_inputs(sl)
    if themes:
        # "a; b; c" without a trailing separator: each tag after the first brings its own "; ".
        parts = [f'IF({t.name}="","",{t.name})' if i == 0 else
                 f'IF({t.name}="","",IF(LEN({"&".join(x.name for x in themes[:i])})>0,"; ","")&{t.name})'
                 for i, t in enumerate(themes)]
        _span_formula(ctx, ws, row, THEMES, "=" + "&".join(parts), "", ctx.fmt.cell)
    else:
        _spans(ws, row, [(THEMES, "")], ctx.fmt.cell)
    # The tallest this row can be: the title, its longest status, grade and tags (a section that always applies and
    # has neither is one line).
    longest_tags = "; ".join(sorted((t.label for t in ctx.spec.themes), key=len)[-len(themes):]) \
        if themes else ""
    grades = ctx.spec.lists.get(ctx.spec.grade_list, []) if ctx.layout.section_input(sl, Role.SECTION_GRADE) else []
    shown = [(s.title, width(SECTION)), (longest_tags, width(THEMES)), *((g, width(GRADE)) for g in grades),
             *((t, width(STATUS)) for t in _statuses(ctx, sl))]
    ws.set_row(row, snug_for(shown))


def _statuses(ctx: Context, sl: SectionLayout) -> list[str]:
    """The longest statuses a section can show (spec/evaluate.py's)."""
    if sl.section.kind == "table":
        return [status_text_table(sl.section.rows)]
    out = [f"{len(counted(sl))} of {len(counted(sl))} answered"]
    if sl.waiting_flag:
        out.append(waiting_status(ctx.layout, sl))
    return out + (["Not applicable"] if sl.applies_flag else [])


def _applies(ctx: Context, sl: SectionLayout) -> tuple[str, str]:
    """Whether the section applies ("Yes", "No", "Waiting" or "Optional"): the formula and its first value."""
    ev = ctx.ev
    if sl.applies_flag:
        applies = f'IF({sl.applies_flag},"Yes","No")'
        value = "Yes" if ev.flag(sl.applies_flag) else "No"
        if sl.waiting_flag:
            applies = f'IF({sl.waiting_flag},"Waiting",{applies})'
            value = "Waiting" if ev.value(sl.waiting_flag) else value
    else:
        applies, value = '"Yes"', "Yes"
    if sl.required_flag:
        applies = f'IF(NOT({sl.applies_flag or "TRUE()"}),"No",IF({sl.required_flag},"Yes","Optional"))'
        value = "Yes" if ev.flag(sl.required_flag) else "Optional"
    return "=" + applies, value


def _grade(ctx: Context, ws: FastWorksheet, row: int, sl: SectionLayout) -> None:
    """The section's grade: "n/a" while it does not apply, blank while that waits for an answer."""
    grade = ctx.layout.section_input(sl, Role.SECTION_GRADE)
    if grade is None:
        _spans(ws, row, [(GRADE, "")], ctx.fmt.cell)
        return
    na = f'IF(NOT({sl.applies_flag}),IF({sl.waiting_flag or "FALSE()"},"","n/a"),' if sl.applies_flag else "("
    waits = sl.waiting_flag is not None and bool(ctx.ev.value(sl.waiting_flag))
    na_value = "n/a" if not ctx.ev.flag(sl.applies_flag) and not waits else ""
    _span_formula(ctx, ws, row, GRADE, f'={na}IF({grade.name}="","",{grade.name}))', na_value, ctx.fmt.cell)


# -- the checks -----------------------------------------------------------------------------------


def count_line(fix: int, look: int) -> str:
    """The count of failing checks: "Checks: 2 to fix, 3 to check (listed under the sections below)"."""
    if fix + look == 0:
        return NOTHING_TO_FIX
    return f"Checks: {fix} to fix, {look} to check (listed under the sections below)"


def _checks_count(ctx: Context, ws: FastWorksheet, row: int) -> None:
    """One line near the top: how many checks need fixing and how many to look at."""
    live = [c for c in ctx.checks if c.live]
    fired = {c.name: len(ctx.fired[c.name]) for c in live}
    fix = [c.name for c in live if c.rule.severity == "error"]
    look = [c.name for c in live if c.rule.severity != "error"]
    n_fix, n_look = "+".join(fix) or "0", "+".join(look) or "0"
    formula = (f'=IF(({n_fix})+({n_look})=0,{string_literal(NOTHING_TO_FIX)},'
               f'"Checks: "&({n_fix})&" to fix, "&({n_look})&" to check (listed under the sections below)")')
    _span_formula(ctx, ws, row, (0, LAST_COL), formula,
                  count_line(sum(fired[n] for n in fix), sum(fired[n] for n in look)), ctx.fmt.bold)
    # Shaded as the checks below: red while any needs fixing, else amber while any is to look at.
    for test, shade in ((n_fix, ctx.fmt.fix_row), (n_look, ctx.fmt.check_row)):
        ok(ws.conditional_format(row, 0, row, LAST_COL, {"type": "formula", "criteria": f"=({test})>0",
                                                          "format": shade, "stop_if_true": True}),
           "the checks' count")


def passing_line(listed: int, failing: int) -> str:
    """The line after the checks that fail: how many others pass ("" when none is left)."""
    others = listed - failing
    if failing == 0:
        return f"All {listed} checks pass." if listed != 1 else "The check passes."
    if others == 0:
        return ""
    return "1 other check passes." if others == 1 else f"{others} other checks pass."


def more_line(more: int) -> str:
    """The last line when more checks fail than the Summary lists."""
    return f"And {more} more {'check fails' if more == 1 else 'checks fail'}: validate lists every one."


def _checks_list(ctx: Context, ws: FastWorksheet, row: int) -> None:
    """The checks that fail, from `row`: Fix (red) or Check (amber), what is wrong and where to look; then one line
    for those that pass, or for those that fail beyond the first CHECK_ROWS.

    The k-th row shows the k-th failing check, so it is as tall as the tallest of the checks from the k-th on; rows
    no check fills print nothing.
    """
    lists = shortlists_of(ctx.layout, ctx.checks)
    listed = lists.listed
    left = len(ctx.checks) - len(listed)
    later = f" {left} more {'is' if left == 1 else 'are'} made when the return is validated." if left else ""
    ws.merge_range(row, 0, row, LAST_COL, "Checks that fail: Fix before sending the audit; Check with the team "
                                          "manager." + later, ctx.fmt.bold)
    ws.keep_together(row, row + 2)  # the heading and the header with the first check
    row += 1
    _spans(ws, row, [(RESULT, "Result"), (MESSAGE, "What is wrong"), (WHERE, "Where")], ctx.fmt.header)
    failing = [c for c in listed if ctx.fired[c.name]]
    tallest = [lists.heights[c.name] for c in listed]
    rows = min(len(listed), CHECK_ROWS)
    for k in range(1, rows + 1):
        row += 1
        _check_row(ctx, ws, row, k, failing[k - 1] if k <= len(failing) else None)
        ws.set_row(row, max(tallest[k - 1:]))
    row += 1
    _last_check_line(ctx, ws, row, rows, len(listed), len(failing))
    ws.keep_together(row - 1, row)


def _check_row(ctx: Context, ws: FastWorksheet, row: int, k: int, shown: Check | None) -> None:
    """The k-th failing check (`shown` on the starting answers), or the line for those that pass after the last."""
    listed = len(shortlists_of(ctx.layout, ctx.checks).listed)
    at = f"SMALL({CHECK_FAILING},{k})"
    fired = ctx.fired[shown.name] if shown is not None else []
    failing = sum(1 for c in ctx.checks if c.live and ctx.fired[c.name])
    _span_formula(ctx, ws, row, RESULT, f'=IFERROR(INDEX({CHECK_RESULT},{at}),"")',
                  result_text(shown, len(fired)) if shown else "", ctx.fmt.text)
    passing = passing_line(listed, k - 1)
    message = f'=IFERROR(INDEX({CHECK_MESSAGE},{at}),IF(COUNT({CHECK_FAILING})={k - 1},{string_literal(passing)},""))'
    _span_formula(ctx, ws, row, MESSAGE, message, shown.rule.message if shown else
                  passing if failing == k - 1 else "", ctx.fmt.text)
    _span_formula(ctx, ws, row, WHERE, f'=IFERROR(INDEX({CHECK_WHERE},{at}),"")',
                  shortlists_of(ctx.layout, ctx.checks).shown_where(shown, fired) if shown else "", ctx.fmt.text)
    for text, shade in ((FIX, ctx.fmt.fix_row), (CHECK, ctx.fmt.check_row)):
        ok(ws.conditional_format(row, 0, row, LAST_COL, {
            "type": "formula", "criteria": f'=LEFT($A${row + 1},{len(text)})="{text}"', "format": shade}),
           "a failing check's shading")


def _last_check_line(ctx: Context, ws: FastWorksheet, row: int, rows: int, listed: int, failing: int) -> None:
    """After the listed rows: how many more fail when there are more than `rows`, else (when every listed row holds a
    failing check) how many pass."""
    count = f"COUNT({CHECK_FAILING})"
    more = f'"And "&({count}-{rows})&IF({count}-{rows}=1," more check fails"," more checks fail")' \
           '&": validate lists every one."'
    formula = f'=IF({count}>{rows},{more},IF({count}={rows},{string_literal(passing_line(listed, rows))},""))'
    shown = more_line(failing - rows) if failing > rows else passing_line(listed, rows) if failing == rows else ""
    _span_formula(ctx, ws, row, MESSAGE, formula, shown, ctx.fmt.text)
