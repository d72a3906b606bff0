"""What has been collected (sqlite3): each file's fingerprint and the report read from it.

A second collect over an unchanged folder reads no workbook: a file whose size and modification time
match its row is taken from here; one whose time changed but whose SHA-256 did not is not validated again.

The ledger records the folder it belongs to and refuses another. Every row it holds is signed
(HMAC-SHA256) with a key kept in the collator's own data folder, never in the ledger, and with the ledger's
own random id: a row edited by someone who can write to the ledger but not to that folder is detected, not
believed; a row copied from another ledger does not check out; a file's row removed with --forget leaves a
signed tombstone, so a copy of it put back is not believed either.

Schema (tables.py lists the others: rounds, action_register, action_seen, sag_plan; each is used inside the
one transaction a collect holds):
    files(path TEXT PRIMARY KEY, size, mtime_ns, sha256, report, registry, present, mac, stat_mac)
    meta(key TEXT PRIMARY KEY, value, mac)   -- ledger_id, folder, schema, state, master_sha256, outcome, ...

A report is stored as reports.py writes it. The meta table is written by this module alone: the ledger's own
keys, and what the last run wrote (the master's and packs' SHA-256, the packs folder, the master's state).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import json
import secrets
import sqlite3
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISREG

from auditbook.errors import CollectError
from auditbook.fingerprint import large_key
from auditbook.returns.report import Report
from auditbook.returns.safety import open_regular
from auditbook.store.reports import report_to_json
from auditbook.store.tables import TABLES, Table
from auditbook.text import name_key
from auditbook.userdata import ENV as DATA_ENV
from auditbook.userdata import data_dir, ledger_key

#: Bumped when the tables change. Version 3 ledgers are upgraded in place (what checks out under version 3's
#: signatures is signed again, what does not stays detectably altered); older ones have their files and meta
#: tables made afresh, keeping the folder they belong to.
SCHEMA_VERSION = "4"
SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    report TEXT NOT NULL,
    registry TEXT NOT NULL,
    present INTEGER NOT NULL DEFAULT 1,
    mac TEXT NOT NULL,
    stat_mac TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL, mac TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS pieces (
    key TEXT PRIMARY KEY,
    data BLOB NOT NULL,
    crc INTEGER NOT NULL,
    size INTEGER NOT NULL,
    rows INTEGER NOT NULL,
    strings INTEGER NOT NULL,
    first INTEGER NOT NULL,
    mac TEXT NOT NULL
);
"""
_TOMBSTONE = "forgotten:"
_PACK_NAME = "pack_name:"
_PACK_SHA = "pack_sha256:"
#: The SHA-256 of the rows a replacement of some rows of a table (Ledger.replace_rows) left, by the table and rows.
_ROWS_SHA = "rows_sha256:"


#: A piece of the master kept for the next (pieces.py): deflated data, its CRC-32 and length, and of the rows it
#: holds how many, how many shared-string cells, the first's number (outputs/zipraw.Segment).
Piece = tuple[bytes, int, int, int, int, int]
_PIECE_NUMBERS = "crc, size, rows, strings, first"

_FILE_COLUMNS = "path, size, mtime_ns, sha256, report, registry, present, mac, stat_mac"
#: The outputs whose edits are read back, as the ledger names them: the master, and each pack by its file name.
MASTER = "master"


def pack_source(pack: Path) -> str:
    """The ledger's name for a team manager's pack."""
    return f"pack:{pack.name}"


def _written_key(source: str) -> str:
    # The keys ledgers already hold: a master's or pack's SHA-256 when auditbook last wrote or read it.
    return "master_sha256" if source == MASTER else f"{_PACK_SHA}{source.removeprefix('pack:')}"


def _rows_sha(rows: Sequence[Sequence[object]]) -> str:
    """The SHA-256 of some rows as read from the ledger, their signatures included (repr tells 1 from '1' and None)."""
    return hashlib.sha256(repr(rows).encode("utf-8", errors="backslashreplace")).hexdigest()


