"""What a collect did, and its JSON form (references and problems only, never answers)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from auditbook.collection.collate import Collation, NotMerged
from auditbook.collection.evidence import Evidence
from auditbook.collection.scan import Scan
from auditbook.collection.tracking import OUTSTANDING, OVERDUE, ReturnRow
from auditbook.problems import Problem
from auditbook.text import name_key


@dataclass
class CollectResult:
    """What a collect did: where it wrote, what it merged and what it could not."""

    master: Path
    ledger: Path
    files: int
    read: int
    unchanged: int
    merged: list[dict[str, Any]]
    not_merged: list[NotMerged]
    #: The full collation, or None when nothing had changed and the master was left as it was.
    collation: Collation | None = None
    returns: list[ReturnRow] | None = None
    packs: list[Path] = field(default_factory=list)
    #: Things the collator should know that are not about one return (a ledger on a network share, a pack
    #: that could not be written).
    warnings: list[str] = field(default_factory=list)
    #: Files whose stored answers `--forget` removed from the ledger.
    forgotten: list[str] = field(default_factory=list)
    #: What the master showed (None when it was left as it was).
    evidence: Evidence | None = None

    @property
    def outstanding(self) -> int:
        """Allocated cases not yet returned (overdue or not), when an allocation was given."""
        return sum(1 for r in self.returns or () if r.status in (OUTSTANDING, OVERDUE))

    def count(self, status: str) -> int:
        """How many files were not merged for this reason."""
        return sum(1 for n in self.not_merged if n.status == status)

    @property
    def rejected(self) -> int:
        """Files with errors, and files or folders that could not be read."""
        return self.count("rejected") + self.count("not read")

    @property
    def late(self) -> list[str]:
        """Merged returns completed after their due date."""
        return [m["file"] for m in self.merged if any(w["code"] == "late" for w in m["warnings"])]

    @property
    def source_missing(self) -> list[str]:
        """Merged returns whose file is gone from the folder (kept from the ledger)."""
        return [m["file"] for m in self.merged if m["source_missing"]]

    def summary_line(self) -> str:
        """`N merged, M rejected, K unchanged, L superseded`."""
        superseded = self.count("superseded") + self.count("duplicate")
        merged = len(self.merged)
        return f"{merged} merged, {self.rejected} rejected, {self.unchanged} unchanged, {superseded} superseded"



def result_of(c: Collation, master: Path, ledger: Path, scan: Scan) -> CollectResult:
    merged = [{"file": m.file, "case_ref": m.audit.case_ref, "round": m.round, "source_missing": m.source_missing,
               "warnings": [p.as_dict() for p in m.warnings]} for m in c.merged]
    return CollectResult(master=master, ledger=ledger, files=scan.files, read=scan.read, unchanged=scan.unchanged,
                         merged=merged, not_merged=list(c.not_merged), collation=c)


def outcome_json(result: CollectResult) -> dict[str, Any]:
    returns = None if result.returns is None else [
        {**dataclasses.asdict(r), "due": r.due.isoformat() if r.due else None} for r in result.returns]
    return {"merged": result.merged, "returns": returns,
            "not_merged": [{"file": n.file, "status": n.status, "reason": n.reason,
                            "problems": [p.as_dict() for p in n.problems]} for n in result.not_merged]}


def result_from_json(data: dict[str, Any], master: Path, ledger: Path, scan: Scan) -> CollectResult:
    not_merged = [NotMerged(n["file"], n["status"], n["reason"],
                            tuple(Problem.from_dict(p) for p in n["problems"])) for n in data["not_merged"]]
    returns = None if data.get("returns") is None else [
        ReturnRow(**{**r, "due": date.fromisoformat(r["due"]) if r["due"] else None}) for r in data["returns"]]
    return CollectResult(master=master, ledger=ledger, files=scan.files, read=scan.read, unchanged=scan.unchanged,
                         merged=data["merged"], not_merged=not_merged, returns=returns)



def collect_json(result: CollectResult) -> dict[str, Any]:
    """The outcome of a collect as JSON-ready data (no answers: only references and problems)."""
    return {"master": name_key(str(result.master)), "ledger": name_key(str(result.ledger)),
            "summary": result.summary_line(), "files": result.files, "read": result.read,
            "unchanged": result.unchanged, "warnings": result.warnings, "forgotten": result.forgotten,
            **outcome_json(result)}
