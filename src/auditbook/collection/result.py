"""What a collect did, and its JSON form (references and problems only, never answers)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from auditbook.analysis.actions import State
from auditbook.analysis.collate import Collation, NotMerged
from auditbook.analysis.evidence import Evidence
from auditbook.analysis.tracking import OUTSTANDING, OVERDUE, ReturnRow
from auditbook.dates import uk
from auditbook.problems import Problem
from auditbook.store.register import iso
from auditbook.store.scan import Scan
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
    #: Entries of the folder not read: skipped unread (lock files, not workbooks, pipes) and could not be opened.
    skipped: int = 0
    not_read: int = 0
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
    #: Every urgent concern in the folder (case references only, no child's details): kept with the outcome, so a
    #: collect that changed nothing still says them.
    urgent: list[dict[str, Any]] = field(default_factory=list)
    #: Each moderation paired with its audit (file, audit file, case, round): kept beside the audits merged.
    moderations: list[dict[str, Any]] = field(default_factory=list)

    def urgent_lines(self) -> list[str]:
        """A line for each urgent concern still open, and one counting those closed: what collect says first."""
        lines = [u["line"] for u in self.urgent if u["status"] != "Closed"]
        closed = len(self.urgent) - len(lines)
        if closed:
            lines.append(f"{_n(closed, 'urgent concern')} closed (see the master's Urgent concerns tab)")
        return lines

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

    def late_lines(self) -> list[str]:
        """Each late return with its due and completed dates: `late FILE: completed 03/12/2026, due 30/11/2026`."""
        out = []
        for m in self.merged:
            if any(w["code"] == "late" for w in m["warnings"]):
                dates = [f"{word} {uk(date.fromisoformat(m[key]))}" for word, key in (("completed", "completed"),
                                                                                      ("due", "due")) if m.get(key)]
                out.append(f"late {m['file']}: {', '.join(dates) or 'completed after its due date'} (merged)")
        return out

    @property
    def source_missing(self) -> list[str]:
        """Merged returns whose file is gone from the folder (kept from the ledger)."""
        return [m["file"] for m in self.merged if m["source_missing"]]

    def summary_line(self) -> str:
        """What happened to every file, in counts that add up, e.g. `29 files: 28 unchanged since last run, 1 read;
        master holds 24 audits; 2 rejected; 1 duplicate; 1 superseded`."""
        reading = [f"{self.unchanged} unchanged since last run", f"{self.read} read"]
        reading += [f"{n} {what}" for n, what in ((self.skipped, "skipped"), (self.not_read, "not read")) if n]
        missing = len(self.source_missing)
        held = f"master holds {_n(len(self.merged), 'audit')}" + (
            f" ({missing} from files no longer in the folder)" if missing else "") + (
            f" and {_n(len(self.moderations), 'moderation')} of them" if self.moderations else "")
        damaged = self.count("not read") - self.not_read
        outcomes = [f"{self.count('rejected')} rejected", f"{self.count('duplicate')} duplicate",
                    f"{self.count('superseded')} superseded"]
        # auditbook's own files (a master, pack or export left among the returns) are told apart by reading them:
        # read or unchanged, then skipped.
        own = self.count("skipped") - self.skipped
        waiting = self.count("unpaired")
        if waiting:
            outcomes.append(f"{_n(waiting, 'moderation')} waiting for {'its' if waiting == 1 else 'their'} audit")
        outcomes += [f"{n} {what}" for n, what in ((self.count("other round"), "in other rounds"),
                                                     (damaged, "damaged in the ledger"),
                                                     (own, "auditbook output, not a return")) if n]
        return f"{_n(self.files, 'file')}: {', '.join(reading)}; {held}; {'; '.join(outcomes)}"


def _n(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def result_of(c: Collation, master: Path, ledger: Path, scan: Scan) -> CollectResult:
    merged = [{"file": m.file, "case_ref": m.audit.case_ref, "round": m.round, "source_missing": m.source_missing,
               "due": iso(m.audit.due_date), "completed": iso(m.audit.completed),
               "warnings": [p.as_dict() for p in m.warnings]} for m in c.merged]
    moderations = [{"file": p.file, "audit_file": p.audit_file, "case_ref": p.audit.case_ref, "round": p.round}
                   for p in c.moderations]
    return CollectResult(master=master, ledger=ledger, files=scan.files, read=scan.read, unchanged=scan.unchanged,
                         merged=merged, not_merged=list(c.not_merged), collation=c, skipped=scan.skipped,
                         not_read=scan.not_read, moderations=moderations)


def urgent_json(e: Evidence) -> list[dict[str, Any]]:
    """The urgent concerns as collect says them: references, dates and statuses, never what the concern was."""
    return [{"id": u.id, "case_ref": u.concern.case_ref, "raised": iso(u.concern.raised),
             "with_whom": u.concern.with_whom, "round": u.round, "file": u.file, "return": u.return_words(),
             "status": u.status(e.states.get(u.id, State())), "line": u.line()} for u in e.urgent]


def outcome_json(result: CollectResult) -> dict[str, Any]:
    returns = None if result.returns is None else [
        {**dataclasses.asdict(r), "due": iso(r.due)} for r in result.returns]
    return {"urgent": result.urgent, "merged": result.merged, "moderations": result.moderations, "returns": returns,
            "not_merged": [{"file": n.file, "status": n.status, "reason": n.reason,
                            "problems": [p.as_dict() for p in n.problems]} for n in result.not_merged]}


def result_from_json(data: dict[str, Any], master: Path, ledger: Path, scan: Scan) -> CollectResult:
    not_merged = [NotMerged(n["file"], n["status"], n["reason"],
                            tuple(Problem.from_dict(p) for p in n["problems"])) for n in data["not_merged"]]
    returns = None if data.get("returns") is None else [
        ReturnRow(**{**r, "due": date.fromisoformat(r["due"]) if r["due"] else None}) for r in data["returns"]]
    return CollectResult(master=master, ledger=ledger, files=scan.files, read=scan.read, unchanged=scan.unchanged,
                         merged=data["merged"], not_merged=not_merged, returns=returns, skipped=scan.skipped,
                         not_read=scan.not_read, urgent=list(data.get("urgent", [])),
                         moderations=data.get("moderations", []))



def collect_json(result: CollectResult) -> dict[str, Any]:
    """The outcome of a collect as JSON-ready data (no answers: only references and problems)."""
    return {"master": name_key(str(result.master)), "ledger": name_key(str(result.ledger)),
            "summary": result.summary_line(), "files": result.files, "read": result.read,
            "unchanged": result.unchanged, "skipped": result.skipped, "not_read": result.not_read,
            "warnings": result.warnings, "forgotten": result.forgotten,
            **outcome_json(result)}