def _stat_of(path: Path) -> str:
    """A regular file's size and modification time as the ledger keeps them ("" when it is not one)."""
    try:
        st = path.stat()
    except OSError:
        return ""
    return f"{st.st_size}:{st.st_mtime_ns}" if S_ISREG(st.st_mode) else ""


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
    #: The stored report is parsed (reports.report_from_json) only when asked for: an unchanged folder never needs it.


def unsaved(path: Path, err: BaseException) -> str:
    """What to say when the ledger cannot be written: where it is, why, and that nothing of this run was kept."""
    why = getattr(err, "strerror", None) or str(err) or type(err).__name__
    return (f"the ledger {name_key(str(path))} could not be written ({why}); nothing of this run was kept and the "
            "master is unchanged. Free some space where the ledger is (or give --ledger another place), then collect "
            "again.")


def file_hash(path: Path, limit: int) -> str:
    """SHA-256 of a regular file's bytes, refusing pipes and devices (even one swapped in after it was listed)."""
    f, st = open_regular(path)
    with f:
        if st.st_size > limit:
            return large_key(st.st_size, st.st_mtime_ns)  # refused unread by validate; never hashed
        h = hashlib.sha256()
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
        return h.hexdigest()


def output_sha(path: Path) -> str | None:
    """The SHA-256 of the master (or a pack), or None when it is missing or not a regular file (never blocks on a
    pipe)."""
    try:
        return file_hash(path, limit=1 << 62)
    except OSError:
        return None


