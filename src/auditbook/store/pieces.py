"""Pieces of the master kept from one collect to the next: each return's rows of the Answers tab, deflated.

Adding one return to a thousand collected should not make the other thousand returns' 200,000 rows again. A return's
rows are kept in the ledger as the deflated piece they were written as (outputs/zipraw.Segment), numbered where they
were written, and put into the next master as they are while they would start at the same row (the master keeps returns
in the order their rows were first written: see outputs/master.answers_tab). A piece is kept under the SHA-256 of
everything its rows are made from: the return's file (its content's SHA-256), the specs and reading it was read with
(`registry_key`), the parts the caller names (the return's case, round and team; how the rows are written) and this
module's FORMAT. So a piece is only ever put in where it would be made the same; pieces no return used are dropped when
the master has been written. Each piece is signed as the ledger's rows are: one altered outside auditbook does not check
out and is made again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from auditbook.returns.provenance import SpecRegistry
from auditbook.store.ledger import Ledger, Piece
from auditbook.store.reports import registry_key

#: Bumped when what a piece holds changes without its makers' signature changing.
FORMAT = "1"


class Pieces:
    """The pieces kept at the last collect, and those used or made for this one."""

    def __init__(self, ledger: Ledger, registry: SpecRegistry, shas: Mapping[str, str]) -> None:
        """`shas`: each file of the returns folder (by its path, as merged audits name it) and its content's SHA-256."""
        self._ledger = ledger
        self._kept = ledger.pieces()
        self._shas = shas
        self._prefix = [FORMAT, registry_key(registry)]
        self._used: set[str] = set()
        self._new: dict[str, Piece] = {}

    def key(self, file: str, *parts: str) -> str | None:
        """The key of a return's piece made from these `parts` (None for a file not known: it is not kept)."""
        sha = self._shas.get(file)
        if sha is None:
            return None
        return hashlib.sha256(json.dumps([*self._prefix, sha, *parts]).encode()).hexdigest()

    def get(self, key: str) -> Piece | None:
        """The piece kept under `key`, or None."""
        return self._kept.get(key)

    def use(self, key: str) -> None:
        """Keep the piece kept under `key` for the next collect too (it was put in as it was)."""
        self._used.add(key)

    def put(self, key: str, piece: Piece) -> None:
        """Keep a piece made now for the next collect."""
        self._new[key] = piece

    def save(self) -> None:
        """Keep the pieces used or made now, and only those (in the ledger's open transaction)."""
        self._ledger.keep_pieces(self._used, self._new)
