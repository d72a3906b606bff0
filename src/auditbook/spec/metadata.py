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
    "follows_up": "AuditbookFollowsUp",
}


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
    #: A re-audit's workbook: the instance id of the audit it follows up ("" for any other workbook).
    follows_up: str = ""

    def items(self) -> list[tuple[str, str]]:
        """Key/value pairs in a fixed order."""
        return [
            ("spec_id", self.spec_id),
            ("spec_version", self.spec_version),
            ("spec_sha256", self.spec_sha256),
            ("instance_id", self.instance_id),
            ("generated_at", self.generated_at),
        ] + ([("follows_up", self.follows_up)] if self.follows_up else [])


def new_metadata(spec: Spec, *, now: datetime | None = None, instance_id: str | None = None,
                 follows_up: str = "") -> Metadata:
    """Fresh metadata for a workbook made from this spec now (`follows_up`: a re-audit's earlier audit)."""
    at = (now or datetime.now(UTC)).replace(microsecond=0)
    return Metadata(spec.id, spec.version, spec.sha256, instance_id or str(uuid.uuid4()), at.isoformat(), follows_up)
