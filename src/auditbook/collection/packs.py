"""One workbook per team manager with only their cases' findings and actions."""

from __future__ import annotations

from pathlib import Path

from auditbook.collection.allocation import Allocated
from auditbook.collection.collate import Collation, Merged
from auditbook.collection.master import write_pack
from auditbook.spec.roles import Role
from auditbook.text import norm, slug


def write_packs(collation: Collation, folder: Path, allocation: list[Allocated]) -> list[Path]:
    """One workbook per team manager with only their cases; the manager comes from the return's profile,
    else from the allocation list."""
    by_case = {norm(a.case_ref): a.team_manager for a in allocation}
    groups: dict[str, tuple[str, list[Merged]]] = {}
    for m in collation.merged:
        manager = m.audit.text(Role.TEAM_MANAGER) or by_case.get(norm(m.audit.case_ref)) or ""
        manager = " ".join(manager.split()) or "No team manager named"
        groups.setdefault(norm(manager), (manager, []))[1].append(m)
    written: list[Path] = []
    used: set[str] = set()
    for _, (manager, merged) in sorted(groups.items()):
        name, n = f"pack_{slug(manager)}", 1
        while name in used:  # two managers whose names make the same file name each keep their own pack
            n += 1
            name = f"pack_{slug(manager)}-{n}"
        used.add(name)
        written.append(write_pack(manager, merged, out=folder / f"{name}.xlsx"))
    return written
