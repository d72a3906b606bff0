"""Every round the ledger has seen, kept in its own signed table of the ledger: trends need the rounds before
this one.

A round's figures are stored again whenever a collect merges audits of that round, and kept when its
returns are gone from the folder, so the Trends tab and "change since the previous round" still have them.
A stored round changed outside auditbook, or that cannot be read back, is left out and said so.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from auditbook.analysis.trends import RoundSummary
from auditbook.store.ledger import Ledger
from auditbook.store.tables import ROUNDS
from auditbook.text import norm


class History:
    """The rounds table, on the ledger's connection (inside its transaction)."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        #: Stored rounds left out (changed outside auditbook, or unreadable), one line each.
        self.problems: list[str] = []

    def rounds(self) -> list[RoundSummary]:
        """Every stored round (unordered)."""
        good, bad = self.ledger.rows(ROUNDS)
        self.problems = list(bad)
        out = []
        for key, summary, _ in good:
            try:
                out.append(RoundSummary.from_json(json.loads(str(summary))))
            except (TypeError, ValueError, AttributeError):
                self.problems.append(f"the stored figures of round {key} cannot be read back, so they are left out.")
        return out

    def keep(self, summaries: Sequence[RoundSummary], now: datetime) -> None:
        """Store these rounds' figures, replacing what was stored for the same rounds."""
        for s in summaries:
            self.ledger.put_row(ROUNDS, (norm(s.round), json.dumps(s.as_json(), sort_keys=True),
                                         now.isoformat(timespec="seconds")))
