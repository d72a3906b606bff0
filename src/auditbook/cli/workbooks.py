"""The commands that make workbooks: generate, describe, allocate, settings and spec."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from auditbook.allocation.lists import (
    Allocated,
    AllocationError,
    AllocationFileError,
    RowProblem,
    bad_rows_message,
    read_allocation,
)
from auditbook.allocation.moderate import moderation_from_return
from auditbook.allocation.prefilled import allocate as run_allocate
from auditbook.allocation.template import write_template
from auditbook.cli.app import (
    Command,
    JsonOption,
    SettingsOption,
    SpecOption,
    SpecsOption,
    app,
    console,
    err_console,
    fail,
    print_json,
    progress_bar,
    settings_or_exit,
    spec_app,
    spec_or_exit,
)
from auditbook.collection.moderate import LIST_NAME, moderation_sample
from auditbook.collection.session import Options
from auditbook.dates import month_text
from auditbook.errors import AuditbookError
from auditbook.local import RoundCalendar
from auditbook.problems import CATALOGUE, catalogue_markdown, described
from auditbook.returns.provenance import SpecRegistry
from auditbook.settings import example_settings, find_settings, settings_lines
from auditbook.spec import default_spec_path, json_schema, load_spec
from auditbook.spec.lint_roles import missing_roles
from auditbook.text import plural
from auditbook.workbook.describe import data_dictionary
from auditbook.workbook.generate import generate_workbook, role_prefill


@app.command(cls=Command)
def generate(
    spec: SpecOption = None,
    out: Annotated[Path, typer.Option("--out", help="A folder (a readable name is chosen) or a .xlsx path.")] = Path(
        "output"),
    case_ref: Annotated[str | None, typer.Option("--case-ref", help="Case reference to prefill.")] = None,
    auditor: Annotated[str | None, typer.Option("--auditor", help="Auditor to prefill.")] = None,
    team: Annotated[str | None, typer.Option("--team", help="Team to prefill.")] = None,
    month: Annotated[str | None, typer.Option("--month", metavar="YYYY-MM", help=(
        "Audit month (2026-11; 11/2026 and Nov-26 are read too): sets the due date, the period and, with a round "
        "calendar in the settings, the round."))] = None,
    round_name: Annotated[str | None, typer.Option("--round", help=(
        "Audit round to prefill. Default: the one the settings' round calendar gives the month."))] = None,
    password: Annotated[str, typer.Option("--password", help="Sheet protection password (default: none).")] = "",
    force: Annotated[bool, typer.Option("--force", help="Overwrite a workbook that is already there.")] = False,
    settings: SettingsOption = None,
    as_json: JsonOption = False,
    moderate: Annotated[Path | None, typer.Option("--moderate", metavar="RETURN.xlsx", dir_okay=False, exists=True,
                                                  help=(
        "Write the moderation workbook of this (valid) return instead: its answers, grades and evidence locked, "
        "and each section's and the overall grade for the moderator to judge."))] = None,
    specs: SpecsOption = None,
) -> None:
    """Write one locked audit workbook (or, with --moderate, a moderation workbook) and print its path."""
    local = settings_or_exit(settings).local
    if moderate is not None:
        try:
            path = moderation_from_return(moderate, out=out, registry=SpecRegistry.load(tuple(specs or ())),
                                          password=password, overwrite=force, local=local)
        except AuditbookError as e:
            raise fail(e) from None
        console.print(str(path), soft_wrap=True, markup=False)
        return
    loaded = spec_or_exit(spec)
    try:
        if month:  # as allocate reads it: 2026-11, also 11/2026, Nov-26, 01/11/2026
            month = month_text(month)
        prefill = role_prefill(loaded, case_ref=case_ref, auditor=auditor, team=team, month=month,
                               round_name=round_name, rounds=local.rounds)
        path = generate_workbook(loaded, out=out, prefill=prefill, password=password, overwrite=force, local=local)
        calendar = local.rounds.contradicts(round_name or "", month) if month else None
    except AuditbookError as e:
        raise fail(e) from None
    if calendar:
        err_console.print(f'Warning: round "{round_name}" is not the one the round calendar gives {month} '
                          f'("{calendar}"); the workbook says "{round_name}". Check the round, or the calendar in '
                          "the settings.", markup=False, soft_wrap=True)
    if as_json:
        print_json({"workbook": str(path)})
        return
    console.print(str(path), soft_wrap=True, markup=False)


@app.command(cls=Command)
def describe(
    spec: SpecOption = None,
    as_json: JsonOption = False,
    problems: Annotated[bool, typer.Option("--problems", help=(
        "Print the catalogue of problems instead: every code auditbook reports, its severity, what it means and "
        "the words of its message and fix."))] = False,
    markdown: Annotated[bool, typer.Option("--markdown", help=(
        "With --problems: print the catalogue as Markdown, as docs/problems.md holds it."))] = False,
) -> None:
    """Print the data dictionary: every input's defined name, sheet, cell, type, choices and condition (or, with
    --problems, every problem code auditbook reports)."""
    if problems:
        print_problems(as_json=as_json, markdown=markdown)
        return
    if markdown:
        err_console.print("Error: --markdown is for --problems: the data dictionary is printed as a table or --json.")
        raise typer.Exit(2)
    dd = data_dictionary(spec_or_exit(spec))
    if as_json:
        print_json(dd, ascii_only=False)
        return
    table = Table("name", "sheet", "cell", "type", "required", "applies when", "label")
    for i in dd["inputs"]:
        cond = json.dumps(i["applies_when"]) if i["applies_when"] else ""
        table.add_row(i["name"], i["sheet"], i["cell"], i["type"], "yes" if i["required"] else "", cond, i["label"])
    console.print(table)


def print_problems(*, as_json: bool, markdown: bool) -> None:
    """The catalogue of problems: as JSON, as Markdown (docs/problems.md), or topic by topic on the screen."""
    if as_json:
        print_json({"problems": list(described())}, ascii_only=False)
        return
    if markdown:
        print(catalogue_markdown(), end="")
        return
    topic = ""
    for code, entry in CATALOGUE.items():
        if entry.topic != topic:
            console.print(f"{chr(10) if topic else ''}[bold]{escape(entry.topic)}[/]", soft_wrap=True)
            topic = entry.topic
        console.print(f"{code} ({entry.severity}): {entry.title}", markup=False, soft_wrap=True)
        for name, said in [(None, entry.words), *entry.cases.items()]:
            console.print(f"    {f'({name}) ' if name else ''}{said.shown()}", markup=False, soft_wrap=True)


@app.command(cls=Command)
def allocate(
    allocation: Annotated[Path | None, typer.Argument(help="The allocation list (CSV or xlsx), one row per case.",
                                                      dir_okay=False)] = None,
    spec: SpecOption = None,
    out: Annotated[Path, typer.Option("--out", help="Folder for the workbooks (or the template file).")] = Path(
        "output"),
    partial: Annotated[bool, typer.Option("--partial", help="Write the good rows even if some rows are bad.")]
    = False,
    template: Annotated[bool, typer.Option("--template", help="Write an empty allocation list to start from.")]
    = False,
    fmt: Annotated[str, typer.Option("--format", metavar="csv|xlsx", help=(
        "The template's format: xlsx (the audit month a dropdown, kept as text) or csv."))] = "csv",
    settings: SettingsOption = None,
    as_json: JsonOption = False,
    moderate: Annotated[str | None, typer.Option("--moderate", metavar="SHARE", help=(
        "Instead: moderation workbooks for a sample of a collected round's audits (10% or a number), stratified by "
        "team and grade, every Inadequate one included. Give the returns folder with --returns."))] = None,
    returns_folder: Annotated[Path | None, typer.Option("--returns", file_okay=False, help=(
        "With --moderate: the returns folder, as collected."))] = None,
    round_name: Annotated[str | None, typer.Option("--round", help=(
        "With --moderate: the round to sample (default: the latest)."))] = None,
    seed: Annotated[int, typer.Option("--seed", help=(
        "With --moderate: the sample's random seed; the same seed and audits give the same sample."))] = 1,
    moderator: Annotated[str, typer.Option("--moderator", help=(
        "With --moderate: who moderates, named on the moderation list's rows."))] = "",
    ledger: Annotated[Path | None, typer.Option("--ledger", help=(
        "With --moderate: the ledger, if collect was given one."))] = None,
    specs: SpecsOption = None,
) -> None:
    """Write one prefilled, locked workbook per allocated case (round, team and case in the file name).

    A list with bad rows is refused whole, naming each row, unless --partial is given. A row without a round
    gets the one the settings' round calendar gives its audit month. With --moderate, write moderation workbooks
    for a sample of a collected round instead, and moderation-list.csv: its rows added to the allocation list track
    them on the Returns tab.
    """
    if moderate is not None:
        sample_or_exit(moderate, returns_folder, out, round_name=round_name, seed=seed, moderator=moderator,
                       ledger=ledger, specs=specs, settings=settings)
        return
    if template:
        template_or_exit(out, fmt)
        return
    if allocation is None:
        err_console.print("Error: give the allocation list, or --template to get an empty one.")
        raise typer.Exit(2)
    loaded = spec_or_exit(spec)
    local = settings_or_exit(settings).local
    rows, bad = allocation_or_exit(allocation, local.rounds, partial=partial)
    try:
        with progress_bar(enabled=True) as progress:
            paths = run_allocate(loaded, rows, out=out, progress=progress, local=local)
    except AuditbookError as e:
        raise fail(e, 1) from None
    for a in (a for a in rows if a.note):
        err_console.print(f"row {a.row}: {a.note}", markup=False, soft_wrap=True)
    if as_json:
        print_json({"workbooks": [str(p) for p in paths], "bad_rows": [{"row": b.row, "message": b.message}
                                                                      for b in bad]}, ascii_only=False)
    else:
        for path in paths:
            console.print(str(path), soft_wrap=True, markup=False)
    if bad:
        err_console.print(bad_rows_message(allocation, bad), markup=False, soft_wrap=True)
        raise typer.Exit(1)


def sample_or_exit(share: str, folder: Path | None, out: Path, *, round_name: str | None, seed: int, moderator: str,
                   ledger: Path | None, specs: list[Path] | None, settings: Path | None) -> None:
    """Write the moderation sample's workbooks and list, print their paths and what was chosen; exit 1 saying why
    when it cannot be done, 2 without the returns folder."""
    if folder is None:
        err_console.print("Error: give the returns folder with --returns: the sample is of its collected audits.")
        raise typer.Exit(2)
    local = settings_or_exit(settings).local
    try:
        done = moderation_sample(folder, Options(ledger_path=ledger, round_name=round_name, rounds=local.rounds,
                                                 registry=SpecRegistry.load(tuple(specs or ()))),
                                 share=share, seed=seed, out=out, moderator=moderator, local=local)
    except AuditbookError as e:
        raise fail(e, 1) from None
    for path in [*done.paths, *([done.listing] if done.listing else [])]:
        console.print(str(path), soft_wrap=True, markup=False)
    already = f" ({done.already} moderated already)" if done.already else ""
    err_console.print(f"{len(done.chosen)} of {done.of} audits of {done.round} chosen to moderate{already}. Add the "
                      f"rows of {LIST_NAME} to the allocation list to track them on the Returns tab.",
                      markup=False, soft_wrap=True)


def template_or_exit(out: Path, fmt: str) -> None:
    """Write an empty allocation list and print its path; exit 2 saying why when it cannot be written."""
    try:
        console.print(str(write_template(out, fmt)), soft_wrap=True, markup=False)
    except AuditbookError as e:
        raise fail(e, 2) from None


def allocation_or_exit(allocation: Path, rounds: RoundCalendar, *,
                       partial: bool) -> tuple[list[Allocated], list[RowProblem]]:
    """The allocation list's good and bad rows; exit 2 when it cannot be read, 1 when it cannot be used (bad rows
    without --partial included)."""
    try:
        rows, bad = read_allocation(allocation, rounds=rounds)
    except AllocationFileError as e:
        raise fail(e, 2) from None
    except AllocationError as e:  # read, but its header or rows cannot be used
        raise fail(e, 1) from None
    if bad and not partial:
        raise fail(AllocationError(bad_rows_message(allocation, bad) + "\nNothing was written. Fix those rows, or "
                                   "use --partial to write the good rows only."), 1)
    return rows, bad


@app.command("settings", cls=Command)
def settings_command(
    settings: SettingsOption = None,
    example: Annotated[bool, typer.Option("--example", help="Print an example settings file to start from.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Show the local settings in use and where they come from (exit 2 naming the line and key of any problem)."""
    if example:
        print(example_settings(), end="")
        return
    local, found = settings_or_exit(settings), find_settings(settings)
    if as_json:
        print_json({"file": None if found is None else str(found), "settings": local.model_dump(mode="json")},
                   ascii_only=False)
        return
    console.print("\n".join(settings_lines(local, found)), markup=False, soft_wrap=True)


