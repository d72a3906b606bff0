"""The master's Edits tab: every status, note or SAG plan entry read back from the master or a pack, where it came
from, when, who the file says last saved it (its own word, not checked), what changed and whether it was taken.
Written once anything has been read back; the ledger keeps the log across runs (store/editlog.py)."""

from __future__ import annotations

from collections.abc import Sequence

from auditbook.outputs.sheets import Sheets
from auditbook.outputs.tidy import TEXT, WRAP, Column, Table
from auditbook.store.editlog import LoggedEdit

EDITS_TAB = "Edits"
EDIT_COLUMNS = (Column("Read", 19, TEXT), Column("From", 24, WRAP), Column("Where", 20, WRAP),
                Column("Last saved by (as the file says)", 24, WRAP), Column("File saved", 19, TEXT),
                Column("Action or plan ID", 22, WRAP),
                Column("Field", 12, WRAP), Column("Was", 30, WRAP), Column("Now", 30, WRAP),
                Column("Outcome", 40, WRAP))


def edits_table(edits: Sequence[LoggedEdit]) -> Table:
    """The edit log as a tidy table, newest first (what a collator checks after a collect is what it just read)."""
    rows = [(e.read.replace("T", " "), e.source, e.place, e.modified_by, e.saved, e.item, e.field, e.before,
             e.after, e.outcome) for e in reversed(edits)]
    return Table(EDITS_TAB, EDIT_COLUMNS, list(rows), key_columns=2)


def edits_tab(s: Sheets, edits: Sequence[LoggedEdit]) -> None:
    """The Edits tab, when anything has been read back."""
    if edits:
        s.tidy(edits_table(edits))
