"""A moderation sample of a round (allocate --moderate): the round's merged audits as collect last saw them, a sample
stratified by team and grade (every Inadequate one included), their moderation workbooks, and the rows that track
them on the Returns tab."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditbook.allocation.moderate import (
    Candidate,
    moderation_list,
    sample,
    sample_size,
    to_moderate,
    write_moderations,
)
from auditbook.atomic import replacing
from auditbook.collection.collect import gather_folder
from auditbook.collection.session import Options, options
from auditbook.errors import CollectError
from auditbook.local import LocalDetails
from auditbook.returns.provenance import SpecRegistry
from auditbook.spec.roles import Role

#: The file the sample's tracking rows are written to, beside the workbooks.
LIST_NAME = "moderation-list.csv"


@dataclass
class Sample:
    """What allocate --moderate did: the round, how many audits it chose from, the workbooks and the list."""

    round: str
    of: int
    chosen: list[Candidate] = field(default_factory=list)
    paths: list[Path] = field(default_factory=list)
    listing: Path | None = None
    already: int = 0


def moderation_sample(folder: Path, opts: Options | None = None, /, *, share: str, seed: int, out: Path,
                      moderator: str = "", local: LocalDetails | None = None, **given: Any) -> Sample:
    """Choose the round's audits to moderate (--round, else the latest), write their moderation workbooks into `out`
    and the rows that track them (moderation-list.csv). Audits moderated already are not chosen again."""
    o = options(opts, given)
    evidence = gather_folder(folder, o)
    c = evidence.collation
    if evidence.current is None:
        raise CollectError("no audits are merged yet, so there is nothing to moderate. Collect the round first.")
    moderated = {p.audit_file for p in c.moderations}
    merged = [m for m in evidence.in_round if m.file not in moderated]
    found = Sample(evidence.current.round, len(merged), already=len(evidence.in_round) - len(merged))
    if not merged:
        raise CollectError(f"every audit of {found.round} is moderated already ({found.already}); nothing to add.")
    registry = o.registry or SpecRegistry.load()
    lowest = [grades[-1] for spec in c.specs if (grades := spec.lists.get(spec.grade_list))]
    candidates = [Candidate(audit, m.round, audit.text(Role.TEAM), audit.text(Role.OVERALL_GRADE))
                  for m in merged for audit in [m.original or m.audit]]
    found.chosen = sample(candidates, sample_size(share, len(candidates)), inadequate=lowest, seed=seed)
    found.paths = write_moderations([to_moderate(x.audit, registry, x.round) for x in found.chosen], out=out,
                                    local=local)
    with replacing(out / LIST_NAME) as tmp:
        tmp.write_text(moderation_list(found.chosen, moderator=moderator), encoding="utf-8")
    found.listing = out / LIST_NAME
    return found
