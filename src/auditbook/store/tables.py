"""The ledger's own tables besides files and meta (the rounds seen, the action register, the SAG plan, the edit log),
and which columns each row's signature covers. The ledger signs, checks and upgrades them; history.py, register.py
and editlog.py read and write them through it."""

from __future__ import annotations

from typing import NamedTuple


class Table(NamedTuple):
    """A signed table: its columns (the key first), every one covered by the row's `mac`."""

    name: str
    #: Columns and their SQL types, in order; the first `keys` of them are the primary key.
    columns: tuple[tuple[str, str], ...]
    keys: int = 1
    #: What a person calls one of its rows in a message ("the action register entry").
    what: str = "row"

    @property
    def names(self) -> tuple[str, ...]:
        """The column names, in order."""
        return tuple(c for c, _ in self.columns)

    @property
    def create(self) -> str:
        """CREATE TABLE IF NOT EXISTS, with the signature column."""
        cols = ", ".join(f"{c} {t}" for c, t in self.columns)
        return (f"CREATE TABLE IF NOT EXISTS {self.name} ({cols}, mac TEXT NOT NULL DEFAULT '', "
                f"PRIMARY KEY ({', '.join(self.names[:self.keys])}))")


ROUNDS = Table("rounds", (("round_key", "TEXT NOT NULL"), ("summary", "TEXT NOT NULL"), ("updated", "TEXT NOT NULL")),
               what="the stored figures of round")
ACTION_REGISTER = Table("action_register", (
    ("action_id", "TEXT NOT NULL"), ("status", "TEXT NOT NULL"), ("notes", "TEXT NOT NULL"), ("closed", "TEXT"),
    ("conflict", "TEXT NOT NULL"), ("updated_by", "TEXT NOT NULL"), ("updated", "TEXT NOT NULL")),
    what="the action register's entry for")
ACTION_SEEN = Table("action_seen", (
    ("source", "TEXT NOT NULL"), ("action_id", "TEXT NOT NULL"), ("status", "TEXT NOT NULL"),
    ("notes", "TEXT NOT NULL"), ("closed", "TEXT")), keys=2, what="what was written into a master or pack, for")
SAG_PLAN = Table("sag_plan", (
    ("id", "TEXT NOT NULL"), ("theme", "TEXT NOT NULL"), ("action", "TEXT NOT NULL"), ("owner", "TEXT NOT NULL"),
    ("due", "TEXT"), ("status", "TEXT NOT NULL"), ("linked", "TEXT NOT NULL"), ("notes", "TEXT NOT NULL"),
    ("updated", "TEXT NOT NULL")), what="the SAG action plan's row")

EDIT_LOG = Table("edit_log", (
    ("read", "TEXT NOT NULL"), ("seq", "INTEGER NOT NULL"), ("source", "TEXT NOT NULL"), ("place", "TEXT NOT NULL"),
    ("modified_by", "TEXT NOT NULL"), ("saved", "TEXT NOT NULL"), ("item", "TEXT NOT NULL"), ("field", "TEXT NOT NULL"),
    ("before", "TEXT NOT NULL"), ("after", "TEXT NOT NULL"), ("outcome", "TEXT NOT NULL")), keys=2,
    what="the edit log's entry")

TABLES = (ROUNDS, ACTION_REGISTER, ACTION_SEEN, SAG_PLAN, EDIT_LOG)