@spec_app.command("check", cls=Command)
def spec_check(
    path: Annotated[Path | None, typer.Argument(help="The spec to check. Default: the bundled one.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Lint a spec: every problem with where it is, what is wrong and how to fix it."""
    target = path or default_spec_path()
    try:
        loaded = load_spec(target)
    except AuditbookError as e:
        if as_json:
            print_json({"spec": str(target), "valid": False, "error": str(e)}, ascii_only=False)
            raise typer.Exit(1) from None
        raise fail(e, 1) from None
    n = sum(len(loaded.fields_of(s)) for s in loaded.sections)
    if as_json:
        print_json({"spec": str(target), "valid": True, "id": loaded.id, "version": loaded.version,
                    "sections": len(loaded.sections), "fields": n, "roles_not_given": missing_roles(loaded)},
                   ascii_only=False)
        return
    console.print(f"{target}: OK ({loaded.id} {loaded.version}, {len(loaded.sections)} sections, {n} fields)",
                  soft_wrap=True, markup=False)
    missing = missing_roles(loaded)
    if missing:
        console.print(f"{plural(len(missing), 'role')} not given, which switches off:", markup=False)
        for line in missing:
            console.print(f"  {line}", soft_wrap=True, markup=False)


@spec_app.command("schema", cls=Command)
def spec_schema() -> None:
    """Print the JSON Schema of the spec format, for editors."""
    print(json.dumps(json_schema(), indent=2))
