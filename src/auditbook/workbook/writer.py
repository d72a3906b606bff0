"""The audit workbook, written with xlsxwriter: the sheets in order, atomically, then locked."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path

from auditbook.atomic import replacing
from auditbook.errors import WorkbookError
from auditbook.local import LocalDetails
from auditbook.spec.layout import (
    LISTS_SHEET,
    META_SHEET,
    START_SHEET,
    SUMMARY_SHEET,
    build_layout,
)
from auditbook.spec.metadata import Metadata, new_metadata
from auditbook.spec.models import Spec
from auditbook.workbook.protect import LockedWorkbook
from auditbook.workbook.sections import SectionSheets
from auditbook.workbook.sheets import FixedSheets
from auditbook.workbook.summary import SummarySheet
from auditbook.workbook.xlsx import strict

Prefill = Mapping[str, str | int | date]


class _AuditWorkbook(SummarySheet, SectionSheets, FixedSheets):
    """Writes one audit workbook for a spec, sheet by sheet."""

    def write(self) -> None:
        self._properties()
        start = self._sheet(START_SHEET)
        summary = self._sheet(SUMMARY_SHEET)
        section_sheets = [(sl, self._sheet(sl.sheet)) for sl in self.layout.sections]
        criteria = self._sheet(self.spec.wording.criteria_sheet)
        lists = self._sheet(LISTS_SHEET)
        meta = self._sheet(META_SHEET)
        self._lists(lists)
        self._check_cells(lists)
        for sl, ws in section_sheets:
            if sl.section.kind == "table":
                self._table_section(ws, sl)
            else:
                self._form_section(ws, sl)
            self._flush_rules(ws)
        self._start(start)
        self._summary(summary)
        self._criteria(criteria)
        self._metadata(meta)
        for ws in (start, summary, *(ws for _sl, ws in section_sheets), criteria):
            ws.paginate()
        lists.hide()
        meta.very_hidden()
        start.activate()


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
        _AuditWorkbook(spec, wb, prefill=values, lock_prefill=lock_prefill, password=password, meta=meta,
                       local=local).write()
        wb.close()
    return out
