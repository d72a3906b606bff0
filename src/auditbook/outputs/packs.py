"""One workbook per team manager with only their cases' urgent concerns, findings and actions (Status, Notes, Date
closed to fill in).

A pack is printed and read on paper: its Findings and Actions tabs have fewer, narrower columns than the master's and
print one page wide, so every row prints beside its case and section, and an action's wording on the same page as its
Status and Notes.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import replace
from pathlib import Path

from auditbook.allocation.lists import Allocated
from auditbook.analysis.collate import Collation
from auditbook.analysis.evidence import Evidence
from auditbook.outputs.master import actions_tab
from auditbook.outputs.pack_guide import write_guide
from auditbook.outputs.sheets import Sheets, output_workbook
from auditbook.outputs.tidy import findings_table, projected
from auditbook.outputs.urgent_tab import urgent_tab
from auditbook.spec.roles import Role
from auditbook.store.readback import MAX_TEXT, conflict_parties
from auditbook.store.register import Register
from auditbook.text import name_key, norm, slug

#: Longest slug of a manager's name in a pack's file name: well inside every file system's 255-byte limit, and
#: short enough for Windows' 260-character paths in a deep folder.
SLUG_MAX = 60

PACK_GLOB = "pack_*.xlsx"

#: A pack's Actions and Findings columns, with their widths: within a page's width (sheets.PAGE_WIDTH), so each
#: action prints whole on one page, its wording beside its Status and Notes, and each finding beside its case and
#: section. The round, team and source file are the master's.
PACK_ACTION_WIDTHS = {"Action ID": 16, "Case reference": 12, "Section": 14, "Action": 34, "Responsible": 14,
                      "Timescale": 11, "Priority": 8, "Status": 11, "Notes": 22, "Date closed": 11, "Overdue": 8,
                      "Conflicting edits": 14}
PACK_FINDING_WIDTHS = {"Case reference": 12, "Allocated worker": 13, "Section": 16, "Grade": 12, "Theme tags": 22,
                       "What is working well": 40, "What needs to improve": 40, "Impact": 20}
#: Status, Notes and Date closed are read back: a pack's tab keeps all three.
PACK_URGENT_WIDTHS = {"Concern ID": 16, "Case reference": 12, "Raised": 11, "Raised with": 16,
                      "What the concern was": 31, "What was agreed": 31, "Return": 19, "Status": 9, "Notes": 19,
                      "Date closed": 11}


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


def _pack_tabs(s: Sheets, manager: str, e: Evidence, files: set[str]) -> list[str]:
    """The pack's tabs: the guide, its urgent concerns (when it has any), findings and actions; the ids it holds."""
    merged = [m for m in e.collation.merged if m.file in files]
    sub = Collation(merged=merged, specs=e.collation.specs, grades=e.collation.grades)
    actions = [a for a in e.actions if a.file in files]
    urgent = [u for u in e.urgent if u.file in files]
    write_guide(s, manager, len(merged), len(actions), MAX_TEXT, urgent=len(urgent))
    # A conflict's first line only: who changed what, not what the collator typed into the master.
    states = {i: replace(st, conflict=conflict_parties(st.conflict)) if st.conflict else st
              for i in {*(a.id for a in actions), *(u.id for u in urgent)} if (st := e.states.get(i)) is not None}
    if urgent:
        urgent_tab(s, urgent, states, PACK_URGENT_WIDTHS)
    # One page wide: every printed row says its case and section beside what was found.
    s.tidy(projected(findings_table(sub), PACK_FINDING_WIDTHS))
    actions_tab(s, actions, states, e.today, PACK_ACTION_WIDTHS)
    return [*(a.id for a in actions), *(u.id for u in urgent)]


def write_pack(manager: str, e: Evidence, files: set[str], *, out: Path,
               classification: str = "OFFICIAL-SENSITIVE") -> list[str]:
    """One team manager's pack: their cases' urgent concerns, findings and actions, with Status, Notes and Date
    closed to fill in.

    Returns the action and urgent concern ids it holds (what the pack now says of them is remembered, to tell later
    edits apart).
    """
    with output_workbook(out, kind="pack", title=f"Audits for {manager}", classification=classification,
                         shared=False) as s:
        return _pack_tabs(s, manager, e, files)


def _groups(e: Evidence, allocation: list[Allocated]) -> dict[str, tuple[str, set[str]]]:
    """Each team manager's files (by norm of their name): their merged returns, and the files of their urgent
    concerns whatever became of those returns."""
    by_case = {norm(a.case_ref): a.team_manager for a in allocation}
    groups: dict[str, tuple[str, set[str]]] = {}

    def add(named: str, case_ref: str, file: str) -> None:
        manager = " ".join((named or by_case.get(norm(case_ref)) or "").split()) or "No team manager named"
        groups.setdefault(norm(manager), (manager, set()))[1].add(file)

    for m in e.collation.merged:
        add(m.audit.text(Role.TEAM_MANAGER), m.audit.case_ref, m.file)
    for u in e.urgent:
        add(u.concern.team_manager, u.concern.case_ref, u.file)
    return groups


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
    groups = _groups(e, allocation)
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
