"""The kept action register and the SAG action plan: their own signed tables in the ledger (tables.py).

What a collator types into the master's Actions tab (Status, Notes, Date closed) or its SAG action plan
tab, and what a team manager types into their pack's Actions tab, is read back on the next collect
(readback.py), stored here and written into every later master and pack: a rebuild never loses it. Every
row is signed by the ledger; a row changed outside auditbook is left out and said so, never believed and
never a crash.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet
from datetime import date, datetime

from auditbook.analysis.actions import State
from auditbook.analysis.plan import PlanRow
from auditbook.store.ledger import Ledger
from auditbook.store.tables import ACTION_REGISTER, ACTION_SEEN, SAG_PLAN, Table

ACTIONS_TAB, PLAN_TAB, URGENT_TAB = "Actions", "SAG action plan", "Urgent concerns"

Seen = tuple[str, str, date | None]


def iso(d: date | None) -> str | None:
    """A date as stored."""
    return d.isoformat() if d else None


def _day(value: object) -> date | None:
    return date.fromisoformat(str(value)) if value else None


def _text(value: object) -> str:
    return "" if value is None else str(value)


class Register:
    """The action register and SAG plan tables, inside the ledger's transaction."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.db = ledger.db
        #: Rows of these tables that were changed outside auditbook (left out), one line per table.
        self.problems: list[str] = []

    def _rows(self, table: Table, where: str = "", params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        good, bad = self.ledger.rows(table, where, params)
        if bad:
            line = bad[0] if len(bad) == 1 else (f"{len(bad)} rows of the ledger's {table.name} table were changed "
                                                 f"outside auditbook, so they are left out; the first: {bad[0]}")
            if line not in self.problems:
                self.problems.append(line)
        return good

    def states(self) -> dict[str, State]:
        """Every kept action state by action id (a row that cannot be read back is left out and said so)."""
        out: dict[str, State] = {}
        for r in self._rows(ACTION_REGISTER):
            try:
                out[str(r[0])] = State(_text(r[1]), _text(r[2]), _day(r[3]), _text(r[4]), _text(r[5]))
            except ValueError:
                self.problems.append(f"the action register's entry for {r[0]} cannot be read back; left out.")
        return out

    def put(self, action_id: str, st: State, now: datetime) -> None:
        """Keep an action's state."""
        self.ledger.put_row(ACTION_REGISTER, (action_id, st.status, st.notes, iso(st.closed), st.conflict,
                                              st.updated_by, now.isoformat(timespec="seconds")))

    def seen(self, source: str) -> dict[str, Seen]:
        """What a master or pack held of each action when auditbook last wrote or read it."""
        out: dict[str, Seen] = {}
        for r in self._rows(ACTION_SEEN, "source = ?", (source,)):
            try:
                out[str(r[1])] = (_text(r[2]), _text(r[3]), _day(r[4]))
            except ValueError:
                continue  # not as written: the file's value then counts against the kept state
        return out

    def holds(self, source: str, held: dict[str, Seen]) -> None:
        """Remember what a master or pack holds now of these actions."""
        for action_id, (status, notes, closed) in held.items():
            self.ledger.put_row(ACTION_SEEN, (source, action_id, status, notes, iso(closed)))

    def wrote(self, source: str, ids: Iterable[str], states: dict[str, State]) -> None:
        """Remember what a master or pack now holds for each action, so later edits to it can be told apart."""
        held = {i: ((st := states.get(i, State())).status, st.notes, st.closed) for i in ids}
        rows = [(source, i, status, notes, iso(closed)) for i, (status, notes, closed) in held.items()]
        self.ledger.replace_rows(ACTION_SEEN, "source = ?", (source,), rows)

    def adopt(self, ids: AbstractSet[str], renamed: Callable[[], dict[str, str]]) -> None:
        """Move what is kept under an action's earlier id to the id it has now (ids no longer carry the round).

        `ids`: the id of every action now. `renamed` gives each earlier id with the id it has now: worked out (a hash
        of every action) only when something is kept under an id that is not one of `ids`.
        """
        kept = {str(r[0]): r for r in self._rows(ACTION_REGISTER)}
        if kept.keys() <= ids:
            return
        old = {o: n for o, n in renamed().items() if o != n}
        for before, now in old.items():
            if before in kept and now not in kept:
                self.ledger.put_row(ACTION_REGISTER, (now, *kept[before][1:]))
                self.db.execute("DELETE FROM action_register WHERE action_id = ?", (before,))
                kept[now] = kept[before]

    def drop(self, ids: Iterable[str]) -> None:
        """Forget what is kept about these actions (their return was forgotten)."""
        rows = [(i,) for i in ids]
        self.db.executemany("DELETE FROM action_register WHERE action_id = ?", rows)
        self.db.executemany("DELETE FROM action_seen WHERE action_id = ?", rows)

    def plan(self) -> list[PlanRow]:
        """The SAG action plan, in id order."""
        out = []
        for r in sorted(self._rows(SAG_PLAN), key=lambda r: str(r[0])):
            try:
                out.append(PlanRow(str(r[0]), _text(r[1]), _text(r[2]), _text(r[3]), _day(r[4]), _text(r[5]),
                                   _text(r[6]), _text(r[7])))
            except ValueError:
                self.problems.append(f"the SAG action plan's row {r[0]} cannot be read back; left out.")
        return out

    def put_plan(self, row: PlanRow, now: datetime) -> None:
        """Keep a row of the SAG action plan."""
        self.ledger.put_row(SAG_PLAN, (row.id, row.theme, row.action, row.owner, iso(row.due), row.status,
                                       row.linked, row.notes, now.isoformat(timespec="seconds")))
