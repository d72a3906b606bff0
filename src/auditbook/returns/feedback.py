"""Feedback for auditors: one plain-text note per auditor, listing their returns and what to fix, ready to send.

Auditors never run validate: the collator sends each the note for their returns. An auditor is named by the
spec's auditor role; returns that name none (or could not be read) go in one note for the collator. A return is
named by its case reference (and its file's name only where that alone does not tell two of the auditor's returns
apart): nothing a return says about a child is in a note but what the auditor wrote in a cell a problem is about.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path, PurePath
from typing import NamedTuple

from auditbook.atomic import replacing
from auditbook.dates import uk
from auditbook.problems import Problem
from auditbook.returns.provenance import SpecRegistry
from auditbook.returns.report import Report
from auditbook.spec.moderation import SECTION as MODERATION_SECTION
from auditbook.spec.roles import Role
from auditbook.text import norm, plural, shown, slug

#: The note for returns that name no auditor (or could not be read): for the collator, not to send.
NOBODY = "no auditor named"
#: What a note ends with: what to do about errors, and about warnings, when it lists any.
TO_FIX = ("Fix each error in the workbook you sent, save it and return it to the same place: a return with an error "
          "is not collected until it is fixed.")
TO_LOOK_AT = ("A warning does not stop a return being collected: check each one, and change the answer if it is "
              "wrong.")
ALL_WELL = "Thank you: there is nothing to fix."
FOR_THE_COLLATOR = "Find who sent each file, and send them what it says about it."


class Note(NamedTuple):
    """One auditor's note: who it is for, the file it is written to, and its text."""

    auditor: str
    name: str
    text: str


def auditor_of(report: Report, registry: SpecRegistry | None = None) -> str:
    """The auditor a return names (the spec's auditor role), or "" when it names none or could not be read; of a
    moderation (with the registry), the moderator it names: its problems are theirs to put right."""
    audit = report.audit
    if audit is None:
        return ""
    spec = registry.by_sha.get(audit.provenance.spec_sha256) if registry is not None else None
    if audit.is_moderation and spec is not None and spec.moderation is not None:
        return str(audit.answer(MODERATION_SECTION, spec.moderation.moderator) or "").strip()
    return audit.text(Role.AUDITOR).strip()


def feedback_notes(reports: Iterable[Report], *, registry: SpecRegistry, checked: date) -> list[Note]:
    """A note per auditor for these reports (skipped files left out), in the order the auditors first appear."""
    by_auditor: dict[str, list[Report]] = {}
    names: dict[str, str] = {}
    for report in reports:
        if report.skipped is not None:
            continue
        auditor = auditor_of(report, registry)
        key = norm(auditor)
        names.setdefault(key, auditor or NOBODY)
        by_auditor.setdefault(key, []).append(report)
    notes = [_note(names[key], rs, registry, checked) for key, rs in by_auditor.items()]
    taken: dict[str, int] = {}
    for i, note in enumerate(notes):
        # Two spellings that make one file name ("A. Smith", "A Smith") each keep a note of their own.
        seen = taken[note.name] = taken.get(note.name, 0) + 1
        if seen > 1:
            notes[i] = Note(note.auditor, note.name.replace(".txt", f"-{seen}.txt"), note.text)
    return notes


def write_feedback(reports: Iterable[Report], folder: Path, *, registry: SpecRegistry, checked: date) -> list[Path]:
    """Write each auditor's note into `folder` (made if need be) as a text file; the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for note in feedback_notes(reports, registry=registry, checked=checked):
        path = folder / note.name
        with replacing(path) as tmp:
            tmp.write_text(note.text, encoding="utf-8")
        written.append(path)
    return written


def _note(auditor: str, reports: list[Report], registry: SpecRegistry, checked: date) -> Note:
    """The note for one auditor: a heading, one paragraph per return, what to do."""
    specs = [registry.by_sha.get(r.audit.provenance.spec_sha256) for r in reports if r.audit is not None]
    known = [s for s in specs if s is not None]
    marking = known[0].classification if known else "OFFICIAL-SENSITIVE"
    title = " / ".join(dict.fromkeys(s.title for s in known)) or "Audit returns"
    refs = [_reference(r) for r in reports]
    errors = sum(1 for r in reports if r.errors or r.audit is None)
    heading = ([f"{title}: returns that name no auditor, or could not be read", "For the collator."]
               if auditor == NOBODY else [f"{title}: feedback on your returns", f"For: {auditor}"])
    lines = [marking, "", *heading, f"Checked: {uk(checked)}", "",
             f"{plural(len(reports), 'return')}: {_counted(len(reports) - errors, errors)}.", ""]
    for report, ref in zip(reports, refs, strict=True):
        named = ref if ref and refs.count(ref) == 1 else f"{ref} ({_file(report)})" if ref else _file(report)
        lines += [*_return(named, report), ""]
    lines += [*_closing(auditor, reports), "", marking, ""]
    file_name = f"feedback-{slug(auditor)}.txt"  # slug() keeps a name safe for any file system
    return Note(auditor, file_name, "\n".join(lines))


def _closing(auditor: str, reports: list[Report]) -> list[str]:
    """What to do: about the errors and the warnings the note lists (or nothing to fix)."""
    if auditor == NOBODY:
        return [FOR_THE_COLLATOR]
    said = [text for text, found in ((TO_FIX, any(r.errors or r.audit is None for r in reports)),
                                     (TO_LOOK_AT, any(r.warnings for r in reports))) if found]
    return [" ".join(said) or ALL_WELL]


def _counted(valid: int, with_errors: int) -> str:
    """How many are valid and how many need fixing, in English."""
    parts = [f"{valid} valid" if valid else "", f"{with_errors} to fix before {'it' if with_errors == 1 else 'they'} "
                                                f"can be collected" if with_errors else ""]
    return ", ".join(p for p in parts if p) or "none"


def _reference(report: Report) -> str:
    """A return's case reference, or "" when it has none."""
    return shown(report.audit.case_ref) if report.audit is not None else ""


def _file(report: Report) -> str:
    """The file's own name (not the folders it is in)."""
    return shown(PurePath(report.file).name)


def _return(named: str, report: Report) -> list[str]:
    """One return's lines: how it stands, then its errors to fix and its warnings to look at."""
    errors, warnings = report.errors, report.warnings
    if report.audit is None:
        return [f"{named}: could not be read as an audit.", *_listed("To fix", report.problems)]
    if not errors and not warnings:
        return [f"{named}: valid, nothing to fix."]
    standing = f"{plural(len(errors), 'error')} to fix" if errors else "valid"
    if warnings:
        standing += f", {plural(len(warnings), 'warning')} to look at"
    lines = [f"{named}: {standing}."]
    lines += _listed("To fix", [p for p in report.problems if p.severity == "error"])
    lines += _listed("To look at", [p for p in report.problems if p.severity == "warning"])
    return lines


def _listed(heading: str, problems: Sequence[Problem]) -> list[str]:
    """Problems under a heading, each where it is and what to do; those one answer causes indented under it."""
    if not problems:
        return []
    return [f"  {heading}:", *(f"{'      ' if p.under else '    '}- {_said(p)}" for p in problems)]


def _said(problem: Problem) -> str:
    """A problem in plain words: "1b Assessment, cell C33: ..." (no code: the auditor needs the words)."""
    where = f"{problem.sheet}, cell {problem.cell}" if problem.sheet and problem.cell else problem.sheet or ""
    return f"{where}: {problem.message}" if where else problem.message
