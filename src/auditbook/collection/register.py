"""The kept action register and the SAG action plan: their own tables on the ledger's sqlite connection.

What a collator types into the master's Actions tab (Status, Notes, Date closed) or its SAG action plan
tab, and what a team manager types into their pack's Actions tab, is read back on the next collect,
through the same safety checks as a return, stored here and written into every later master and pack:
a rebuild never loses it. An edit is a value that differs from what that file held when auditbook last
wrote or read it. Two files that changed the same action's field to different values are a conflict:
the stored value is kept and both edits are shown until someone settles them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

from auditbook.collection.actions import ACTION_STATUSES, State
from auditbook.errors import CollectError, UnreadableFileError
from auditbook.returns.coerce import parse_text_date, serial_to_date
from auditbook.returns.reader import RawSheet, read_workbook
from auditbook.returns.safety import MIB, Limits
from auditbook.text import norm

ACTIONS_TAB, PLAN_TAB = "Actions", "SAG action plan"
MASTER = "master"
PLAN_COLUMNS = ("ID", "Theme", "Action", "Owner", "Due", "Status", "Linked themes", "Notes")
#: The master is auditbook's own file, edited by the collator, but read as untrusted like any return;
#: its tidy tabs make it far larger than a return, so it gets larger caps.
MASTER_LIMITS = Limits(max_file_bytes=500 * MIB, max_uncompressed_bytes=4000 * MIB, max_member_bytes=2000 * MIB,
                       max_ratio=5000.0)
_FIELDS = ("status", "notes", "closed")

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS action_register (
        action_id TEXT PRIMARY KEY, status TEXT NOT NULL, notes TEXT NOT NULL, closed TEXT,
        conflict TEXT NOT NULL, updated_by TEXT NOT NULL, updated TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS action_seen (
        source TEXT NOT NULL, action_id TEXT NOT NULL, status TEXT NOT NULL, notes TEXT NOT NULL, closed TEXT,
        PRIMARY KEY (source, action_id))""",
    """CREATE TABLE IF NOT EXISTS sag_plan (
        id TEXT PRIMARY KEY, theme TEXT NOT NULL, action TEXT NOT NULL, owner TEXT NOT NULL, due TEXT,
        status TEXT NOT NULL, linked TEXT NOT NULL, notes TEXT NOT NULL, updated TEXT NOT NULL)""",
)

Seen = tuple[str, str, date | None]


@dataclass(frozen=True)
class PlanRow:
    """One thematic action of the SAG action plan."""

    id: str
    theme: str = ""
    action: str = ""
    owner: str = ""
    due: date | None = None
    status: str = ""
    linked: str = ""
    notes: str = ""


@dataclass
class ReadBack:
    """What reading the master and packs back found: edits taken, conflicts, and cells that made no sense."""

    taken: int = 0
    conflicts: int = 0
    problems: list[str] = field(default_factory=list)


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


