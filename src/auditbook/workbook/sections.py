"""Section sheets: title, banner, status, guidance, criteria, then the form's questions or the table's rows.

Every entry a person types prints whole: long entries (evidence, long text) sit on their own row under
their label in the wide column, unmerged, in rows that start at a useful height and grow as they are
typed in (FastWorksheet.fit_row). Only rows of fixed text get a fixed height.
"""

from __future__ import annotations

from collections.abc import Callable

from xlsxwriter.format import Format

from auditbook.spec.conditions import Condition, derived_words, describe, fields_in
from auditbook.spec.evaluate import waiting_words
from auditbook.spec.layout import (
    BANNER_ROW,
    CLASS_ROW,
    CRITERIA_COL,
    CRITERIA_ROW,
    GUIDANCE_ROW,
    HEADER_ROW,
    LABEL_COL,
    NUM_COL,
    STATUS_ROW,
    TABLE_FIRST_COL,
    VALUE_COL,
    Input,
    Layout,
    SectionLayout,
    quote_sheet,
    sheet_ref,
)
from auditbook.spec.models import FieldSpec, Spec, choice_list_of
from auditbook.spec.roles import Role
from auditbook.workbook.context import Context
from auditbook.workbook.fit import snug, snug_for, text_lines
from auditbook.workbook.inputs import InputCells, help_of
from auditbook.workbook.kleene import string_literal
from auditbook.workbook.shortlists import USED_ACTION_ROWS
from auditbook.workbook.xlsx import FastWorksheet

#: Column widths of a form or judged sheet: number, label (and long entries under it), answer, criteria.
#: The label column is wide enough for a 4,000-character entry to stay within Excel's tallest row (409 points)
#: and a printed page; the sheet prints at about 90 % on A4 landscape.
FORM_WIDTHS = (4, 118, 26, 11)
#: Starting heights, in lines, of the rows an auditor types long entries in; they grow with the entry.
EVIDENCE_LINES, LONG_TEXT_LINES, TABLE_ROW_LINES = 1, 2, 1
#: The height of a row spacing the top of a sheet from its table.
SPACER_POINTS = 6.0
#: Table column widths by field type; a choice column is as wide as its longest choice, within CHOICE_WIDTHS.
TABLE_WIDTHS = {"long_text": 50, "choice": 24, "date": 13, "text": 20, "integer": 10, "month": 10}
CHOICE_WIDTHS = (10, 24)


def write(ctx: Context, ws: FastWorksheet, sl: SectionLayout) -> None:
    """A section's sheet: a form (or judged form) of questions, or a table of rows."""
    cells = InputCells(ctx, ws)
    if sl.section.kind == "table":
        _table(ctx, ws, sl, cells)
    else:
        _form(ctx, ws, sl, cells)
    cells.close()
    _print_area(ctx, ws, sl)


def _print_area(ctx: Context, ws: FastWorksheet, sl: SectionLayout) -> None:
    """For Excel, a print area that follows the answers: nothing while the section does not apply (one empty cell,
    which prints no page), and the actions table down to its last used row. LibreOffice prints the whole sheet
    (context.print_area_formula)."""
    last_col, last_row = max(ws.widths), ws.dim_rowmax
    if last_row is None:
        return
    whole = sheet_ref(ws.name, 0, 0, last_row, last_col)
    if sl is ctx.layout.actions and sl.section.kind == "table":
        top = quote_sheet(ws.name) + "!$A$1"
        ctx.print_area_formula(ws, f"OFFSET({top},0,0,{HEADER_ROW + 1}+MAX({USED_ACTION_ROWS}),{last_col + 1})")
    elif sl.applies_flag:
        shown = f"OR({sl.applies_flag},{sl.waiting_flag})" if sl.waiting_flag else sl.applies_flag
        ctx.print_area_formula(ws, f"IF({shown},{whole},{sheet_ref(ws.name, 0, last_col + 2)})")


