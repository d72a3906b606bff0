"""What has been collected (sqlite3): each file's fingerprint and the report read from it.

A second collect over an unchanged folder reads no workbook: a file whose size and modification time
match its row is taken from here; one whose time changed but whose SHA-256 did not is not validated again.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from auditbook.errors import CollectError
from auditbook.problems import Problem
from auditbook.returns.audit import Audit
from auditbook.returns.report import Report

SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    report TEXT NOT NULL,
    registry TEXT NOT NULL,
    present INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True)
class Entry:
    """One file as the ledger remembers it."""

    path: str
    size: int
    mtime_ns: int
    sha256: str
    report_json: str
    registry: str
    present: bool

    @property
    def report(self) -> Report:
        """The stored report (parsed only when asked for: an unchanged folder never needs it)."""
        return report_from_json(self.report_json)


#: Bumped when what is stored changes, so older rows are read afresh rather than misread.
FORMAT = "2"


def _encode(value: object) -> object:
    # Dates are tagged: an answer can be text that merely looks like a date, and must come back as text.
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    raise TypeError(type(value).__name__)


def _decode(d: dict[str, object]) -> object:
    return date.fromisoformat(str(d["$date"])) if d.keys() == {"$date"} else d


def report_to_json(report: Report) -> str:
    """A report as stored in the ledger."""
    return json.dumps({
        "file": report.file, "skipped": report.skipped,
        "problems": [p.as_dict() for p in report.problems],
        "audit": None if report.audit is None else report.audit.model_dump(mode="python"),
    }, default=_encode)


def report_from_json(text: str) -> Report:
    """A report read back from the ledger."""
    data = json.loads(text, object_hook=_decode)
    problems = [Problem.from_dict(p) for p in data["problems"]]
    audit = None if data["audit"] is None else Audit.model_validate(data["audit"])
    return Report(file=data["file"], problems=problems, audit=audit, skipped=data["skipped"])


class Ledger:
    """The sqlite ledger, held under a write lock for the whole of one collect."""

    def __init__(self, path: Path, *, wait_seconds: float = 5.0) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        try:
            self.db = sqlite3.connect(path, timeout=wait_seconds, isolation_level=None)
            self.db.executescript(SCHEMA)
            # Taking the write lock now makes a second collect on the same ledger wait, then refuse.
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as err:
            if "locked" in str(err):
                raise CollectError(f"another collect is running on the ledger {path} (waited {wait_seconds:g} s). "
                                   "Wait for it to finish, then run again.") from None
            raise CollectError(f"cannot open the ledger {path}: {err}. Check the folder is writable, or give "
                               "--ledger another path.") from None
        except sqlite3.DatabaseError as err:
            raise CollectError(f"the ledger {path} is damaged ({err}). Move it aside and collect again: every "
                               "file will be read afresh.") from None

    def entries(self) -> dict[str, Entry]:
        """Every remembered file by path."""
        rows = self.db.execute("SELECT path, size, mtime_ns, sha256, report, registry, present FROM files")
        return {r[0]: Entry(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6])) for r in rows}

    def get_meta(self, key: str) -> str | None:
        """A remembered value about the last run."""
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        """Remember a value about this run."""
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def put(self, path: str, *, size: int, mtime_ns: int, sha256: str, report: Report, registry: str) -> None:
        """Remember a file and what it held."""
        self.db.execute(
            "INSERT OR REPLACE INTO files (path, size, mtime_ns, sha256, report, registry, present) "
            "VALUES (?, ?, ?, ?, ?, ?, 1)", (path, size, mtime_ns, sha256, report_to_json(report), registry))

    def touch(self, path: str, *, size: int, mtime_ns: int, present: bool = True) -> None:
        """Record a file's new time (same content) or that it is gone from the folder."""
        self.db.execute("UPDATE files SET size = ?, mtime_ns = ?, present = ? WHERE path = ?",
                        (size, mtime_ns, int(present), path))

    def forget(self, path: str) -> None:
        """Drop a file's row (it was moved or renamed: the same return is there under another name)."""
        self.db.execute("DELETE FROM files WHERE path = ?", (path,))

    def mark_missing(self, path: str) -> None:
        """The file has vanished from the folder: keep its audit, flag it."""
        self.db.execute("UPDATE files SET present = 0 WHERE path = ?", (path,))

    def commit(self) -> None:
        """Make this run's changes permanent and release the lock."""
        self.db.execute("COMMIT")

    def close(self) -> None:
        """Release the lock without keeping uncommitted changes."""
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")
        self.db.close()