class Register:
    """The action register and SAG plan tables, inside the ledger's transaction."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        for statement in SCHEMA:
            db.execute(statement)  # not executescript: that would commit the ledger's open transaction

    def states(self) -> dict[str, State]:
        """Every kept action state by action id."""
        rows = self.db.execute("SELECT action_id, status, notes, closed, conflict, updated_by FROM action_register")
        return {r[0]: State(r[1], r[2], _day(r[3]), r[4], r[5]) for r in rows}

    def _put(self, action_id: str, st: State, now: datetime) -> None:
        self.db.execute("INSERT OR REPLACE INTO action_register VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (action_id, st.status, st.notes, _iso(st.closed), st.conflict, st.updated_by,
                         now.isoformat(timespec="seconds")))

    def _seen(self, source: str) -> dict[str, Seen]:
        rows = self.db.execute("SELECT action_id, status, notes, closed FROM action_seen WHERE source = ?", (source,))
        return {r[0]: (r[1], r[2], _day(r[3])) for r in rows}

    def wrote(self, source: str, ids: Iterable[str], states: dict[str, State]) -> None:
        """Remember what a master or pack now holds for each action, so later edits to it can be told apart."""
        self.db.execute("DELETE FROM action_seen WHERE source = ?", (source,))
        self.db.executemany("INSERT INTO action_seen VALUES (?, ?, ?, ?, ?)", [
            (source, i, (st := states.get(i, State())).status, st.notes, _iso(st.closed)) for i in ids])

    def plan(self) -> list[PlanRow]:
        """The SAG action plan, in id order."""
        rows = self.db.execute("SELECT id, theme, action, owner, due, status, linked, notes FROM sag_plan ORDER BY id")
        return [PlanRow(r[0], r[1], r[2], r[3], _day(r[4]), r[5], r[6], r[7]) for r in rows]

    def _put_plan(self, row: PlanRow, now: datetime) -> None:
        self.db.execute("INSERT OR REPLACE INTO sag_plan VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (row.id, row.theme, row.action, row.owner, _iso(row.due), row.status, row.linked, row.notes,
                         now.isoformat(timespec="seconds")))

    # -- reading edits back -------------------------------------------------------------------------

    def read_back(self, master: Path | None, packs: Sequence[Path], now: datetime) -> ReadBack:
        """Take the edits typed into the master (Actions, SAG action plan) and the packs since they were written."""
        out = ReadBack()
        edits: dict[str, dict[str, list[tuple[str, object]]]] = {}
        files: list[tuple[str, Path]] = ([(MASTER, master)] if master is not None else []) + [
            (f"pack:{p.name}", p) for p in packs]
        for source, path in files:
            sheets = _read_tabs(path, source)
            tab = sheets.get(ACTIONS_TAB)
            if tab is not None:
                self._diff(source, tab, edits, out)
            if source == MASTER and PLAN_TAB in sheets:
                self._take_plan(sheets[PLAN_TAB], now, out)
        states = self.states()
        for action_id, by_field in edits.items():
            st = states.get(action_id, State())
            changes: dict[str, object] = {}
            disagreements: list[str] = []
            parties: dict[str, list[str]] = {}
            for name, said in by_field.items():
                values = {_key(v): v for _, v in said}
                if len(values) == 1:
                    changes[name] = said[0][1]
                else:
                    disagreements.append(f"{_LABEL[name]}: " + "; ".join(
                        f"{_who(src)} says {_show(v)}" for src, v in said))
                    parties[_LABEL[name]] = list(dict.fromkeys(_who(src) for src, _ in said))
            if disagreements:
                out.conflicts += 1
                st = replace(st, conflict=conflict_text(parties, " | ".join(disagreements)))
            elif changes:
                st = replace(st, conflict="")
            if changes:
                out.taken += 1
                closed = changes.get("closed", st.closed)
                st = State(str(changes.get("status", st.status)), str(changes.get("notes", st.notes)),
                           closed if isinstance(closed, date) else None, st.conflict,
                           ", ".join(sorted({_who(src) for said in by_field.values() for src, _ in said})))
            self._put(action_id, st, now)
        return out

    def _diff(self, source: str, tab: RawSheet, edits: dict[str, dict[str, list[tuple[str, object]]]],
              out: ReadBack) -> None:
        seen = self._seen(source)
        stored = self.states()
        now_holds: dict[str, Seen] = {}
        for action_id, values in _action_rows(tab, source, out).items():
            before = seen.get(action_id)
            if before is None:
                st = stored.get(action_id, State())
                before = (st.status, st.notes, st.closed)
            now_holds[action_id] = values
            for name, old, new in zip(_FIELDS, before, values, strict=True):
                if _key(old) != _key(new):
                    edits.setdefault(action_id, {}).setdefault(name, []).append((source, new))
        self.db.executemany("INSERT OR REPLACE INTO action_seen VALUES (?, ?, ?, ?, ?)",
                            [(source, i, v[0], v[1], _iso(v[2])) for i, v in now_holds.items()])

    def _take_plan(self, tab: RawSheet, now: datetime, out: ReadBack) -> None:
        kept = {r.id: r for r in self.plan()}
        cols = _header(tab)
        if "ID" not in cols:
            return
        used = [int(i[4:]) for i in kept if i.startswith("SAG-") and i[4:].isdigit()]
        next_id = max(used, default=0) + 1
        for r in sorted({row for row, _ in tab.cells if row > 0}):
            def text(name: str, r: int = r) -> str:
                cell = tab.cells.get((r, cols[name])) if name in cols else None
                return _as_text(cell.value) if cell is not None else ""

            values = {n: text(n) for n in PLAN_COLUMNS}
            if not any(values[n] for n in PLAN_COLUMNS[1:]):
                continue
            due = _as_date(tab, r, cols.get("Due"), f"{PLAN_TAB} row {r + 1}", out)
            row_id = values["ID"] if values["ID"] in kept else ""
            if not row_id:
                row_id, next_id = f"SAG-{next_id:03d}", next_id + 1
            row = PlanRow(row_id, values["Theme"], values["Action"], values["Owner"], due, _status(values["Status"]),
                          values["Linked themes"], values["Notes"])
            if kept.get(row_id) != row:
                out.taken += 1
                self._put_plan(row, now)
                kept[row_id] = row


_LABEL = {"status": "Status", "notes": "Notes", "closed": "Date closed"}


def conflict_text(parties: dict[str, list[str]], details: str) -> str:
    """A conflict as the Actions tab shows it: a first line that says which fields and who, with no value typed (the
    round report shows only that line unless it includes free text), then what each said."""
    who = "; ".join(f"{field_} by {' and '.join(names)}" for field_, names in parties.items())
    return f"Changed differently: {who}. Type the one to keep into the master.\n{details}."


def conflict_parties(conflict: str) -> str:
    """The first line of a conflict (which fields, changed by whom), without what anyone typed."""
    head, newline, _ = conflict.partition("\n")
    return head if newline else "Changed differently in the master and a pack: see the master's Actions tab."


def _who(source: str) -> str:
    return "the master" if source == MASTER else source.removeprefix("pack:")


def _show(value: object) -> str:
    if isinstance(value, date):
        return f"{value:%d/%m/%Y}"
    return f'"{value}"' if value else "(blank)"


def _key(value: object) -> str:
    return value.isoformat() if isinstance(value, date) else norm(str(value or ""))


def _as_text(value: object) -> str:
    if value is None or isinstance(value, bool):
        return "" if value is None else ("Yes" if value else "No")
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    return str(value).strip()


def _status(text: str) -> str:
    """A status as the list spells it when it matches one case-insensitively; otherwise as typed."""
    return next((s for s in ACTION_STATUSES if norm(s) == norm(text)), text)


def _header(tab: RawSheet) -> dict[str, int]:
    return {_as_text(c.value): col for (row, col), c in tab.cells.items() if row == 0 and c.value is not None}


def _as_date(tab: RawSheet, r: int, col: int | None, where: str, out: ReadBack) -> date | None:
    cell = tab.cells.get((r, col)) if col is not None else None
    if cell is None or cell.value in (None, ""):
        return None
    if isinstance(cell.value, float):
        d = serial_to_date(cell.value)
        if d is not None:
            return d
    elif isinstance(cell.value, str):
        parsed = parse_text_date(cell.value)
        if isinstance(parsed, date):
            return parsed
    out.problems.append(f"{where}: {_as_text(cell.value)[:40]!r} is not a date (dd/mm/yyyy); left out. Type it again.")
    return None


def _action_rows(tab: RawSheet, source: str, out: ReadBack) -> dict[str, Seen]:
    cols = _header(tab)
    if "Action ID" not in cols:
        return {}
    rows: dict[str, Seen] = {}
    for r in sorted({row for row, _ in tab.cells if row > 0}):
        cell = tab.cells.get((r, cols["Action ID"]))
        action_id = _as_text(cell.value) if cell is not None else ""
        if not action_id:
            continue

        def text(name: str, r: int = r) -> str:
            c = tab.cells.get((r, cols[name])) if name in cols else None
            return _as_text(c.value) if c is not None else ""

        closed = _as_date(tab, r, cols.get("Date closed"), f"{_who(source)}, {ACTIONS_TAB} row {r + 1}", out)
        rows[action_id] = (_status(text("Status")), text("Notes"), closed)
    return rows


def _read_tabs(path: Path, source: str) -> dict[str, RawSheet]:
    try:
        raw = read_workbook(path, MASTER_LIMITS, skip=frozenset(), whole=frozenset({ACTIONS_TAB, PLAN_TAB}))
    except UnreadableFileError as err:
        raise CollectError(f"{path}: what was typed into it cannot be read back ({err}). Collect stops rather than "
                           f"overwrite it: open {_who(source)} and save it as .xlsx again, or move it aside "
                           "(its edits are then not taken), and collect again.") from None
    return raw.sheets