def _top(ctx: Context, ws: FastWorksheet, sl: SectionLayout, last_col: int) -> None:
    """Title, the case, banner, status, guidance and criteria, over the header row every printed page repeats."""
    s = sl.section
    ctx.title(ws, s.title, last_col)
    case = ctx.case_input
    if case is not None and ws.name != case.sheet:
        prefix = f"{ctx.case_word}: "
        ctx.formula(ws, CLASS_ROW, VALUE_COL, f"={string_literal(prefix)}&{case.name}", ctx.fmt.bold,
                    prefix + ctx.case_ref)
    _banner(ctx, ws, sl, last_col)
    ctx.formula(ws, STATUS_ROW, LABEL_COL, f'="Status: "&{sl.status_name}', ctx.fmt.bold,
                f"Status: {ctx.ev.value(sl.status_name)}")
    if s.guidance:
        _long_row(ws, GUIDANCE_ROW, s.guidance.strip(), last_col, ctx.fmt.text)
    else:
        _unused(ws, GUIDANCE_ROW)
    if s.criteria:
        by_id = {c.id: c for c in ctx.spec.criteria}
        text = "Judged against the 'good' criteria: " + "; ".join(f"{c} {by_id[c].summary}" for c in s.criteria) \
            + f" (full text on the {ctx.spec.wording.criteria_sheet} sheet)."
        _long_row(ws, CRITERIA_ROW, text, last_col, ctx.fmt.criteria)
    else:
        _unused(ws, CRITERIA_ROW)
    ws.set_row(HEADER_ROW - 1, SPACER_POINTS)
    ws.freeze_panes(HEADER_ROW + 1, 0)
    ws.repeat_rows(HEADER_ROW)


def _banner(ctx: Context, ws: FastWorksheet, sl: SectionLayout, last_col: int) -> None:
    """Why the section does not apply, what it waits for, or that it is optional for this audit (else blank)."""
    s, ev = sl.section, ctx.ev
    if sl.applies_flag and sl.waiting_flag:
        text = f"This section does not apply because {s.not_applicable_because}. Leave it blank."
        wait = waiting_text(ctx.layout, list(fields_in(s.applies_when)), "this section applies")
        value = wait if ev.value(sl.waiting_flag) else "" if ev.flag(sl.applies_flag) else text
        formula = (f'=IF({sl.waiting_flag},{string_literal(wait)},'
                   f'IF({sl.applies_flag},"",{string_literal(text)}))')
        texts = [text, wait]
    elif sl.required_flag:
        cond = describe(s.required_when, _labels(ctx.layout))
        text = f"Optional for {ctx.spec.wording.subject}: required only when {cond}. Complete it where it helps."
        value = "" if ev.flag(sl.required_flag) else text
        formula = f'=IF({sl.required_flag},"",{string_literal(text)})'
        texts = [text]
    else:
        _unused(ws, BANNER_ROW)  # the section always applies and is always required: nothing to say
        return
    ws.merge_range(BANNER_ROW, 0, BANNER_ROW, last_col, "", ctx.fmt.banner)
    ctx.formula(ws, BANNER_ROW, 0, formula, ctx.fmt.banner, value)
    # A formula's text: neither program refits the row when it changes, so it is sized for the text.
    ws.set_row(BANNER_ROW, snug_for([(t, ws.span(0, last_col)) for t in texts], bold=True))


def _unused(ws: FastWorksheet, row: int) -> None:
    """A row of the sheet's top this section has nothing for: hidden, so it takes no room on screen or paper."""
    ws.set_row(row, 0, None, {"hidden": True})


def waiting_text(layout: Layout, refs: list[str], what: str, *, here: str | None = None) -> str:
    """'Answer "X" on the Case profile first: it decides whether ...' for the answers something waits for."""
    known = [r for r in dict.fromkeys(refs) if r in layout.by_ref]
    labels = " and ".join(f'"{layout.by_ref[r].label}"' for r in known)
    where = waiting_words(layout, known)
    place = "above" if where == here else f"on the {where}"
    return f"Answer {labels} {place} first: {'they decide' if len(known) > 1 else 'it decides'} whether {what}."


