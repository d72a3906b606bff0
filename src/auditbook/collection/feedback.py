"""Feedback notes for the auditors of a collected folder: what validating each return found, by auditor."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from auditbook.collection.session import Options, Session
from auditbook.returns.audit import round_of
from auditbook.returns.feedback import write_feedback
from auditbook.text import norm


def folder_feedback(folder: Path, opts: Options, out: Path, *, checked: date) -> list[Path]:
    """Write one note per auditor into `out` for the returns in `folder` (of `opts.round_name` when given), as the
    ledger remembers them after a collect; the paths written."""
    with Session(folder, opts, existing=True) as session:
        registry = session.registry
        sources = session.scan().sources(registry)
    wanted = opts.round_name
    reports = [s.report for s in sources if s.present and (
        wanted is None or (s.report.audit is not None and norm(round_of(s.report.audit, opts.rounds)) == norm(wanted)))]
    return write_feedback(sorted(reports, key=lambda r: r.file), out, registry=registry, checked=checked)
