"""The Summary sheet: the case's details, the overall judgement, each section's applicability, status, grade and
themes, the checks, and the actions.

What a team manager reads first, on A4 landscape. Every value here is a formula echoing the sheets behind
it, and neither Excel nor LibreOffice refits a row when a formula's result changes: so each row is as tall
as the longest value it can show (the spec bounds them: titles, grades, theme labels), and free text is
cut to what fits with a pointer to where it is whole.

One sheet has one set of column widths, so its tables (sections, checks, actions) are laid on one grid: each
table's columns are spans of grid columns, each as wide as its values need (the action's text wide, its
priority narrow).
"""

from __future__ import annotations

from datetime import date

from xlsxwriter.format import Format

from auditbook.dates import serial
from auditbook.spec.conditions import fields_in
from auditbook.spec.evaluate import CellValue
from auditbook.spec.layout import Input, SectionLayout, cell_ref, quote_sheet
from auditbook.spec.roles import Role
from auditbook.spec.rules import Firing
from auditbook.workbook.checks import MAX_FORMULA, Check, fixed_cells, item_cells
from auditbook.workbook.context import Context, as_text
from auditbook.workbook.fit import CHARS_PER_UNIT, height_for
from auditbook.workbook.formulas import applies_expression
from auditbook.workbook.kleene import string_literal
from auditbook.workbook.xlsx import FastWorksheet, ok

#: Grid column widths. Every value on the Summary is a formula and its row has a height fixed for the longest
#: value it can show, so the tables merge grid columns freely. About 160 units: A4 landscape at ~86 %.
WIDTHS = (5, 40, 12, 22, 11, 11, 12, 12, 35)
LAST_COL = len(WIDTHS) - 1
#: A span of grid columns: (first, last).
Span = tuple[int, int]
#: The overall judgement's lines: label, value.
LABEL, VALUE = (0, 3), (4, 8)
#: Sections table.
SECTION, APPLIES, STATUS, GRADE, THEMES = (0, 1), (2, 2), (3, 3), (4, 5), (6, 8)
#: Checks list, and how many lines Where shows before it is cut.
CHECK, SEVERITY, RESULT, WHERE, FIX = (0, 1), (2, 2), (3, 3), (4, 7), (8, 8)
WHERE_LINES = 3
#: Actions table.
NUMBER, ACTION, ACTION_SECTION, PRIORITY, AGREED, TIMESCALE, RESPONSIBLE = (
    (0, 0), (1, 2), (3, 4), (5, 5), (6, 6), (7, 7), (8, 8))

#: The case's details, two to a row from DETAILS_ROW, then the sections table's header.
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
#: Lines each action row shows: enough for the gist, few enough that 15 rows fit a page.
ACTION_LINES = 2
MORE = " (in full on the Actions sheet)"
MORE_SHORT = " (see Actions)"
#: Where each action role goes on the grid (each headed by its field's label in the spec).
ACTION_COLUMNS: tuple[tuple[Role, Span], ...] = (
    (Role.ACTION_TEXT, ACTION),
    (Role.ACTION_PRIORITY, PRIORITY),
    (Role.ACTION_SECTION, ACTION_SECTION),
    (Role.ACTION_AGREED, AGREED),
    (Role.ACTION_TIMESCALE, TIMESCALE),
    (Role.ACTION_RESPONSIBLE, RESPONSIBLE),
)


def write(ctx: Context, ws: FastWorksheet) -> None:
    """The Summary: details, the overall judgement, the sections table, the checks, then the actions."""
    ws.set_widths(WIDTHS)
    ws.merge_range(0, 0, 0, LAST_COL, f"Summary: {ctx.spec.title}", ctx.fmt.title)
    ws.set_row(0, 24)
    ws.merge_range(1, 0, 1, LAST_COL, ctx.spec.classification, ctx.fmt.classification)
    row = _details(ctx, ws) + 1
    # The overall judgement first: what a manager looks for before anything else.
    for inp in _judgement(ctx):
        _judgement_line(ctx, ws, row, inp)
        row += 1
    if ctx.checks:
        _checks_count(ctx, ws, row)
        row += 1
    header = row + 1
    row = _sections_table(ctx, ws, header)
    row = _checks_list(ctx, ws, row + 2) + 1
    actions = ctx.layout.actions
    if actions is not None:
        _actions_table(ctx, ws, row, actions)
    ws.freeze_panes(header + 1, 0)


