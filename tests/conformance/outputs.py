"""One workbook of every kind auditbook writes, made as its commands make them, for the conformance tests.

KINDS names each kind and how to get it from an Outputs (one folder, built lazily once a session: the collect run
behind the master, the packs and the export is shared). A new kind of workbook is one more line in KINDS.
Everything is synthetic: case references SYN-..., people "Example ...".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from pathlib import Path

from auditbook.allocation.lists import Allocated, read_allocation
from auditbook.allocation.moderate import moderation_from_return
from auditbook.allocation.prefilled import allocate
from auditbook.allocation.template import write_template_xlsx
from auditbook.collection.collect import collect
from auditbook.outputs.export import export
from auditbook.returns.audit import APPLIES
from auditbook.returns.provenance import SpecRegistry
from auditbook.returns.validate import validate_file
from auditbook.spec import Spec, default_spec_path, load_spec, specs_dir
from auditbook.spec.layout import build_layout
from auditbook.spec.roles import Role
from auditbook.workbook.context import Answer
from auditbook.workbook.generate import generate_workbook
from auditbook.workbook.moderation import AuditToModerate, build_moderation
from auditbook.workbook.synthetic import synthetic_answers
from auditbook.workbook.writer import build_workbook

#: The round the returns are for, and the day collect runs (after it is due, so some returns are late).
MONTH, EARLIER, NOW = "2026-11", "2026-07", datetime(2026, 12, 5)
#: Who is allocated what: case, team, manager. SYN-0003 is never returned; SYN-0004 comes back with a bad grade.
ALLOCATED = (("SYN-0001", "Team Alpha", "Example Manager Alpha"), ("SYN-0002", "Team Beta", "Example Manager Beta"),
             ("SYN-0003", "Team Alpha", "Example Manager Alpha"), ("SYN-0004", "Team Beta", "Example Manager Beta"))


@dataclass(frozen=True)
class Collected:
    """What one collect run wrote: the master, a pack per manager, and the export (xlsx)."""

    master: Path
    packs: list[Path]
    export: Path


class Outputs:
    """The workbooks of every kind, written into `folder` when first asked for."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @cached_property
    def spec(self) -> Spec:
        """The bundled Deep Dive spec."""
        return load_spec(default_spec_path())

    def blank(self, spec_file: str) -> Path:
        """A blank audit workbook of a bundled spec, as `auditbook generate` writes it."""
        spec = load_spec(specs_dir() / spec_file)
        return generate_workbook(spec, out=self.folder / f"blank-{spec.id}.xlsx", prefill={})

    @cached_property
    def allocation(self) -> list[Allocated]:
        """The allocation list, read from a CSV as `auditbook allocate` and `collect --allocation` read it."""
        listing = self.folder / "allocation.csv"
        lines = ["Case reference,Team,Allocated worker,Team manager,Auditor,Audit month (YYYY-MM)"]
        lines += [f"{case},{team},Example Worker {case[-1]},{manager},Example Auditor,{MONTH}"
                  for case, team, manager in ALLOCATED]
        listing.write_text("\n".join(lines) + "\n", encoding="utf-8")
        rows, bad = read_allocation(listing)
        assert bad == [], bad
        return rows

    def allocated(self) -> Path:
        """An allocated (prefilled, locked) workbook, as `auditbook allocate` writes it."""
        return allocate(self.spec, self.allocation[:1], out=self.folder / "allocated", workers=1)[0]

    def template(self) -> Path:
        """The allocation template, as `auditbook allocate --template` writes it."""
        return write_template_xlsx(self.folder / "allocation-template.xlsx", today=date(2026, 11, 2))

    def filled_return(self) -> Path:
        """A filled-in return, as the demo writes them."""
        return self._returns / f"{ALLOCATED[0][1]}" / f"{ALLOCATED[0][0]}.xlsx"

    @cached_property
    def _returns(self) -> Path:
        """A shared folder of returns: three of this round (one rejected), two of an earlier one."""
        folder = self.folder / "returns"
        layout = build_layout(self.spec)
        returned = [(c, t, m, MONTH, 10 + i) for i, (c, t, m) in enumerate(ALLOCATED) if c != "SYN-0003"]
        returned += [(f"SYN-01{i:02d}", "Team Alpha", "Example Manager Alpha", EARLIER, 20 + i) for i in (1, 2)]
        for case, team, manager, month, seed in returned:
            answers = synthetic_answers(layout, seed=seed, index=int(case[4:]), month=month, late=seed == 11)
            answers.update(profile_case_ref=case, profile_team=team, profile_team_manager=manager)
            if case == "SYN-0004":
                answers["assessment_grade"] = "Goodish"
            build_workbook(self.spec, out=folder / team / f"{case}.xlsx", prefill=answers)
        return folder

    @cached_property
    def collected(self) -> Collected:
        """The master, the packs and the export of one collect run over the returns."""
        result = collect(self._returns, out=self.folder / "master.xlsx", ledger_path=self.folder / "ledger.sqlite3",
                         registry=SpecRegistry.of(self.spec), now=NOW, allocation=self.allocation,
                         packs=self.folder / "packs")
        assert result.evidence is not None and result.packs, result
        written = export(result.evidence, self.folder / "export", fmt="xlsx", generated_at=NOW)
        return Collected(result.master, sorted(result.packs), written[0])

    @cached_property
    def moderation(self) -> Path:
        """A moderation workbook of the filled return, as `auditbook generate --moderate` writes it."""
        return moderation_from_return(self.filled_return(), out=self.folder / "moderation",
                                      registry=SpecRegistry.of(self.spec), now=NOW)

    @cached_property
    def moderated_master(self) -> Path:
        """A master with the Moderation tab and Moderated grades table: one return and its moderation, filled."""
        folder = self.folder / "moderated"
        folder.mkdir(exist_ok=True)
        registry = SpecRegistry.of(self.spec)
        audit_file = folder / "SYN-0001.xlsx"
        audit_file.write_bytes(self.filled_return().read_bytes())
        audit = validate_file(audit_file, registry=registry).audit
        assert audit is not None
        counted = {a.name: a.value for a in audit.answers if a.applies == APPLIES}
        moderator: dict[str, Answer] = {"moderation_moderator": "Example Moderator",
                                        "moderation_moderated_on": date(2026, 12, 1)}
        for s in audit.sections:
            if s.grade:
                moderator.update({f"{s.id}_moderation_grade": s.grade, f"{s.id}_moderation_agree": "Agree"})
        moderator.update(moderation_moderation_grade="Inadequate", moderation_moderation_agree="Disagree",
                         moderation_moderation_reason="Example reason.")
        build_moderation(AuditToModerate(self.spec, {**counted, **moderator}, audit.provenance.instance_id,
                                         audit.case_ref, audit.text(Role.ROUND), audit.text(Role.TEAM)),
                         out=folder / "moderation of SYN-0001.xlsx", now=NOW)
        result = collect(folder, out=self.folder / "moderated-master.xlsx",
                         ledger_path=self.folder / "moderated.sqlite3", registry=registry, now=NOW)
        assert result.evidence is not None and result.evidence.collation.moderations, result
        return result.master


#: Every kind of workbook auditbook writes, and where an Outputs has it.
KINDS: dict[str, Callable[[Outputs], Path]] = {
    "blank Deep Dive workbook": lambda o: o.blank("deep_dive.yaml"),
    "blank supervision audit workbook": lambda o: o.blank("supervision_audit.yaml"),
    "allocated workbook": Outputs.allocated,
    "allocation template": Outputs.template,
    "filled return (demo)": Outputs.filled_return,
    "master": lambda o: o.collected.master,
    "team manager's pack": lambda o: o.collected.packs[0],
    "export": lambda o: o.collected.export,
    "moderation workbook": lambda o: o.moderation,
    "master with moderation": lambda o: o.moderated_master,
}
