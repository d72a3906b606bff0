"""Every round the ledger has seen, kept in its own table of the ledger: trends need the rounds before this one.

A round's figures are stored again whenever a collect merges audits of that round, and kept when its
returns are gone from the folder, so the Trends tab and "change since the previous round" still have them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from auditbook.collection.ledger import Ledger
from auditbook.collection.trends import RoundSummary
from auditbook.text import norm

SCHEMA = """CREATE TABLE IF NOT EXISTS rounds (
    round_key TEXT PRIMARY KEY,
    summary TEXT NOT NULL,
    updated TEXT NOT NULL
)"""


class History:
    """The rounds table, on the ledger's connection (inside its transaction)."""

    def __init__(self, ledger: Ledger) -> None:
        self.db = ledger.db
        self.db.execute(SCHEMA)  # not executescript: that would commit the ledger's open transaction

    def rounds(self) -> list[RoundSummary]:
        """Every stored round (unordered)."""
        rows = self.db.execute("SELECT summary FROM rounds").fetchall()
        return [RoundSummary.from_json(json.loads(r[0])) for r in rows]

    def keep(self, summaries: Sequence[RoundSummary], now: datetime) -> None:
        """Store these rounds' figures, replacing what was stored for the same rounds."""
        self.db.executemany("INSERT OR REPLACE INTO rounds (round_key, summary, updated) VALUES (?, ?, ?)",
                            [(norm(s.round), json.dumps(s.as_json(), sort_keys=True), now.isoformat(timespec="seconds"))
                             for s in summaries])