# -- the grid and its cells -----------------------------------------------------------------------


def width(span: Span) -> float:
    """The width of a span of grid columns."""
    return sum(WIDTHS[span[0] : span[1] + 1])


def fits(span: Span, lines: int) -> int:
    """Characters that surely fit in `lines` lines of a span (words wrap, so a little under the full)."""
    return int(width(span) * CHARS_PER_UNIT * lines * 0.9)


def clipped(name: str, limit: int, more: str = "") -> str:
    """A formula (no "=") echoing a text input, cut to `limit` characters with an ellipsis and `more` after."""
    cut = f'LEFT({name},{limit - 1 - len(more)})&{string_literal("…" + more)}'
    return f'IF(LEN({name})>{limit},{cut},IF({name}="","",{name}))'


def clip(text: str, limit: int, more: str = "") -> str:
    """What clipped() shows for this text."""
    return text if len(text) <= limit else text[: limit - 1 - len(more)] + "…" + more


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


def _echo(ctx: Context, ws: FastWorksheet, row: int, col: int, inp: Input, fmt: Format, *,
          gate: str | None = None) -> None:
    """A formula showing an input's value (blank while it is empty, or while `gate` is FALSE)."""
    raw = ctx.prefill.get(inp.name) if gate is None or ctx.ev.input_applies(inp) else None
    value: CellValue = "" if raw is None else as_text(raw) or ""
    if isinstance(raw, date):
        value = serial(raw)  # a number, so the cell's dd/mm/yyyy format shows it before any recalculation
    echo = f'IF({inp.name}="","",{inp.name})'
    ctx.formula(ws, row, col, f'=IF({gate},{echo},"")' if gate else f"={echo}", fmt, value)


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
    ws.set_row(row, height_for(heights, bold=True))


# -- the sections table ---------------------------------------------------------------------------


def _sections_table(ctx: Context, ws: FastWorksheet, header: int) -> int:
    """The header at `header`, then a row per section. Returns the last row."""
    _spans(ws, header, [(SECTION, "Section"), (APPLIES, "Applies"), (STATUS, "Status"), (GRADE, "Grade"),
                        (THEMES, "Themes")], ctx.fmt.header)
    row = header
    for sl in ctx.layout.sections:
        row += 1
        _section_row(ctx, ws, row, sl)
    ws.keep_together(header, header + 1)
    ws.keep_together(row - 1, row)
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
    # The tallest this row can be: the title, and the longest tags the spec allows.
    longest_tags = "; ".join(sorted((t.label for t in ctx.spec.themes), key=len)[-len(themes):]) \
        if themes else ""
    ws.set_row(row, height_for([(s.title, width(SECTION)), (longest_tags, width(THEMES)),
                                ("Requires improvement", width(GRADE))]))


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


def _checks_list(ctx: Context, ws: FastWorksheet, row: int) -> int:
    """The Checks, from `row`; returns the row after them.

    A row whose check fails is shaded (red for Fix, amber for Check), so the ones to act on stand out.
    """
    if not ctx.checks:
        return row
    ws.merge_range(row, 0, row, LAST_COL, "Checks: answers that contradict each other (Fix before sending; "
                                          "Check with the team manager)", ctx.fmt.bold)
    ws.keep_together(row, row + 2)  # the heading and the table's header with its first check
    row += 1
    _spans(ws, row, [(CHECK, "Check"), (SEVERITY, "Severity"), (RESULT, "Result"), (WHERE, "Where"),
                     (FIX, "How to fix")], ctx.fmt.header)
    for check in ctx.checks:
        row += 1
        _check_row(ctx, ws, row, check)
    ws.keep_together(row - 1, row)  # never one check alone on the last page
    return row + 1