class Ledger:
    """The sqlite ledger, held under a write lock for the whole of one collect.

    `folder` binds a new ledger to the collected folder and refuses a ledger bound to another one.
    The connection (`db`) is in autocommit mode with one explicit transaction (BEGIN IMMEDIATE ... COMMIT)
    around the whole collect: the signed tables of tables.py are read and written through `rows` and `put_row`.
    """

    def __init__(self, path: Path, *, folder: str | None = None, wait_seconds: float = 5.0) -> None:
        self.path = path
        try:
            self.key = ledger_key()
        except OSError as err:
            raise CollectError(f"cannot keep the ledger key in your data folder {name_key(str(data_dir()))} "
                               f"({err.strerror or err}). Check that folder can be written, or set {DATA_ENV} to one "
                               "that can.") from None
        self.id = ""
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
        except CollectError:
            self._close_quietly()
            raise
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

    # -- the schema, and upgrading an older ledger in place ------------------------------------------

    def _columns(self, table: str) -> set[str]:
        return {str(r[1]) for r in self.db.execute(f"PRAGMA table_info({table})")}

    def _schema(self) -> None:
        tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        version, folder = self._version(tables)
        if version not in (None, "3", SCHEMA_VERSION):
            raise CollectError(f"the ledger {self.path} was made by another version of auditbook (ledger schema "
                               f"{name_key(version or '')[:20]}). Use that version, or move the ledger aside and "
                               "collect again: every file is read afresh.")
        if version is None and tables & {"files", "meta"}:
            # An older ledger: what it remembers is read afresh; the folder it belongs to is kept.
            self.db.execute("DROP TABLE IF EXISTS files")
            self.db.execute("DROP TABLE IF EXISTS meta")
        self._create()
        old_key = self._old_id()
        if version == "3" and not old_key:
            self._upgrade_3(tables)
        elif old_key:
            self.id = old_key
        else:
            self._new_id()
        if version is None and folder is not None:
            self._set_meta("folder", folder)
        self._set_meta("schema", SCHEMA_VERSION)

    def _version(self, tables: set[str]) -> tuple[str | None, str | None]:
        """The schema version a ledger says it has (None before version 3 signed its meta), and its folder."""
        if "meta" not in tables:
            return None, None
        row = self.db.execute("SELECT value FROM meta WHERE key = 'folder'").fetchone()
        folder = None if row is None else str(row[0])
        if "mac" not in self._columns("meta"):
            return None, folder
        row = self.db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        return None if row is None else str(row[0]), folder

    def _create(self) -> None:
        """Every table, and the signature column of each (added unsigned to version 3's, or one removed by hand)."""
        if self._columns("pieces") - {"key", "data", "mac", *_PIECE_NUMBERS.split(", ")}:
            # Pieces kept in another shape (by another version): only ever made again, so dropped.
            self.db.execute("DROP TABLE pieces")
        for statement in SCHEMA.split(";"):
            if statement.strip():
                self.db.execute(statement)
        for table in TABLES:
            self.db.execute(table.create)
            if "mac" not in self._columns(table.name):
                self.db.execute(f"ALTER TABLE {table.name} ADD COLUMN mac TEXT NOT NULL DEFAULT ''")

    def _old_id(self) -> str:
        row = self.db.execute("SELECT value, mac FROM meta WHERE key = 'ledger_id'").fetchone()
        if row is None or not self._checks(row[1], self._mac(b"ledger_id", str(row[0]))):
            return ""
        return str(row[0])

    def _new_id(self) -> None:
        self.id = secrets.token_hex(16)
        self.db.execute("INSERT OR REPLACE INTO meta (key, value, mac) VALUES ('ledger_id', ?, ?)",
                        (self.id, self._mac(b"ledger_id", self.id)))

    def _upgrade_3(self, tables: set[str]) -> None:
        """Version 3 signed files and meta without a ledger id and left the other tables unsigned: sign again
        what checks out under version 3's signatures (the rest stays detectably altered), and sign the other
        tables' rows as they are, once."""
        self._new_id()
        if "stat_mac" not in self._columns("files"):
            self.db.execute("ALTER TABLE files ADD COLUMN stat_mac TEXT NOT NULL DEFAULT ''")
        for path, sha, report, registry, mac in self.db.execute(
                "SELECT path, sha256, report, registry, mac FROM files").fetchall():
            if self._checks(mac, self._mac(None, "file", path, sha, report, registry)):
                self.db.execute("UPDATE files SET mac = ? WHERE path = ?",
                                (self.sign("file", path, sha, report, registry), path))
        for key, value, mac in self.db.execute("SELECT key, value, mac FROM meta").fetchall():
            if key not in ("ledger_id", "schema") and self._checks(mac, self._mac(None, "meta", key, value)):
                self._set_meta(str(key), str(value))
        for table in TABLES:
            if table.name not in tables:
                continue
            for row in self.db.execute(f"SELECT {', '.join(table.names)} FROM {table.name}").fetchall():
                self.put_row(table, row)

    def _bind(self, folder: str) -> None:
        shown = name_key(folder)
        row = self.db.execute("SELECT value FROM meta WHERE key = 'folder'").fetchone()
        if row is not None and str(row[0]) != shown:
            raise CollectError(f"the ledger {self.path} belongs to the folder {name_key(str(row[0]))}, not {shown}. "
                               "Collect that folder, or give --ledger a new path for this one.")
        if self._get_meta("folder") is None:
            self._set_meta("folder", shown)

    # -- signatures ----------------------------------------------------------------------------------

    def _mac(self, ledger_id: bytes | None, *parts: object) -> str:
        # Each part after its length, so no two sets of parts sign alike; one update (every row is checked each run).
        chunks = [] if ledger_id is None else [len(ledger_id).to_bytes(8, "big"), ledger_id]
        for p in parts:
            part = ("" if p is None else str(p)).encode("utf-8", errors="surrogatepass")
            chunks += (len(part).to_bytes(8, "big"), part)
        mac = self._keyed.copy()
        mac.update(b"".join(chunks))
        return mac.hexdigest()

    @functools.cached_property
    def _keyed(self) -> hmac.HMAC:
        """HMAC-SHA256 under the key, set up once and copied for each signature (a third of the time of each)."""
        return hmac.new(self.key, digestmod=hashlib.sha256)

    def sign(self, *parts: object) -> str:
        """The signature of some stored values under this collator's key and this ledger's id (None signs as "")."""
        return self._mac(self.id.encode(), *parts)

    @staticmethod
    def _checks(stored: object, expected: str) -> bool:
        # A signature edited into anything but the hex digits it was (another type, non-ASCII text) never checks out.
        return isinstance(stored, str) and stored.isascii() and hmac.compare_digest(stored, expected)

    def _signed(self, stored: object, *parts: object) -> bool:
        return self._checks(stored, self.sign(*parts))

    # -- the signed tables of tables.py --------------------------------------------------------------

    def rows(self, table: Table, where: str = "", params: Sequence[object] = ()) -> tuple[list[tuple[object, ...]],
                                                                                          list[str]]:
        """The rows of a table that check out, and a line for each that does not (altered outside auditbook)."""
        good: list[tuple[object, ...]] = []
        bad: list[str] = []
        sql = f"SELECT {', '.join(table.names)}, mac FROM {table.name}" + (f" WHERE {where}" if where else "")
        for *values, mac in self.db.execute(sql, tuple(params)):
            if self._signed(mac, table.name, *values):
                good.append(tuple(values))
            else:
                key = ", ".join(name_key(str(v))[:60] for v in values[:table.keys])
                bad.append(f"{table.what} {key}: changed outside auditbook (in the ledger), so left out.")
        return good, bad

    def put_row(self, table: Table, values: Sequence[object]) -> None:
        """Store (or replace) a row of a signed table."""
        marks = ", ".join("?" * (len(table.names) + 1))
        self.db.execute(f"INSERT OR REPLACE INTO {table.name} ({', '.join(table.names)}, mac) VALUES ({marks})",
                        (*values, self.sign(table.name, *values)))

    def replace_rows(self, table: Table, where: str, params: Sequence[object],
                     rows: Sequence[Sequence[object]]) -> None:
        """Make the rows of a table that match `where` exactly `rows`: those already stored as they are, signed, are
        left as they are (most of what a master holds is the same at each collect), the others written, the rest
        deleted.

        The rows left by the last replacement are vouched for as a whole (their SHA-256, kept signed in meta): while
        they are still exactly those, each need not be checked on its own (thousands of signatures a collect); once
        any is changed, added or removed outside this, each row is checked as before."""
        keys = table.names[:table.keys]
        select = (f"SELECT {', '.join(table.names)}, mac FROM {table.name} WHERE {where} "
                  f"ORDER BY {', '.join(keys)}")
        found = self.db.execute(select, tuple(params)).fetchall()
        whole = _ROWS_SHA + json.dumps([table.name, where, *map(str, params)])
        vouched = bool(found) and self._get_meta(whole) == _rows_sha(found)
        stored = {tuple(r[:table.keys]): (tuple(r[:-1]), r[-1]) for r in found}
        for row in rows:
            values = tuple(row)
            kept = stored.pop(values[:table.keys], None)
            if kept is None or kept[0] != values or not (vouched or self._signed(kept[1], table.name, *values)):
                self.put_row(table, values)
        self.db.executemany(f"DELETE FROM {table.name} WHERE {' AND '.join(f'{k} = ?' for k in keys)}", list(stored))
        self._set_meta(whole, _rows_sha(self.db.execute(select, tuple(params)).fetchall()))

    # -- pieces of the master kept to be put in again (pieces.py) -----------------------------------------

    def pieces(self) -> dict[str, Piece]:
        """The kept pieces of the master that check out, by key (one altered outside auditbook is left out: it is
        made again)."""
        kept: dict[str, Piece] = {}
        for key, data, *numbers, mac in self.db.execute(f"SELECT key, data, {_PIECE_NUMBERS}, mac FROM pieces"):
            if (isinstance(data, bytes) and all(type(n) is int for n in numbers)
                    and self._signed(mac, "pieces", key, *numbers, hashlib.sha256(data).hexdigest())):
                kept[str(key)] = (data, *numbers)
        return kept

    def keep_pieces(self, used: Collection[str], new: Mapping[str, Piece]) -> None:
        """Keep the pieces `used` (as they are) and `new` (written, signed); every other stored piece goes."""
        stored = {str(k) for (k,) in self.db.execute("SELECT key FROM pieces")}
        self.db.executemany("DELETE FROM pieces WHERE key = ?", [(k,) for k in stored - set(used) - set(new)])
        self.db.executemany(
            f"INSERT OR REPLACE INTO pieces (key, data, {_PIECE_NUMBERS}, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(k, data, *numbers, self.sign("pieces", k, *numbers, hashlib.sha256(data).hexdigest()))
             for k, (data, *numbers) in new.items()])

    # -- files and meta ------------------------------------------------------------------------------

    def entries(self) -> dict[str, Entry]:
        """Every remembered file by path; a row that was edited, copied in or put back after --forget, or is
        malformed, comes back not intact; one whose size, time or presence was edited comes back to be hashed."""
        forgotten = {k.removeprefix(_TOMBSTONE): v for k, v in self._meta_like(_TOMBSTONE).items()}
        return {str(r[0]): self._entry(r, forgotten)
                for r in self.db.execute(f"SELECT {_FILE_COLUMNS} FROM files")}

    def _entry(self, r: Sequence[object], forgotten: dict[str, str]) -> Entry:
        path = str(r[0])
        try:
            intact = self._signed(r[7], "file", r[0], r[3], r[4], r[5]) and forgotten.get(path) != r[7]
            stat = self._signed(r[8], "stat", r[0], r[1], r[2], r[6])
            size, mtime = (int(str(r[1])), int(str(r[2]))) if stat else (-1, -1)
            return Entry(path, size, mtime, str(r[3]), str(r[4]), str(r[5]), bool(r[6]), intact)
        except (TypeError, ValueError):
            return Entry(path, -1, -1, "", "", "", True, intact=False)

    def _meta_like(self, prefix: str) -> dict[str, str]:
        rows = self.db.execute("SELECT key, value, mac FROM meta WHERE substr(key, 1, ?) = ?", (len(prefix), prefix))
        return {str(k): str(v) for k, v, mac in rows if self._signed(mac, "meta", k, v)}

    def _get_meta(self, key: str) -> str | None:
        """A remembered value (None when absent or not as this collator wrote it)."""
        row = self.db.execute("SELECT value, mac FROM meta WHERE key = ?", (key,)).fetchone()
        if row is None or not self._signed(row[1], "meta", key, row[0]):
            return None
        return str(row[0])

    def _set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta (key, value, mac) VALUES (?, ?, ?)",
                        (key, value, self.sign("meta", key, value)))

    # -- what the last run wrote: the ledger's meta is written here and nowhere else ---------------------

    def written_sha(self, source: str) -> str | None:
        """The SHA-256 the master (source "master") or a pack ("pack:NAME") had when auditbook last wrote or read it."""
        return self._get_meta(_written_key(source))

    def remember_written(self, source: str, path: Path) -> None:
        """Remember what the master or a pack holds now (what it says has been taken: only a later change is an
        edit), and its size and time, which tell it unchanged without reading it."""
        self._set_meta(_written_key(source), output_sha(path) or "")
        self._set_meta(_written_key(source) + ":stat", _stat_of(path))

    def same_as_written(self, source: str, path: Path) -> bool:
        """Whether the master or a pack has the size and modification time it had when remembered: unchanged since
        (a file saved again by someone has another time), as a return whose size and time match is."""
        now = _stat_of(path)
        return bool(now) and self._get_meta(_written_key(source) + ":stat") == now

    def packs_dir(self) -> Path | None:
        """The folder packs were last written into."""
        recorded = self._get_meta("packs_dir")
        return Path(recorded) if recorded else None

    def remember_packs_dir(self, packs: Path) -> None:
        """Remember the folder packs are written into (never read as returns, and read back next time)."""
        self._set_meta("packs_dir", str(packs.resolve()))

    def written_packs(self) -> list[str]:
        """The file names of the packs auditbook has written (or read back) into the packs folder."""
        return sorted(k.removeprefix(_PACK_SHA) for k in self._meta_like(_PACK_SHA) if not k.endswith(":stat"))

    def pack_names(self) -> dict[str, str]:
        """The file name each team manager's pack has had (by the manager's name as compared), kept across runs."""
        return {k.removeprefix(_PACK_NAME): v for k, v in self._meta_like(_PACK_NAME).items()}

    def remember_pack_names(self, names: dict[str, str]) -> None:
        """Keep the file name of each manager's pack, so it never goes to another manager."""
        for manager, name in names.items():
            self._set_meta(_PACK_NAME + manager, name)

    def last_run(self) -> tuple[str | None, str | None]:
        """What the master was made of when it was last written (see Session.state), and that run's outcome (JSON)."""
        return self._get_meta("state"), self._get_meta("outcome")

    def remember_run(self, state: str, outcome: str) -> None:
        """Remember what the master just written is made of, and the run's outcome."""
        self._set_meta("state", state)
        self._set_meta("outcome", outcome)

    def master_stale(self) -> None:
        """The action register changed outside a write of the master: the next collect writes it again."""
        self._set_meta("state", "")

    def put(self, path: str, *, size: int, mtime_ns: int, sha256: str, report: Report, registry: str) -> None:
        """Remember a file and what it held."""
        text = report_to_json(report)
        self.db.execute(
            "INSERT OR REPLACE INTO files (path, size, mtime_ns, sha256, report, registry, present, mac, stat_mac) "
            "VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)",
            (path, size, mtime_ns, sha256, text, registry, self.sign("file", path, sha256, text, registry),
             self.sign("stat", path, size, mtime_ns, 1)))
        self.db.execute("DELETE FROM meta WHERE key = ?", (_TOMBSTONE + path,))

    def touch(self, path: str, *, size: int, mtime_ns: int, present: bool = True) -> None:
        """Record a file's new time (same content) or that it is gone from the folder."""
        self.db.execute("UPDATE files SET size = ?, mtime_ns = ?, present = ?, stat_mac = ? WHERE path = ?",
                        (size, mtime_ns, int(present), self.sign("stat", path, size, mtime_ns, int(present)), path))

    def forget(self, path: str) -> Entry | None:
        """Drop a file's row and what was read from it; the entry dropped, or None when there was none.

        A tombstone keeps the dropped row's signature, so the row put back from a copy is not believed.
        """
        row = self.db.execute(f"SELECT {_FILE_COLUMNS} FROM files WHERE path = ?", (path,)).fetchone()
        if row is None:
            return None
        self.db.execute("DELETE FROM files WHERE path = ?", (path,))
        self._set_meta(_TOMBSTONE + path, str(row[7]))
        return self._entry(row, {})

    def mark_missing(self, path: str) -> None:
        """The file has vanished from the folder: keep its audit, flag it."""
        row = self.db.execute("SELECT size, mtime_ns FROM files WHERE path = ?", (path,)).fetchone()
        if row is not None:
            self.touch(path, size=row[0], mtime_ns=row[1], present=False)

    def commit(self, *, hold: bool = False) -> None:
        """Make this run's changes permanent and release the lock (or, with `hold`, take it again at once), or raise
        CollectError saying the ledger could not be saved (its disk full, say): then nothing of the run is kept."""
        try:
            if self.db.in_transaction:
                self.db.execute("COMMIT")
        except sqlite3.Error as err:
            raise CollectError(unsaved(self.path, err)) from None
        if hold:
            # What is left of the run (moving the master into place) is kept safe already: should another collect
            # take the lock first, this one goes on without it.
            with contextlib.suppress(sqlite3.Error):
                self.db.execute("BEGIN IMMEDIATE")

    def close(self) -> None:
        """Release the lock without keeping uncommitted changes."""
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")
        self.db.close()
