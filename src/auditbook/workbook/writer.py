"""The audit workbook, written with xlsxwriter: the sheets in order, atomically, then locked.

Each kind of sheet has its own writer (start, summary, sections, criteria, lists, metadata), each handed the
one Context (context.py) the workbook is written from.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from auditbook.atomic import replacing
from auditbook.errors import WorkbookError
from auditbook.local import LocalDetails
from auditbook.spec.layout import LISTS_SHEET, META_SHEET, START_SHEET, SUMMARY_SHEET, build_layout
from auditbook.spec.metadata import Metadata, new_metadata
from auditbook.spec.models import Spec
from auditbook.workbook import criteria, lists, metadata, sections, start, summary
from auditbook.workbook.context import Answer, Context, new_context
from auditbook.workbook.protect import LockedWorkbook
from auditbook.workbook.xlsx import strict

Prefill = Mapping[str, Answer]


def build_workbook(
    spec: Spec,
    *,
    out: Path,
    prefill: Prefill | None = None,
    lock_prefill: bool = False,
    password: str = "",
    meta: Metadata | None = None,
    local: LocalDetails | None = None,
) -> Path:
    """Write the audit workbook for a spec to `out` (atomically) and return the path.

    `prefill` maps input defined names (e.g. "profile_case_ref") to starting values; `local` gives the
    authority's own details for the Start sheet.
    """
    layout = build_layout(spec)
    values = dict(prefill or {})
    unknown = sorted(set(values) - set(layout.by_name))
    if unknown:
        raise WorkbookError(f"cannot prefill {', '.join(unknown)}: the spec has no such input.")
    derived = sorted(n for n in values if layout.by_name[n].derived is not None)
    if derived:
        raise WorkbookError(f"cannot prefill {', '.join(derived)}: worked out from other answers by the workbook.")
    meta = meta or new_metadata(spec)
    with replacing(out) as tmp, strict():
        wb = LockedWorkbook(str(tmp), password=password)
        _write_sheets(new_context(spec, wb, prefill=values, lock_prefill=lock_prefill, password=password,
                                  meta=meta, local=local))
        wb.close()
    return out


def _write_sheets(ctx: Context) -> None:
    """Every sheet, added in the order a person meets them, then written one by one, paginated and hidden."""
    metadata.properties(ctx)
    start_ws = ctx.sheet(START_SHEET)
    summary_ws = ctx.sheet(SUMMARY_SHEET)
    section_sheets = [(sl, ctx.sheet(sl.sheet)) for sl in ctx.layout.sections]
    criteria_ws = ctx.sheet(ctx.spec.wording.criteria_sheet)
    lists_ws = ctx.sheet(LISTS_SHEET)
    meta_ws = ctx.sheet(META_SHEET)
    lists.write(ctx, lists_ws)
    for sl, ws in section_sheets:
        sections.write(ctx, ws, sl)
    start.write(ctx, start_ws)
    summary.write(ctx, summary_ws)
    criteria.write(ctx, criteria_ws)
    metadata.write(ctx, meta_ws)
    for ws in (start_ws, summary_ws, *(ws for _sl, ws in section_sheets), criteria_ws):
        ws.paginate()
    lists_ws.hide()
    meta_ws.very_hidden()
    start_ws.activate()