def _check_row(ctx: Context, ws: FastWorksheet, row: int, check: Check) -> None:
    """A check: what it says, its severity, whether it fails (live), where it looks, and how to fix it."""
    rule = check.rule
    fired = ctx.fired[check.name] if check.live else []
    _spans(ws, row, [(CHECK, rule.message), (SEVERITY, rule.severity.capitalize()), (FIX, rule.fix)], ctx.fmt.cell)
    word = "Fix" if rule.severity == "error" else "Check"
    if check.live:
        n = check.name
        formula = f'=IF({n}=0,"OK",IF({n}=1,"{word}","{word} ("&{n}&")"))'
        shown = "OK" if not fired else word if len(fired) == 1 else f"{word} ({len(fired)})"
        _span_formula(ctx, ws, row, RESULT, formula, shown, ctx.fmt.cell)
        failing = ctx.fmt.fix_row if rule.severity == "error" else ctx.fmt.check_row
        ok(ws.conditional_format(row, 0, row, LAST_COL, {"type": "formula", "criteria": f"={n}>0",
                                                          "format": failing}), f"check {n}")
    else:
        _spans(ws, row, [(RESULT, "Checked by validate")], ctx.fmt.cell)
    longest = _where(ctx, ws, row, check, fired)
    # Fixed text and a formula: sized for the longest each can show.
    ws.set_row(row, height_for([(rule.message, width(CHECK)), (rule.fix, width(FIX)), (longest, width(WHERE))]))


def _where(ctx: Context, ws: FastWorksheet, row: int, check: Check, fired: list[Firing]) -> str:
    """Where the check looks, as sheet and cells ("Actions E9, E10; Case profile C27"): for a check run
    on each section or row, the cells of those that fail. Returns the longest text it can show."""
    fixed = [(i.sheet, i.cell) for i in fixed_cells(ctx.layout, check)]
    pieces = [(item, [(i.sheet, i.cell) for i in item_cells(ctx.layout, check, item)]) for item in check.items]
    pieces = [(item, cells) for item, cells in pieces if cells]
    if check.rule.each is None or not check.live or not pieces:
        text = where_text(fixed)
        _spans(ws, row, [(WHERE, text)], ctx.fmt.cell)
        return text
    one_sheet = len({sheet for _item, cells in pieces for sheet, _cell in cells}) == 1
    prefix = f"{pieces[0][1][0][0]} " if one_sheet else ""

    def piece(cells: list[tuple[str, str]]) -> str:
        return ", " + ", ".join(c for _s, c in cells) if one_sheet else "; " + where_text(cells)

    tail = "; " + where_text(fixed) if fixed else ""
    limit = fits(WHERE, WHERE_LINES)

    def shown_for(items: list[list[tuple[str, str]]]) -> str:
        joined = "".join(piece(cells) for cells in items)
        return "" if not joined else clip(prefix + joined[2:] + tail, limit)

    hit = [cells for item, cells in pieces if any(f.section == item.section and f.row == item.table_row
                                                      for f in fired)]
    joined = "&".join(f'IF({check.item_ref(item)}=1,{string_literal(piece(cells))},"")' for item, cells in pieces)
    text = f"{string_literal(prefix)}&MID({joined},3,{limit})&{string_literal(tail)}"
    formula = f'=IF(LEN({joined})=0,"",IF(LEN({text})>{limit},LEFT({text},{limit - 1})&"…",{text}))'
    if len(formula) > MAX_FORMULA:  # a check on every practice question has too many cells to join: its sheets
        sheets = clip(", ".join(dict.fromkeys(s for _item, cells in pieces for s, _cell in cells)), limit)
        _spans(ws, row, [(WHERE, sheets)], ctx.fmt.cell)
        return sheets
    _span_formula(ctx, ws, row, WHERE, formula, shown_for(hit), ctx.fmt.cell)
    return shown_for([cells for _item, cells in pieces])


def where_text(cells: list[tuple[str, str]]) -> str:
    """Cells named as a person finds them, each sheet once: "Case profile C12, C19; Overall judgement C9"."""
    by_sheet: dict[str, list[str]] = {}
    for sheet, cell in cells:
        if cell not in by_sheet.setdefault(sheet, []):
            by_sheet[sheet].append(cell)
    return "; ".join(f"{sheet} {', '.join(found)}" for sheet, found in by_sheet.items())


