"""One workbook per team manager with only their cases' findings and actions (Status, Notes, Date closed to fill in)."""

from __future__ import annotations

from pathlib import Path

from auditbook.collection.allocation import Allocated
from auditbook.collection.evidence import Evidence
from auditbook.collection.master import write_pack
from auditbook.collection.register import Register
from auditbook.spec.roles import Role
from auditbook.text import name_key, norm, slug

#: Longest slug of a manager's name in a pack's file name: well inside every file system's 255-byte limit, and
#: short enough for Windows' 260-character paths in a deep folder.
SLUG_MAX = 60

PACK_GLOB = "pack_*.xlsx"


def write_packs(e: Evidence, folder: Path, allocation: list[Allocated], register: Register) -> list[Path]:
    """One workbook per team manager with only their cases; the manager comes from the return's profile,
    else from the allocation list. What each pack now holds of every action is remembered by the register."""
    by_case = {norm(a.case_ref): a.team_manager for a in allocation}
    groups: dict[str, tuple[str, set[str]]] = {}
    for m in e.collation.merged:
        manager = m.audit.text(Role.TEAM_MANAGER) or by_case.get(norm(m.audit.case_ref)) or ""
        manager = " ".join(manager.split()) or "No team manager named"
        groups.setdefault(norm(manager), (manager, set()))[1].add(m.file)
    written: list[Path] = []
    failed: list[str] = []
    used: set[str] = set()
    for _, (manager, files) in sorted(groups.items()):
        name, n = f"pack_{slug(manager)}", 1
        while name in used:  # two managers whose names make the same file name each keep their own pack
            n += 1
            name = f"pack_{slug(manager)}-{n}"
        used.add(name)
        path = folder / f"{name}.xlsx"
        ids = write_pack(manager, e, files, out=path)
        register.wrote(f"pack:{path.name}", ids, dict(e.states))
        written.append(path)
    return written