def _labels(layout: Layout) -> Callable[[str], str]:
    """A field's label by its reference ("section.field"), as conditions are put in words."""
    return lambda ref: layout.by_ref[ref].label


def _long_row(ws: FastWorksheet, row: int, text: str, last_col: int, fmt: Format) -> None:
    """Fixed text across the sheet's columns, in a row as tall as the text needs."""
    ws.merge_range(row, 0, row, last_col, text, fmt)
    ws.set_row(row, snug_for([(text, ws.span(0, last_col))]))


def _form(ctx: Context, ws: FastWorksheet, sl: SectionLayout, cells: InputCells) -> None:
    """A form's questions (numbered, with their criteria, when judged), each long entry in the box under it."""
    judged = sl.section.kind == "judged"
    ws.set_widths(FORM_WIDTHS)
    _top(ctx, ws, sl, CRITERIA_COL)
    heads = ("#", "Question (the evidence goes in the box under it)", "Answer",
             ctx.spec.wording.criteria_column) if judged else \
        ("", "Field (long entries go in the box under their label)", "Entry", "")
    for col, text in enumerate(heads):
        ws.write_string(HEADER_ROW, col, text, ctx.fmt.header)
    fields = {f.id: f for f in ctx.spec.fields_of(sl.section)}
    number = 0
    for inp in sl.inputs:
        cells.write(inp)
        f = fields.get(inp.field)
        if f is None:  # a question's evidence, in the box under its answer
            ws.fit_row(inp.row, snug(EVIDENCE_LINES))
            continue
        if f.type == "question":
            number += 1
            ws.write_number(inp.label_at, NUM_COL, number, ctx.fmt.text)
        if f.criteria:
            ws.write_string(inp.label_at, CRITERIA_COL, ", ".join(f.criteria), ctx.fmt.refs)
        _label(ctx, ws, sl, inp, f.applies_when)
        if inp.label_row is not None:
            ws.fit_row(inp.row, snug(LONG_TEXT_LINES))
    for inp in sl.inputs:  # a label prints with the box under it
        if inp.label_row is not None:
            ws.keep_together(inp.label_row, inp.row)
    if judged:
        _keep_judgement(ctx.layout, ws, sl)


def _keep_judgement(layout: Layout, ws: FastWorksheet, sl: SectionLayout) -> None:
    """The section's grade and theme tags print together, with what needs to improve before them."""
    grade = layout.section_input(sl, Role.SECTION_GRADE)
    if grade is None:
        return
    improve = layout.section_input(sl, Role.TO_IMPROVE)
    block = [grade, *layout.theme_inputs(sl), *([improve] if improve is not None else [])]
    ws.keep_together(min(i.label_at for i in block), max(i.row for i in block))