# -- the actions ----------------------------------------------------------------------------------
#
# Laid on the grid with columns of their own (the action's text in a wide one), not the sections table's. Who
# is responsible shows the team manager when the row names no one, as validate reads it. Action text longer
# than two lines is cut with a pointer to the Actions sheet, where it is whole.


def _actions_table(ctx: Context, ws: FastWorksheet, row: int, sl: SectionLayout) -> None:
    """Each action with its section, who is responsible, timescale, agreement and priority, on a page of its own."""
    labels = {f.id: f.label for f in sl.section.fields}
    columns = [(role, span, ctx.layout.action_column(role)) for role, span in ACTION_COLUMNS]
    present = [(role, span, labels[col], col) for role, span, col in columns if col is not None and col in labels]
    if not any(role is Role.ACTION_TEXT for role, *_ in present):
        return  # without the action's text there is nothing a reader can act on
    ws.break_before(row)  # the actions print on a page of their own, headed as below
    ws.merge_range(row, 0, row, LAST_COL, sl.section.title, ctx.fmt.bold)
    row += 1
    ws.write_string(row, NUMBER[0], "#", ctx.fmt.header)
    _spans(ws, row, [(span, head) for _role, span, head, _col in present], ctx.fmt.header)
    ws.set_row(row, height_for([(head, width(span)) for _r, span, head, _c in present], bold=True))
    manager = ctx.layout.role_input(Role.TEAM_MANAGER)
    limit = fits(ACTION, ACTION_LINES)
    longest_section = max(ctx.spec.lists.get("section", [""]), key=len, default="")
    for r in range(1, sl.section.rows + 1):
        row += 1
        cells = {i.field: i for i in sl.inputs if i.row_index == r}
        ws.write_number(row, NUMBER[0], r, ctx.fmt.cell)
        for role, span, _head, col in present:
            inp = cells[col]
            if span[0] != span[1]:
                ws.merge_range(row, span[0], row, span[1], "", ctx.fmt.cell)
            if role is Role.ACTION_TEXT:
                _clipped(ctx, ws, row, span, inp, limit, MORE)
            elif role is Role.ACTION_RESPONSIBLE:
                _responsible(ctx, ws, row, span, inp, manager, list(cells.values()))
            else:
                _echo(ctx, ws, row, span[0], inp, ctx.fmt.cell_date if inp.type == "date" else ctx.fmt.cell)
        ws.set_row(row, height_for([("x" * limit, width(ACTION)), (longest_section, width(ACTION_SECTION))]))
    ws.keep_together(row - 1, row)  # never one action alone on a page


def _responsible(ctx: Context, ws: FastWorksheet, row: int, span: Span, inp: Input, manager: Input | None,
                 cells: list[Input]) -> None:
    """Who is responsible: the person named, else the case's team manager once the row has any entry."""
    name = inp.name
    limit = fits(span, ACTION_LINES)
    if manager is None:
        _clipped(ctx, ws, row, span, inp, limit, MORE_SHORT)
        return
    cols = sorted(i.col for i in cells)
    used = f"COUNTA({quote_sheet(inp.sheet)}!{cell_ref(inp.row, cols[0], absolute=True)}:" \
           f"{cell_ref(inp.row, cols[-1], absolute=True)})>0"
    fallback = f'IF(AND({used},{manager.name}<>""),{manager.name}&" (team manager)","")'
    formula = f'=IF({name}<>"",{clipped(name, limit, MORE_SHORT)},{fallback})'
    raw, boss = ctx.prefill.get(name), ctx.prefill.get(manager.name)
    any_entry = any(ctx.prefill.get(i.name) not in (None, "") for i in cells)
    shown = clip(str(raw), limit, MORE_SHORT) if raw else (f"{boss} (team manager)" if boss and any_entry else "")
    ctx.formula(ws, row, span[0], formula, ctx.fmt.cell, shown)
