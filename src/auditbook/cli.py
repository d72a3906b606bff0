"""The auditbook command line: the only module that imports typer and rich. Each command is thin."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table
from typer.core import TyperCommand, TyperGroup

from auditbook import __version__
from auditbook.cli_help import TidyHelp
from auditbook.collection.allocate import allocate as run_allocate
from auditbook.collection.allocation import Allocated, AllocationError, bad_rows_message, read_allocation
from auditbook.collection.allocation_template import write_template
from auditbook.collection.collect import MASTER_NAME, gather_folder
from auditbook.collection.collect import collect as run_collect
from auditbook.collection.export import export as run_export
from auditbook.collection.report import write_report
from auditbook.collection.result import CollectResult, collect_json
from auditbook.demo import run_demo
from auditbook.errors import AuditbookError
from auditbook.returns.provenance import SpecRegistry
from auditbook.returns.report import Report
from auditbook.returns.validate import validate_file
from auditbook.settings import Settings, example_settings, find_settings, load_settings, parse_share, settings_lines
from auditbook.spec import Spec, default_spec_path, json_schema, load_spec
from auditbook.spec.lint_roles import missing_roles
from auditbook.text import name_key, shown
from auditbook.workbook.describe import data_dictionary
from auditbook.workbook.generate import generate_workbook, role_prefill


class _Command(TidyHelp, TyperCommand):
    """A command with tidy help."""


class _Group(TidyHelp, TyperGroup):
    """A group of commands with tidy help."""


_APP = {"no_args_is_help": True, "rich_markup_mode": "markdown", "cls": _Group}
app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, **_APP)  # type: ignore[arg-type]
spec_app = typer.Typer(help="Check a spec or print its JSON Schema.", **_APP)  # type: ignore[arg-type]
app.add_typer(spec_app, name="spec")

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

SpecOption = Annotated[Path | None, typer.Option(
    "--spec", help="The spec (YAML). Default: the bundled Deep Dive spec.", dir_okay=False)]
SettingsOption = Annotated[Path | None, typer.Option("--settings", dir_okay=False, help=(
    "The local settings (TOML). Default: auditbook.toml in this folder, if there is one."))]


def _version(value: bool) -> None:
    if value:
        console.print(f"auditbook {__version__}", markup=False)
        raise typer.Exit()


@app.callback()
def main_options(version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Print the version and exit.")] = False) -> None:
    """Deep Dive case file audits: generate locked workbooks, validate returns, collect them."""


def _fail(err: AuditbookError, code: int = 1) -> typer.Exit:
    err_console.print(f"[red]Error:[/] {escape(str(err))}", markup=True, soft_wrap=True)
    return typer.Exit(code)


def _spec(path: Path | None) -> Spec:
    try:
        return load_spec(path or default_spec_path())
    except AuditbookError as e:
        raise _fail(e, 2) from None


def _settings(path: Path | None) -> Settings:
    try:
        return load_settings(find_settings(path))
    except AuditbookError as e:
        raise _fail(e, 2) from None


@app.command(cls=_Command)
def generate(
    spec: SpecOption = None,
    out: Annotated[Path, typer.Option("--out", help="A folder (a readable name is chosen) or a .xlsx path.")] = Path(
        "output"),
    case_ref: Annotated[str | None, typer.Option("--case-ref", help="Case reference to prefill.")] = None,
    auditor: Annotated[str | None, typer.Option("--auditor", help="Auditor to prefill.")] = None,
    team: Annotated[str | None, typer.Option("--team", help="Team to prefill.")] = None,
    month: Annotated[str | None, typer.Option("--month", metavar="YYYY-MM", help=(
        "Audit month: sets the due date, the period and, with a round calendar in the settings, the round."))] = None,
    round_name: Annotated[str | None, typer.Option("--round", help=(
        "Audit round to prefill. Default: the one the settings' round calendar gives the month."))] = None,
    password: Annotated[str, typer.Option("--password", help="Sheet protection password (default: none).")] = "",
    force: Annotated[bool, typer.Option("--force", help="Overwrite a workbook that is already there.")] = False,
    settings: SettingsOption = None,
) -> None:
    """Write one locked audit workbook and print its path."""
    loaded = _spec(spec)
    local = _settings(settings).local
    try:
        prefill = role_prefill(loaded, case_ref=case_ref, auditor=auditor, team=team, month=month,
                               round_name=round_name, rounds=local.rounds)
        path = generate_workbook(loaded, out=out, prefill=prefill, password=password, overwrite=force, local=local)
    except AuditbookError as e:
        raise _fail(e) from None
    console.print(str(path), soft_wrap=True, markup=False)


@app.command(cls=_Command)
def describe(
    spec: SpecOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the data dictionary as JSON.")] = False,
) -> None:
    """Print the data dictionary: every input's defined name, sheet, cell, type, choices and condition."""
    dd = data_dictionary(_spec(spec))
    if as_json:
        print(json.dumps(dd, indent=2, ensure_ascii=False))
        return
    table = Table("name", "sheet", "cell", "type", "required", "applies when", "label")
    for i in dd["inputs"]:
        cond = json.dumps(i["applies_when"]) if i["applies_when"] else ""
        table.add_row(i["name"], i["sheet"], i["cell"], i["type"], "yes" if i["required"] else "", cond, i["label"])
    console.print(table)


