"""What has been collected (sqlite3): each file's fingerprint and the report read from it.

A second collect over an unchanged folder reads no workbook: a file whose size and modification time
match its row is taken from here; one whose time changed but whose SHA-256 did not is not validated again.

The ledger records the folder it belongs to and refuses another. Every stored report and remembered
outcome is signed (HMAC-SHA256) with a key kept in the collator's own data folder, never in the ledger:
a row edited by someone who can write to the ledger but not to that folder is detected, not believed.

Schema (other modules may add their own tables; each runs inside the one transaction a collect holds):
    files(path TEXT PRIMARY KEY, size, mtime_ns, sha256, report, registry, present, mac)
    meta(key TEXT PRIMARY KEY, value, mac)   -- folder, schema, state, master_sha256, outcome
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from auditbook.errors import CollectError
from auditbook.problems import Problem
from auditbook.returns.audit import Audit
from auditbook.returns.report import Report
from auditbook.text import name_key
from auditbook.userdata import ledger_key

#: Bumped when the tables change: a ledger of another schema has its files and meta tables made afresh.
SCHEMA_VERSION = "3"
SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    report TEXT NOT NULL,
    registry TEXT NOT NULL,
    present INTEGER NOT NULL DEFAULT 1,
    mac TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL, mac TEXT NOT NULL DEFAULT '');
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
    #: The row's signature checks out: it is as this collator's auditbook wrote it.
    intact: bool = True

    @property
    def report(self) -> Report:
        """The stored report (parsed only when asked for: an unchanged folder never needs it)."""
        return report_from_json(self.report_json)


#: Bumped when what is stored changes, so older rows are read afresh rather than misread.
FORMAT = "4"


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
    """The sqlite ledger, held under a write lock for the whole of one collect.

    `folder` binds a new ledger to the collected folder and refuses a ledger bound to another one.
    The connection (`db`) is in autocommit mode with one explicit transaction (BEGIN IMMEDIATE ... COMMIT)
    around the whole collect: add tables with CREATE TABLE IF NOT EXISTS and write through `db` in between.
    """

    def __init__(self, path: Path, *, folder: str | None = None, wait_seconds: float = 5.0) -> None:
        self.path = path
        self.key = ledger_key()
        if path.is_dir():
            raise CollectError(f"the ledger path {path} is a folder. Give --ledger a file name, e.g. "
                               f"{path / 'ledger.sqlite3'}.")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(path, timeout=wait_seconds, isolation_level=None)
            # Taking the write lock now makes a second collect on the same ledger wait, then refuse.
            self.db.execute("BEGIN IMMEDIATE")
            self._schema()
        except sqlite3.OperationalError as err:
            self._close_quietly()
            if "locked" in str(err):
                raise CollectError(f"another collect is running on the ledger {path} (waited {wait_seconds:g} s). "
                                   "Wait for it to finish, then run again.") from None
            raise CollectError(f"cannot open the ledger {path}: {err}. Check the folder is writable, or give "
                               "--ledger another path.") from None
        except sqlite3.DatabaseError as err:
            self._close_quietly()
            raise CollectError(f"the ledger {path} is damaged ({err}). Move it aside and collect again: every "
                               "file will be read afresh.") from None
        except OSError as err:
            raise CollectError(f"cannot create the ledger {path} ({err.strerror}). Check the folder is writable, "
                               "or give --ledger another path.") from None
        if folder is not None:
            try:
                self._bind(folder)
            except BaseException:
                self.close()
                raise

    def _close_quietly(self) -> None:
        db = getattr(self, "db", None)
        if db is not None:
            db.close()

    def _schema(self) -> None:
        tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        version = None
        if "meta" in tables:
            cols = {r[1] for r in self.db.execute("PRAGMA table_info(meta)")}
            if "mac" in cols:
                row = self.db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
                version = None if row is None else str(row[0])
        if version != SCHEMA_VERSION and tables & {"files", "meta"}:
            # An older ledger: what it remembers is read afresh (its folder binding is kept when it had one).
            self.db.execute("DROP TABLE IF EXISTS files")
            self.db.execute("DROP TABLE IF EXISTS meta")
        for statement in SCHEMA.split(";"):
            if statement.strip():
                self.db.execute(statement)
        self.db.execute("INSERT OR REPLACE INTO meta (key, value, mac) VALUES ('schema', ?, '')", (SCHEMA_VERSION,))

    def _bind(self, folder: str) -> None:
        shown = name_key(folder)
        row = self.db.execute("SELECT value FROM meta WHERE key = 'folder'").fetchone()
        if row is not None and str(row[0]) != shown:
            raise CollectError(f"the ledger {self.path} belongs to the folder {name_key(str(row[0]))}, not {shown}. "
                               "Collect that folder, or give --ledger a new path for this one.")
        if self.get_meta("folder") is None:
            self.set_meta("folder", shown)

    def sign(self, *parts: str) -> str:
        """The signature of some stored text under this collator's key."""
        mac = hmac.new(self.key, digestmod=hashlib.sha256)
        for part in parts:
            data = part.encode("utf-8", errors="surrogatepass")
            mac.update(len(data).to_bytes(8, "big"))
            mac.update(data)
        return mac.hexdigest()

    def _signed(self, stored: object, *parts: object) -> bool:
        return isinstance(stored, str) and hmac.compare_digest(stored, self.sign(*(str(p) for p in parts)))

    def entries(self) -> dict[str, Entry]:
        """Every remembered file by path; a row that was edited or is malformed comes back not intact."""
        out: dict[str, Entry] = {}
        for r in self.db.execute("SELECT path, size, mtime_ns, sha256, report, registry, present, mac FROM files"):
            path = str(r[0])
            try:
                intact = self._signed(r[7], "file", r[0], r[3], r[4], r[5])
                out[path] = Entry(path, int(r[1]), int(r[2]), str(r[3]), str(r[4]), str(r[5]), bool(r[6]), intact)
            except (TypeError, ValueError):
                out[path] = Entry(path, -1, -1, "", "", "", True, intact=False)
        return out

    def get_meta(self, key: str) -> str | None:
        """A remembered value about the last run (None when absent or not as this collator wrote it)."""
        row = self.db.execute("SELECT value, mac FROM meta WHERE key = ?", (key,)).fetchone()
        if row is None or not self._signed(row[1], "meta", key, row[0]):
            return None
        return str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        """Remember a value about this run."""
        self.db.execute("INSERT OR REPLACE INTO meta (key, value, mac) VALUES (?, ?, ?)",
                        (key, value, self.sign("meta", key, value)))

    def put(self, path: str, *, size: int, mtime_ns: int, sha256: str, report: Report, registry: str) -> None:
        """Remember a file and what it held."""
        text = report_to_json(report)
        self.db.execute(
            "INSERT OR REPLACE INTO files (path, size, mtime_ns, sha256, report, registry, present, mac) "
            "VALUES (?, ?, ?, ?, ?, ?, 1, ?)",
            (path, size, mtime_ns, sha256, text, registry, self.sign("file", path, sha256, text, registry)))

    def touch(self, path: str, *, size: int, mtime_ns: int, present: bool = True) -> None:
        """Record a file's new time (same content) or that it is gone from the folder."""
        self.db.execute("UPDATE files SET size = ?, mtime_ns = ?, present = ? WHERE path = ?",
                        (size, mtime_ns, int(present), path))

    def forget(self, path: str) -> bool:
        """Drop a file's row and what was read from it; whether there was one."""
        return self.db.execute("DELETE FROM files WHERE path = ?", (path,)).rowcount > 0

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
