"""The log of every edit read back from the master and the packs: where it came from, when it was read, who the file
says last saved it and when the file system says it was saved, what changed, and whether it was taken. Kept in the
ledger (a signed table, so a row altered outside auditbook is left out and said so) and shown on the master's Edits
tab, where the collator can audit it.

Who last saved a file is what the file itself says (docProps/core.xml lastModifiedBy): anyone can write anything
there, so it is shown as the file says it, never trusted, never used to decide anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from auditbook.store.ledger import Ledger
from auditbook.store.tables import EDIT_LOG

#: What happened to an edit.
TAKEN = "taken"
CONFLICTING = "not taken: changed differently elsewhere (see Conflicting edits on the Actions tab)"
NOT_ITS_OWN = "refused: not one of this pack's actions (a team manager changes only their own)"


@dataclass(frozen=True)
class LoggedEdit:
    """One field of one action (or SAG plan row) as read back from a file, and what became of it."""

    read: str
    source: str
    place: str
    modified_by: str
    #: When the file was last saved, as the file system says (local time, to the second).
    saved: str
    item: str
    field: str
    before: str
    after: str
    outcome: str


class EditLog:
    """The edit log, inside the ledger's transaction."""

    def __init__(self, ledger: Ledger, now: datetime) -> None:
        self.ledger = ledger
        self.read = now.isoformat(timespec="seconds")
        self.problems: list[str] = []
        self._next = 1 + max((int(str(r[1])) for r in ledger.rows(EDIT_LOG, "read = ?", (self.read,))[0]),
                             default=0)

    def add(self, edit: LoggedEdit) -> None:
        """Keep one edit read back now."""
        self.ledger.put_row(EDIT_LOG, (self.read, self._next, edit.source, edit.place, edit.modified_by, edit.saved,
                                       edit.item, edit.field, edit.before, edit.after, edit.outcome))
        self._next += 1

    def all(self) -> list[LoggedEdit]:
        """Every edit kept, oldest first (a row altered outside auditbook is left out and said in `problems`)."""
        good, bad = self.ledger.rows(EDIT_LOG)
        if bad:
            self.problems.append(bad[0] if len(bad) == 1 else f"{len(bad)} rows of the ledger's edit log were changed "
                                 f"outside auditbook, so they are left out; the first: {bad[0]}")
        rows = sorted(good, key=lambda r: (str(r[0]), int(str(r[1]))))
        return [LoggedEdit(str(r[0]), *(str(v) for v in r[2:])) for r in rows]
