"""Where a workbook came from: the template metadata it carries three ways."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from auditbook.spec.models import Spec

#: Custom document property name for each metadata key.
PROPERTY_NAMES = {
    "spec_id": "AuditbookSpecId",
    "spec_version": "AuditbookSpecVersion",
    "spec_sha256": "AuditbookSpecSha256",
    "instance_id": "AuditbookInstanceId",
    "generated_at": "AuditbookGeneratedAt",
}
#: The same for the keys a workbook carries only when they have a value: those of a moderation workbook, and the
#: audit a re-audit follows up.
MODERATION_PROPERTY_NAMES = {
    "follows_up": "AuditbookFollowsUp",
    "kind": "AuditbookKind",
    "audit_instance_id": "AuditbookAuditInstanceId",
    "audit_case_ref": "AuditbookAuditCaseRef",
    "audit_round": "AuditbookAuditRound",
}


def property_name(key: str) -> str:
    """The custom document property of a metadata key."""
    return PROPERTY_NAMES.get(key) or MODERATION_PROPERTY_NAMES[key]


def meta_name(key: str) -> str:
    """The defined name of a metadata constant."""
    return f"meta_{key}"


@dataclass(frozen=True)
class Metadata:
    """What a workbook carries about where it came from (custom properties, metadata sheet, names)."""

    spec_id: str
    spec_version: str
    spec_sha256: str
    instance_id: str
    generated_at: str
    #: A moderation says so, and which audit it is of (its instance id, case reference and round); an audit's
    #: workbook carries none of these.
    kind: str = ""
    audit_instance_id: str = ""
    audit_case_ref: str = ""
    audit_round: str = ""
    #: A re-audit's workbook: the instance id of the audit it follows up ("" for any other workbook).
    follows_up: str = ""

    def items(self) -> list[tuple[str, str]]:
        """Key/value pairs in a fixed order (a moderation's keys only when it is one)."""
        items = [
            ("spec_id", self.spec_id),
            ("spec_version", self.spec_version),
            ("spec_sha256", self.spec_sha256),
            ("instance_id", self.instance_id),
            ("generated_at", self.generated_at),
        ]
        if self.kind:
            items += [("kind", self.kind), ("audit_instance_id", self.audit_instance_id),
                      ("audit_case_ref", self.audit_case_ref), ("audit_round", self.audit_round)]
        if self.follows_up:
            items.append(("follows_up", self.follows_up))
        return items


def new_metadata(spec: Spec, *, now: datetime | None = None, instance_id: str | None = None,
                 follows_up: str = "") -> Metadata:
    """Fresh metadata for a workbook made from this spec now (`follows_up`: a re-audit's earlier audit)."""
    at = (now or datetime.now(UTC)).replace(microsecond=0)
    return Metadata(spec.id, spec.version, spec.sha256, instance_id or str(uuid.uuid4()), at.isoformat(),
                    follows_up=follows_up)