def _label(ctx: Context, ws: FastWorksheet, sl: SectionLayout, inp: Input, own: Condition | None) -> None:
    """The question's label: a star when it must be answered, and, as its own banner, why it does not apply or
    what it waits for. No star while the section does not apply, waits for an answer or is optional for this
    audit; in a section that does not apply, a question with a condition of its own gives the section's reason
    (its own condition is beside the point). Its help is on the lines under it, and its row is as tall as the
    longest thing it can say."""
    plain = inp.label
    label = plain + (" *" if inp.required else "")
    if inp.derived is not None:
        label = f"{plain} ({derived_words(inp.derived, _labels(ctx.layout))})"
    formula, shown = string_literal(label), label
    texts = [label]
    gate = sl.required_flag or sl.applies_flag
    if inp.required and gate:
        formula, shown = f"IF({gate},{formula},{string_literal(plain)})", label if ctx.ev.flag(gate) else plain
        texts.append(plain)
    if own is not None and inp.applies_flag and inp.waiting_flag:
        off = f"{plain} (does not apply: {inp.not_applicable_because})"
        off_formula, off_shown = string_literal(off), off
        if sl.applies_flag and sl.section.not_applicable_because:
            section_off = f"{plain} (does not apply: {sl.section.not_applicable_because})"
            off_formula = f"IF({sl.applies_flag},{off_formula},{string_literal(section_off)})"
            off_shown = off if ctx.ev.flag(sl.applies_flag) else section_off
            texts.append(section_off)
        wait = f"{plain} ({waiting_text(ctx.layout, list(fields_in(own)), 'it applies', here=sl.sheet)})"
        if sl.waiting_flag:  # while the section waits, its banner says what for
            wait_formula = f"IF({sl.waiting_flag},{string_literal(plain)},{string_literal(wait)})"
            wait_shown = plain if ctx.ev.value(sl.waiting_flag) else wait
        else:
            wait_formula, wait_shown = string_literal(wait), wait
        formula = f"IF({inp.waiting_flag},{wait_formula},IF({inp.applies_flag},{formula},{off_formula}))"
        shown = wait_shown if ctx.ev.value(inp.waiting_flag) else shown if ctx.ev.flag(inp.applies_flag) \
            else off_shown
        texts += [off, wait]
    help_text = help_of(ctx.spec, inp)
    row, width = inp.label_at, ws.widths[LABEL_COL]
    below = "\n" + help_text if help_text else ""
    if formula.startswith('"') and formula == string_literal(shown):
        if help_text:
            ws.write_rich_string(row, LABEL_COL, shown + "\n", ctx.fmt.help_run, help_text, ctx.fmt.text)
        else:
            ws.write_string(row, LABEL_COL, shown, ctx.fmt.text)
        ws.fit_row(row, snug(text_lines(shown + below, width)))
        return
    if help_text:
        formula += f"&CHAR(10)&{string_literal(help_text)}"
        shown += below
    ctx.formula(ws, row, LABEL_COL, "=" + formula, ctx.fmt.text, shown)
    # A formula's text: neither program refits the row when it changes, so it is sized for the longest.
    ws.set_row(row, snug_for([(t + below, width) for t in texts]))


def column_width(spec: Spec, f: FieldSpec) -> float:
    """A table column's width: by its type, a choice column as wide as its longest choice (within CHOICE_WIDTHS)
    and never narrower than the longest word of its label (a yes / no column is narrow: the page fits more)."""
    kind = "choice" if f.type == "question" else f.type
    values = spec.lists.get(choice_list_of(f) or "", []) if kind == "choice" else []
    if not values:
        return TABLE_WIDTHS[kind]
    word = max(len(w) for w in (f.label + " *").split())
    return min(CHOICE_WIDTHS[1], max(CHOICE_WIDTHS[0], word + 1, max(len(v) for v in values) + 2))


def _table(ctx: Context, ws: FastWorksheet, sl: SectionLayout, cells: InputCells) -> None:
    """A table: a numbered row per entry, a column per field."""
    fields = sl.section.fields
    last_col = TABLE_FIRST_COL + len(fields) - 1
    ws.set_widths([4, *(column_width(ctx.spec, f) for f in fields)])
    _top(ctx, ws, sl, last_col)
    ws.write_string(HEADER_ROW, 0, "#", ctx.fmt.header)
    for c, f in enumerate(fields):
        label = f.label + (" *" if f.required else "")
        ws.write_string(HEADER_ROW, TABLE_FIRST_COL + c, label, ctx.fmt.header)
    ws.set_row(HEADER_ROW, snug_for([(f.label + " *", ws.widths[TABLE_FIRST_COL + c])
                                     for c, f in enumerate(fields)], bold=True))
    for inp in sl.inputs:
        if inp.col == TABLE_FIRST_COL:
            ws.write_number(inp.row, 0, inp.row_index or 0, ctx.fmt.text)
            ws.fit_row(inp.row, snug(TABLE_ROW_LINES))
        cells.write(inp)
    ws.keep_together(sl.last_row - 1, sl.last_row)  # never one row alone on the last page
