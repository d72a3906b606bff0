"""Generate one prefilled, locked workbook per allocated case, all or nothing."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from auditbook.collection.allocation import Allocated
from auditbook.errors import AuditbookError
from auditbook.spec import Spec
from auditbook.text import slug
from auditbook.workbook.generate import role_prefill
from auditbook.workbook.layout import build_layout
from auditbook.workbook.writer import build_workbook


def workbook_name(a: Allocated) -> str:
    """A name a person can read and sort: round, team, case reference."""
    return f"{slug(a.round_key)}_{slug(a.team)}_{slug(a.case_ref)}.xlsx"


def allocate(spec: Spec, rows: list[Allocated], *, out: Path,
             progress: Callable[[int, int], None] | None = None) -> list[Path]:
    """Write every row's workbook into `out`; on any failure, none of them is left behind."""
    targets = [out / workbook_name(a) for a in rows]
    if len(set(targets)) != len(targets):
        raise AuditbookError("two rows of the allocation list would write the same workbook name; give each case "
                             "and round its own row.")
    existing = [t.name for t in targets if t.exists()]
    if existing:
        shown = ", ".join(existing[:5]) + (f" and {len(existing) - 5} more" if len(existing) > 5 else "")
        raise AuditbookError(f"{out}: {shown} already exist(s); an auditor may have started on them. Choose "
                             "another --out folder, or move those files away first.")
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".auditbook-allocate-", dir=out))
    layout = build_layout(spec)
    try:
        for i, (a, target) in enumerate(zip(rows, targets, strict=True), start=1):
            prefill = role_prefill(layout, case_ref=a.case_ref, auditor=a.auditor, team=a.team, month=a.month,
                                   worker=a.worker, team_manager=a.team_manager, round_name=a.round)
            build_workbook(spec, out=staging / target.name, prefill=prefill, lock_prefill=True)
            if progress:
                progress(i, len(rows))
        for target in targets:
            (staging / target.name).replace(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return targets