SpecsOption = Annotated[
    list[Path] | None,
    typer.Option("--specs", exists=True, help=(
        "A spec file, or a folder of specs, that returns may have been made from, besides the bundled "
        "workbook_specs/ (repeat for more).")),
]


@app.command(cls=_Command)
def validate(
    files: Annotated[list[Path], typer.Argument(help="Returned workbooks to check.", exists=True, dir_okay=False)],
    specs: SpecsOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
) -> None:
    """Check returned workbooks: "valid", or every problem with its sheet, cell and how to fix it.

    Exit 0 when every file is valid (warnings allowed), 1 when any file has an error.
    """
    registry = SpecRegistry.load(tuple(specs or ()))
    reports = [validate_file(f, registry=registry) for f in files]
    for r in reports:
        r.file = name_key(r.file)  # whatever bytes the name has, printed and in JSON as text
    if as_json:
        print(json.dumps([r.as_dict() for r in reports], indent=2))
    else:
        for r in reports:
            _print_report(r)
    if any(not r.valid and r.skipped is None for r in reports):
        raise typer.Exit(1)


def _print_report(report: Report) -> None:
    name = report.file.rsplit("/", 1)[-1]
    if report.skipped:
        console.print(shown(f"{name}: {report.skipped}"), soft_wrap=True, markup=False)
        return
    head = "[green]valid[/]" if report.valid else f"[red]{len(report.errors)} error(s)[/]"
    if report.warnings:
        head += f", [yellow]{len(report.warnings)} warning(s)[/]"
    case = f" (case {report.audit.case_ref})" if report.audit and report.audit.case_ref else ""
    console.print(f"[bold]{escape(shown(name))}[/]{escape(shown(case))}: {head}", soft_wrap=True)
    for p in report.problems:
        colour = "red" if p.severity == "error" else "yellow"
        text = p.render().removeprefix(f"{name}: ")  # the file is named on the line above
        code = f"{p.code} {p.rule}" if p.rule else p.code
        console.print(f"  [{colour}]{p.severity}[/] [dim]{escape(shown(code))}[/] {escape(shown(text))}",
                      soft_wrap=True)


def _share(value: str) -> float:
    try:
        return parse_share(value)
    except ValueError as err:
        raise typer.BadParameter(str(err)) from None


ThresholdOption = Annotated[float | None, typer.Option("--threshold", parser=_share, metavar="PERCENT", help=(
    "Share of audits at which a theme is recurring: 30, 30% or 0.3. Default: the settings', else 30%."))]


@app.command(cls=_Command)
def collect(
    folder: Annotated[Path, typer.Argument(help="The shared folder of returned workbooks (searched recursively).")],
    out: Annotated[Path | None, typer.Option("--out", help=f"The master workbook. Default: FOLDER/{MASTER_NAME}.")]
    = None,
    ledger: Annotated[Path | None, typer.Option("--ledger", help=(
        "The ledger (sqlite). Default: in your user data folder, one per collected folder."))]
    = None,
    round_name: Annotated[str | None, typer.Option("--round", help="Merge only this audit round.")] = None,
    threshold: ThresholdOption = None,
    specs: SpecsOption = None,
    allocation: Annotated[Path | None, typer.Option("--allocation", dir_okay=False, help=(
        "The allocation list (CSV or xlsx): adds a Returns tab with every allocated case's status."))] = None,
    packs: Annotated[Path | None, typer.Option("--packs", file_okay=False, help=(
        "Also write one workbook per team manager into this folder."))] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the outcome as JSON.")] = False,
    forget: Annotated[list[Path] | None, typer.Option("--forget", help=(
        "Remove what the ledger stored for this file (no longer in FOLDER), then collect, so the master no "
        "longer holds its answers. Repeatable."))] = None,
    settings: SettingsOption = None,
) -> None:
    """Merge every valid return in FOLDER into the master workbook; list every file that was not merged.

    The ledger (what was read from each file) lives in your own data folder, one per collected folder,
    unless --ledger puts it elsewhere. Exit 0 when nothing was rejected, 1 when something was or could
    not be read (the master is still written), 2 when collect could not run.
    """
    local = _settings(settings)
    try:
        allocated = _allocated(allocation, local)
        with _progress(enabled=not as_json) as progress:
            result = run_collect(folder, out=out, ledger_path=ledger, round_name=round_name,
                                 threshold=local.threshold if threshold is None else threshold,
                                 rounds=local.calendar, progress=progress, allocation=allocated, packs=packs,
                                 registry=SpecRegistry.load(tuple(specs or ())), forget=tuple(forget or ()))
    except AuditbookError as e:
        raise _fail(e, 2) from None
    if as_json:
        print(json.dumps(collect_json(result), indent=2))
    else:
        _print_collect(result)
    if result.rejected:
        raise typer.Exit(1)


