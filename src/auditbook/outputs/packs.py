"""One workbook per team manager with only their cases' findings and actions (Status, Notes, Date closed to fill in)."""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from pathlib import Path

from auditbook.allocation.lists import Allocated
from auditbook.analysis.evidence import Evidence
from auditbook.outputs.master import write_pack
from auditbook.spec.roles import Role
from auditbook.store.register import Register
from auditbook.text import name_key, norm, slug

#: Longest slug of a manager's name in a pack's file name: well inside every file system's 255-byte limit, and
#: short enough for Windows' 260-character paths in a deep folder.
SLUG_MAX = 60

PACK_GLOB = "pack_*.xlsx"


def pack_name(manager: str, used: set[str]) -> str:
    """A file name safe on every file system (ASCII letters, digits and hyphens; bounded length; never a
    reserved name such as CON, thanks to the prefix) and unique among `used`, ignoring case."""
    base = f"pack_{slug(manager)[:SLUG_MAX].strip('-') or 'x'}"
    name, n = base, 1
    while name.lower() in used:  # two managers whose names make the same file name each keep their own pack
        n += 1
        name = f"{base}-{n}"
    used.add(name.lower())
    return f"{name}.xlsx"


def pack_names(managers: list[tuple[str, str]], kept: dict[str, str], taken: AbstractSet[str] = frozenset()
               ) -> dict[str, str]:
    """Each manager's pack file name by their key: the one they had before (kept, by the same keys), else a new one
    no manager ever had and no file in `taken` has (a return saved into the packs folder), so that a file never
    changes hands when a new name appears."""
    used = {name.lower().removesuffix(".xlsx") for name in [*kept.values(), *taken]}
    out = {}
    for key, manager in managers:
        out[key] = kept.get(key) or pack_name(manager, used)
    return out


def write_packs(e: Evidence, folder: Path, allocation: list[Allocated], register: Register,
                names: dict[str, str] | None = None, *,
                kept: AbstractSet[str] = frozenset()) -> tuple[list[Path], list[str]]:
    """One workbook per team manager with only their cases, and a line for each pack that could not be written.

    The manager comes from the return's profile, else from the allocation list. What each pack now holds of
    every action is remembered by the register, so that a team manager's later edits can be told apart. `names`
    are the file names managers' packs had before (by norm of the name): kept, and given the new ones; a new name is
    never that of a file in the folder other than the packs written before (`kept`)."""
    by_case = {norm(a.case_ref): a.team_manager for a in allocation}
    groups: dict[str, tuple[str, set[str]]] = {}
    for m in e.collation.merged:
        manager = m.audit.text(Role.TEAM_MANAGER) or by_case.get(norm(m.audit.case_ref)) or ""
        manager = " ".join(manager.split()) or "No team manager named"
        groups.setdefault(norm(manager), (manager, set()))[1].add(m.file)
    written: list[Path] = []
    failed: list[str] = []
    given = {} if names is None else names
    others = {p.name for p in folder.glob("*.xlsx")} - kept if folder.is_dir() else set()
    given.update(pack_names([(key, manager) for key, (manager, _) in sorted(groups.items())], given, others))
    for key, (manager, files) in sorted(groups.items()):
        out = folder / given[key]
        try:
            ids = write_pack(manager, e, files, out=out)
        except Exception as err:  # one pack that cannot be written costs that pack only
            reason = getattr(err, "strerror", None) or type(err).__name__
            failed.append(f"the pack {name_key(out.name)} ({len(files)} case(s)) could not be written ({reason}).")
            continue
        register.wrote(f"pack:{out.name}", ids, dict(e.states))
        written.append(out)
    return written, failed
