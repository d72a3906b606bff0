"""Read back what was typed into the master (Actions, Urgent concerns, SAG action plan) and the team managers' packs
(Actions, Urgent concerns).

Both are read as untrusted files, like a return. An edit is a value that differs from what that file held
when auditbook last wrote or read it. Two files (or two rows of one file) that changed the same action's
field to different values are a conflict: the stored value is kept and both are shown until someone
settles them. A pack may change only the actions auditbook put in it, and a pack that cannot be read is
that pack's problem (its edits are read next time); a master that cannot be read stops collect, which
would otherwise overwrite it. Text is checked and capped as a return's is. Every change read back, taken, left as
a conflict or refused, is logged (editlog.py) with the file it came from and who that file says last saved it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import astuple, dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import NamedTuple

from auditbook.analysis.actions import ACTION_STATUSES, ReadBack, State
from auditbook.analysis.plan import PLAN_COLUMNS, PLAN_STATUSES, PlanRow
from auditbook.analysis.urgent import URGENT_STATUSES
from auditbook.errors import CollectError, UnreadableFileError
from auditbook.returns.coerce import parse_text_date, serial_to_date
from auditbook.returns.reader import RawSheet, read_workbook
from auditbook.returns.safety import DEFAULT_LIMITS, Limits, open_checked, parse_part, read_member
from auditbook.store.editlog import CONFLICTING, NOT_ITS_OWN, TAKEN, EditLog, LoggedEdit
from auditbook.store.ledger import MASTER, pack_source
from auditbook.store.ours import OUTPUT_LIMITS
from auditbook.store.register import ACTIONS_TAB, PLAN_TAB, URGENT_TAB, Register, Seen
from auditbook.text import name_key, norm, storable, unstorable

#: The master is auditbook's own file, edited by the collator, but read as untrusted like any return, with the
#: caps of auditbook's own files.
MASTER_LIMITS = OUTPUT_LIMITS
#: A pack holds one team manager's cases: no larger than a return.
PACK_LIMITS = DEFAULT_LIMITS
#: The id column of the Urgent concerns tab (the concern's id is its row's in the action register).
URGENT_ID = "Concern ID"
#: The longest note or SAG plan entry kept (a long note still prints; a conflict quotes two of them).
MAX_TEXT = 2000
_FIELDS = ("status", "notes", "closed")
_LABEL = {"status": "Status", "notes": "Notes", "closed": "Date closed"}


@dataclass
class _Edits:
    """Edits found so far: action id -> field -> [(who said it, value)], and each as it is to be logged."""

    said: dict[str, dict[str, list[tuple[str, object]]]] = field(default_factory=dict)
    logged: list[tuple[str, str, LoggedEdit]] = field(default_factory=list)

    def add(self, action_id: str, name: str, who: str, value: object, seen: LoggedEdit) -> None:
        self.said.setdefault(action_id, {}).setdefault(name, []).append((who, value))
        self.logged.append((action_id, name, seen))

    def outcome(self, action_id: str, name: str) -> str:
        """Taken when every file that changed this field agrees, else a conflict (kept as it was)."""
        return TAKEN if len({_key(v) for _, v in self.said[action_id][name]}) == 1 else CONFLICTING


class _File(NamedTuple):
    """A file read back: its ledger name, who it says last saved it (untrusted text, shown as it is), and when it was
    last saved (the file system's time)."""

    source: str
    modified_by: str
    saved: str

    @classmethod
    def of(cls, source: str, path: Path) -> _File:
        """The file at `path`, read back as `source`."""
        try:
            saved = datetime.fromtimestamp(path.stat().st_mtime).isoformat(sep=" ", timespec="seconds")
        except (OSError, ValueError, OverflowError):
            saved = ""
        return cls(source, last_modified_by(path, MASTER_LIMITS if source == MASTER else PACK_LIMITS), saved)


def read_back(register: Register, master: Path | None, packs: Sequence[Path], now: datetime) -> ReadBack:
    """Take the edits typed into the master (Actions, SAG action plan) and the packs since they were written."""
    out = ReadBack()
    edits = _Edits()
    log = EditLog(register.ledger, now)
    states = register.states()  # the register's rows are only written once every file has been read
    files: list[tuple[str, Path]] = ([(MASTER, master)] if master is not None else []) + [
        (pack_source(p), p) for p in packs]
    for source, path in files:
        sheets = _read_tabs(path, source, out)
        if sheets is None:
            continue
        if source != MASTER:
            out.packs_read.append(path.name)
        # Both tabs are compared with what the file held when written (an urgent concern is on both).
        file = _File.of(source, path)
        seen = register.seen(source)
        holds: dict[str, Seen] = {}
        for name, id_header in ((ACTIONS_TAB, "Action ID"), (URGENT_TAB, URGENT_ID)):
            tab = sheets.get(name)
            if tab is not None:
                holds = _diff(file, seen, _Tab(name, id_header, tab), edits, (out, log), states) | holds
        register.holds(source, holds)
        if source == MASTER and PLAN_TAB in sheets:
            _take_plan(register, sheets[PLAN_TAB], now, out, (log, file))
    for action_id, by_field in edits.said.items():
        register.put(action_id, _settled(states.get(action_id, State()), by_field, out), now)
    for action_id, name, logged in edits.logged:
        log.add(replace(logged, outcome=edits.outcome(action_id, name)))
    return out


def _settled(st: State, by_field: dict[str, list[tuple[str, object]]], out: ReadBack) -> State:
    """An action's state with the edits made to it: those all files agree on taken, the others shown as a conflict."""
    changes: dict[str, object] = {}
    disagreements: list[str] = []
    parties: dict[str, list[str]] = {}
    for name, said in by_field.items():
        values = {_key(v): v for _, v in said}
        if len(values) == 1:
            changes[name] = said[0][1]
        else:
            disagreements.append(f"{_LABEL[name]}: " + "; ".join(f"{who} says {_show(v)}" for who, v in said))
            parties[_LABEL[name]] = list(dict.fromkeys(who for who, _ in said))
    if disagreements:
        out.conflicts += 1
        details = " | ".join(disagreements)
        if len(details) > 2 * MAX_TEXT + 200:
            details = details[:2 * MAX_TEXT] + " (cut short)"
        st = replace(st, conflict=conflict_text(parties, details))
    elif changes:
        st = replace(st, conflict="")
    if not changes:
        return st
    out.taken += 1
    whom = sorted({who for said in by_field.values() for who, _ in said})
    out.from_master += any(w.startswith(_who(MASTER)) for w in whom)
    closed = changes.get("closed", st.closed)
    return State(str(changes.get("status", st.status)), str(changes.get("notes", st.notes)),
                 closed if isinstance(closed, date) else None, st.conflict, ", ".join(whom))


class _Tab(NamedTuple):
    """A tab edits are read from (Actions, Urgent concerns), and the header of its id column."""

    name: str
    id_header: str
    sheet: RawSheet


def _diff(file: _File, seen: dict[str, Seen], tab: _Tab, edits: _Edits, said: tuple[ReadBack, EditLog],
          stored: dict[str, State]) -> dict[str, Seen]:
    """The edits a tab holds (taken into `edits`, each logged), and what it holds now of each action."""
    out, log = said
    source = file.source
    now_holds: dict[str, Seen] = {}
    for action_id, rows in _action_rows(tab, source, out).items():
        st = stored.get(action_id, State())
        if source != MASTER and action_id not in seen:
            out.problems.append(f"{_who(source)}, {tab.name} row {rows[0][0]}: action ID {action_id[:60]} is not "
                                "one of this pack's actions; what was typed against it is not taken. A team manager "
                                "changes only their own actions: ask the collator to change others in the master.")
            for row, values in rows:
                for name, old, new in _changes((st.status, st.notes, st.closed), values):
                    log.add(_logged(file, row, action_id, name, old, new, NOT_ITS_OWN, tab.name))
            continue
        before = seen.get(action_id) or (st.status, st.notes, st.closed)
        now_holds[action_id] = rows[0][1]
        repeated = len({tuple(_key(v) for v in values) for _, values in rows}) > 1
        for row, values in rows:
            who = f"{_who(source)} ({tab.name} row {row})" if repeated else _who(source)
            for name, old, new in _changes(before, values):
                edits.add(action_id, name, who, new, _logged(file, row, action_id, name, old, new, "", tab.name))
    return now_holds


def _changes(before: Seen, now: Seen) -> list[tuple[str, object, object]]:
    """The fields (status, notes, closed) whose value differs, with what it was and what it is now."""
    return [(name, old, new) for name, old, new in zip(_FIELDS, before, now, strict=True) if _key(old) != _key(new)]


def _logged(file: _File, row: int, item: str, name: str, old: object, new: object, outcome: str,
            tab: str = ACTIONS_TAB) -> LoggedEdit:
    return LoggedEdit("", _who(file.source), f"{tab} row {row}", file.modified_by, file.saved, item,
                      _LABEL.get(name, name), _shown(old), _shown(new), outcome)


def _shown(value: object) -> str:
    """A value as the edit log shows it: a date as dd/mm/yyyy, text as typed, nothing as blank."""
    if isinstance(value, date):
        return f"{value:%d/%m/%Y}"
    return "" if value is None else str(value)


def _take_plan(register: Register, tab: RawSheet, now: datetime, out: ReadBack,
               logging: tuple[EditLog, _File]) -> None:
    kept = {r.id: r for r in register.plan()}
    cols = _header(tab)
    if "ID" not in cols:
        return
    used = [int(i[4:]) for i in kept if i.startswith("SAG-") and i[4:].isdigit()]
    next_id = max(used, default=0) + 1
    claimed: set[str] = set()
    for r in sorted({row for row, _ in tab.cells if row > 0}):
        where = f"{PLAN_TAB} row {r + 1}"
        values = {n: _text_at(tab, r, cols, n, where, out) for n in PLAN_COLUMNS}
        if not any(values[n] for n in PLAN_COLUMNS[1:]):
            continue
        # A row the plan started for a recurring theme and nobody has typed into yet is not kept: it comes back on its
        # own while the theme recurs.
        if not values["ID"] and not any(values[n] for n in PLAN_COLUMNS[2:]):
            continue
        due = _as_date(tab, r, cols.get("Due"), where, out)
        # A row copied with its ID (Excel copies the whole row) is a new row: the first keeps the ID.
        row_id = values["ID"] if values["ID"] in kept and values["ID"] not in claimed else ""
        if not row_id:
            row_id, next_id = f"SAG-{next_id:03d}", next_id + 1
        claimed.add(row_id)
        row = PlanRow(row_id, values["Theme"], values["Action"], values["Owner"], due,
                      _status(values["Status"], PLAN_STATUSES), values["Linked themes"], values["Notes"])
        if kept.get(row_id) != row:
            out.taken += 1
            out.from_master += 1
            register.put_plan(row, now)
            _log_plan(logging, r + 1, kept.get(row_id) or PlanRow(row_id), row)
            kept[row_id] = row


def _log_plan(logging: tuple[EditLog, _File], row: int, before: PlanRow, after: PlanRow) -> None:
    """Log each field of a SAG action plan row that changed (a new row: each field it was given)."""
    log, file = logging
    for name, old, new in zip(PLAN_COLUMNS[1:], astuple(before)[1:], astuple(after)[1:], strict=True):
        if _key(old) != _key(new):
            log.add(_logged(file, row, after.id, name, old, new, TAKEN, PLAN_TAB))


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


def _text_at(tab: RawSheet, r: int, cols: dict[str, int], name: str, where: str, out: ReadBack) -> str:
    """The text of column `name` in row `r`, as it can be kept ("" where the tab has no such column or cell)."""
    cell = tab.cells.get((r, cols[name])) if name in cols else None
    return _checked(_as_text(cell.value), f"{where}, {name}", out) if cell is not None else ""


def _checked(text: str, where: str, out: ReadBack) -> str:
    """Text as it can be kept: what no workbook can hold shown escaped, and no longer than MAX_TEXT."""
    bad = unstorable(text)
    safe = text if bad is None else storable(text)
    if bad is not None:
        out.problems.append(f"{where}: holds a character no workbook can store; kept with it written out as {bad}. "
                            "Correct it in the master if that is not what was meant.")
    if len(safe) > MAX_TEXT:
        out.problems.append(f"{where}: {len(safe):,} characters, cut to the first {MAX_TEXT:,}. Keep notes short, "
                            "or put the detail in the case record.")
        safe = safe[:MAX_TEXT]
    return safe


def _status(text: str, statuses: Sequence[str]) -> str:
    """A status as the list spells it when it matches one case-insensitively; otherwise as typed."""
    return next((s for s in statuses if norm(s) == norm(text)), text)


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
    shown = storable(_as_text(cell.value))[:40]
    out.problems.append(f"{where}: {shown!r} is not a date (dd/mm/yyyy); left out. Type it again.")
    return None


def _action_rows(tab: _Tab, source: str, out: ReadBack) -> dict[str, list[tuple[int, Seen]]]:
    """Each action id's rows (by their row number as Excel shows it) and what they hold; an id may repeat."""
    sheet = tab.sheet
    cols = _header(sheet)
    if tab.id_header not in cols:
        return {}
    rows: dict[str, list[tuple[int, Seen]]] = {}
    for r in sorted({row for row, _ in sheet.cells if row > 0}):
        cell = sheet.cells.get((r, cols[tab.id_header]))
        action_id = _as_text(cell.value) if cell is not None else ""
        if not action_id:
            continue
        where = f"{_who(source)}, {tab.name} row {r + 1}"
        closed = _as_date(sheet, r, cols.get("Date closed"), where, out)
        status, notes = (_text_at(sheet, r, cols, name, where, out) for name in ("Status", "Notes"))
        rows.setdefault(action_id, []).append((r + 1, (_status(status, (*ACTION_STATUSES, *URGENT_STATUSES)), notes,
                                                       closed)))
    return rows


#: docProps/core.xml's namespace, and the relationship type that names the part.
_CORE = "{http://schemas.openxmlformats.org/package/2006/metadata/core-properties}"
_CORE_TYPE = "/metadata/core-properties"
_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
#: The longest name kept of who last saved a file (it is the file's own word, shown, never trusted).
MAX_NAME = 200


def last_modified_by(path: Path, limits: Limits) -> str:
    """Who the file says last saved it (docProps/core.xml lastModifiedBy, found through the package's relationship),
    as text that can be kept and shown; "" when it says nothing or cannot be read."""
    try:
        with open_checked(path, limits) as zf:
            names = {n.lower(): n for n in zf.namelist()}
            rels = parse_part(read_member(zf, names["_rels/.rels"], limits), "_rels/.rels")
            part = next((r.get("Target", "").lstrip("/") for r in rels.iterfind(f"{_RELS}Relationship")
                         if r.get("Type", "").endswith(_CORE_TYPE)), "")
            if part.lower() not in names:
                return ""
            root = parse_part(read_member(zf, names[part.lower()], limits), part)
    except (UnreadableFileError, OSError, KeyError, ValueError):
        return ""
    found = root.find(f"{_CORE}lastModifiedBy")
    text = " ".join("".join(found.itertext()).split()) if found is not None else ""
    return storable(text)[:MAX_NAME]


def _read_tabs(path: Path, source: str, out: ReadBack) -> dict[str, RawSheet] | None:
    """The tabs edits are read from; None (said in `out`) for a pack that cannot be read."""
    limits = MASTER_LIMITS if source == MASTER else PACK_LIMITS
    try:
        raw = read_workbook(path, limits, skip=frozenset(), whole=frozenset({ACTIONS_TAB, PLAN_TAB, URGENT_TAB}))
    except UnreadableFileError as err:
        if source != MASTER:
            out.problems.append(f"{name_key(path.name)}: what was typed into this pack cannot be read back ({err}); "
                                "its edits are not taken yet. Ask its team manager to save it as .xlsx again: it is "
                                "read again on the next collect.")
            return None
        raise CollectError(f"{path}: what was typed into it cannot be read back ({err}). Collect stops rather than "
                           f"overwrite it: open {_who(source)} and save it as .xlsx again, or move it aside "
                           "(its edits are then not taken), and collect again.") from None
    return raw.sheets