@contextmanager
def _progress(*, enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    if not enabled or not err_console.is_terminal:
        yield None
        return
    with Progress(console=err_console, transient=True) as bar:
        task = bar.add_task("Reading returns", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _print_collect(result: CollectResult) -> None:
    def say(text: str, style: str = "") -> None:
        line = escape(shown(text))
        console.print(f"[{style}]{line}[/]" if style else line, soft_wrap=True)

    for forgotten in result.forgotten:
        say(f"forgotten {forgotten}: its stored answers were removed from the ledger")
    for n in result.not_merged:
        colour = "red" if n.status in ("rejected", "not read") else "yellow"
        console.print(f"[{colour}]{escape(n.status)}[/] {escape(shown(n.file))}: {escape(shown(n.reason))}",
                      soft_wrap=True)
        for p in n.problems:
            say(f"    {p.render()}")
    for file in result.late:
        say(f"late {file}: completed after its due date (merged)", "yellow")
    for file in result.source_missing:
        say(f"source file missing {file}: no longer in the folder; kept in the master from the ledger", "yellow")
    for warning in result.warnings:
        say(f"Warning: {warning}", "yellow")
    say(f"Master: {result.master}")
    back = result.evidence.readback if result.evidence is not None else None
    if back is not None and (back.taken or back.conflicts or back.problems):
        say(f"Action register: {back.taken} edit(s) taken from the master and packs, {back.conflicts} conflicting "
            "(see Conflicting edits on the Actions tab)")
        for problem in back.problems:
            say(f"    {problem}", "yellow")
    for pack in result.packs:
        say(f"Pack: {pack}")
    line = result.summary_line()
    if result.returns is not None:
        line += f", {result.outstanding} outstanding"
    console.print(line, markup=False)


def _allocated(allocation: Path | None, local: Settings) -> list[Allocated] | None:
    if allocation is None:
        return None
    allocated, bad = read_allocation(allocation, rounds=local.calendar)
    if bad:
        raise AllocationError(bad_rows_message(allocation, bad))
    return allocated


@app.command(cls=_Command)
def export(
    folder: Annotated[Path, typer.Argument(help="The returns folder, already collected.")],
    to: Annotated[Path, typer.Option("--to", help="The folder to write the tables into.", file_okay=False)],
    fmt: Annotated[str, typer.Option("--format", help="csv (one file per table) or xlsx (one workbook).")] = "csv",
    out: Annotated[Path | None, typer.Option("--out", help=f"The master, if not FOLDER/{MASTER_NAME}.")] = None,
    ledger: Annotated[Path | None, typer.Option("--ledger", help="The ledger, if collect was given one.")] = None,
    round_name: Annotated[str | None, typer.Option("--round", help="Only this audit round.")] = None,
    specs: SpecsOption = None,
) -> None:
    """Write the tidy tables (audits, answers, findings, actions, rejected, dictionary) for R, pandas or Power BI:
    they hold auditors' free text and are OFFICIAL-SENSITIVE, as README.txt beside them says."""
    try:
        evidence = gather_folder(folder, out=out, ledger_path=ledger, round_name=round_name,
                                 registry=SpecRegistry.load(tuple(specs or ())))
        written = run_export(evidence, to, fmt=fmt)
    except AuditbookError as e:
        raise _fail(e, 2) from None
    for path in written:
        console.print(str(path), soft_wrap=True, markup=False)


@app.command(cls=_Command)
def report(
    folder: Annotated[Path, typer.Argument(help="The returns folder, already collected.")],
    out_file: Annotated[Path, typer.Option("--out", help="The HTML file to write.", dir_okay=False)] = Path(
        "report.html"),
    round_name: Annotated[str | None, typer.Option("--round", help="The round to report (default: the latest).")]
    = None,
    allocation: Annotated[Path | None, typer.Option("--allocation", dir_okay=False, help=(
        "The allocation list: the report lists the returns outstanding."))] = None,
    include_text: Annotated[bool, typer.Option("--include-text", help=(
        "Include auditors' free text about children (findings, actions' wording). Off by default."))] = False,
    master: Annotated[Path | None, typer.Option("--master", help=f"The master, if not FOLDER/{MASTER_NAME}.")]
    = None,
    ledger: Annotated[Path | None, typer.Option("--ledger", help="The ledger, if collect was given one.")] = None,
    threshold: ThresholdOption = None,
    specs: SpecsOption = None,
    settings: SettingsOption = None,
) -> None:
    """Write the round report for the Self-Assessment Group: one self-contained HTML file, OFFICIAL-SENSITIVE,
    that opens offline, sends no request anywhere and prints to PDF from the browser."""
    local = _settings(settings)
    try:
        evidence = gather_folder(folder, out=master, ledger_path=ledger, round_name=round_name, rounds=local.calendar,
                                 threshold=local.threshold if threshold is None else threshold,
                                 allocation=_allocated(allocation, local),
                                 registry=SpecRegistry.load(tuple(specs or ())))
        path = write_report(evidence, out_file, include_text=include_text)
    except AuditbookError as e:
        raise _fail(e, 2) from None
    console.print(str(path), soft_wrap=True, markup=False)


@app.command(cls=_Command)
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
) -> None:
    """Write one prefilled, locked workbook per allocated case (round, team and case in the file name).

    A list with bad rows is refused whole, naming each row, unless --partial is given. A row without a round
    gets the one the settings' round calendar gives its audit month.
    """
    if template:
        try:
            console.print(str(write_template(out, fmt)), soft_wrap=True, markup=False)
        except AuditbookError as e:
            raise _fail(e, 2) from None
        return
    if allocation is None:
        err_console.print("Error: give the allocation list, or --template to get an empty one.")
        raise typer.Exit(2)
    loaded = _spec(spec)
    local = _settings(settings).local
    try:
        rows, bad = read_allocation(allocation, rounds=local.rounds)
        if bad and not partial:
            raise AllocationError(bad_rows_message(allocation, bad) + "\nNothing was written. Fix those rows, or use "
                                  "--partial to write the good rows only.")
        with _progress(enabled=True) as progress:
            paths = run_allocate(loaded, rows, out=out, progress=progress, local=local)
    except AuditbookError as e:
        raise _fail(e, 1) from None
    for a in (a for a in rows if a.note):
        err_console.print(f"row {a.row}: {a.note}", markup=False, soft_wrap=True)
    for path in paths:
        console.print(str(path), soft_wrap=True, markup=False)
    if bad:
        err_console.print(bad_rows_message(allocation, bad), markup=False, soft_wrap=True)
        raise typer.Exit(1)


@app.command(cls=_Command)
def demo(
    out: Annotated[Path, typer.Option("--out", help="Where to put the demo.")] = Path("output"),
    count: Annotated[int, typer.Option("--count", min=1, max=500, help="How many synthetic returns.")] = 12,
) -> None:
    """The whole loop on synthetic data: a blank workbook, a folder of returns (some bad) and their master."""
    try:
        result = run_demo(out, count=count)
    except AuditbookError as e:
        raise _fail(e, 2) from None
    _print_collect(result.collected)
    console.print("\n" + "\n".join(result.next_steps()), markup=False, soft_wrap=True)


@app.command("settings", cls=_Command)
def settings_command(
    settings: SettingsOption = None,
    example: Annotated[bool, typer.Option("--example", help="Print an example settings file to start from.")] = False,
) -> None:
    """Show the local settings in use and where they come from (exit 2 naming the line and key of any problem)."""
    if example:
        print(example_settings(), end="")
        return
    console.print("\n".join(settings_lines(_settings(settings), find_settings(settings))), markup=False,
                  soft_wrap=True)


@spec_app.command("check", cls=_Command)
def spec_check(
    path: Annotated[Path | None, typer.Argument(help="The spec to check. Default: the bundled one.")] = None,
) -> None:
    """Lint a spec: every problem with where it is, what is wrong and how to fix it."""
    target = path or default_spec_path()
    try:
        loaded = load_spec(target)
    except AuditbookError as e:
        raise _fail(e, 1) from None
    n = sum(len(loaded.fields_of(s)) for s in loaded.sections)
    console.print(f"{target}: OK ({loaded.id} {loaded.version}, {len(loaded.sections)} sections, {n} fields)",
                  soft_wrap=True, markup=False)
    missing = missing_roles(loaded)
    if missing:
        console.print(f"{len(missing)} role(s) not given, which switches off:", markup=False)
        for line in missing:
            console.print(f"  {line}", soft_wrap=True, markup=False)


@spec_app.command("schema", cls=_Command)
def spec_schema() -> None:
    """Print the JSON Schema of the spec format, for editors."""
    print(json.dumps(json_schema(), indent=2))


def main() -> None:
    """Entry point for `python -m auditbook`."""
    app()
