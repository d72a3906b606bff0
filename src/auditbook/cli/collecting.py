"""The commands that read returns: validate, collect, export, report and the demo."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from auditbook.analysis.evidence import Evidence
from auditbook.analysis.urgent import of_report
from auditbook.cli.app import (
    Command,
    JsonOption,
    SettingsOption,
    SpecsOption,
    ThresholdOption,
    allocated_or_exit,
    app,
    console,
    err_console,
    fail,
    print_json,
    progress_bar,
    settings_or_exit,
)
from auditbook.collection.collect import MASTER_NAME, Options, gather_folder
from auditbook.collection.collect import collect as run_collect
from auditbook.collection.feedback import folder_feedback
from auditbook.collection.result import CollectResult, collect_json
from auditbook.demo import run_demo
from auditbook.errors import AuditbookError
from auditbook.outputs.export import export as run_export
from auditbook.outputs.report import write_report
from auditbook.problems import TOLD_AT_COLLECT, Problem
from auditbook.returns.feedback import write_feedback
from auditbook.returns.provenance import SpecRegistry
from auditbook.returns.report import Report
from auditbook.returns.validate import validate_file
from auditbook.settings import Settings
from auditbook.store.ours import as_own_output
from auditbook.text import name_key, plural, shown

FeedbackOption = Annotated[Path | None, typer.Option("--feedback", file_okay=False, help=(
    "Also write one note per auditor into this folder: their returns and what to fix, in plain words, ready to "
    "send."))]


def run_options(local: Settings, *, specs: list[Path] | None, threshold: float | None = None,
                allocation: Path | None = None, out: Path | None = None, ledger: Path | None = None,
                round_name: str | None = None) -> Options:
    """The options collect, export and report run with: the same settings (round calendar, threshold) for all."""
    return Options(out=out, ledger_path=ledger, round_name=round_name, rounds=local.calendar,
                   threshold=local.threshold if threshold is None else threshold,
                   min_audits=local.themes.min_audits, small_group=local.themes.small_group,
                   allocation=allocated_or_exit(allocation, local), registry=SpecRegistry.load(tuple(specs or ())))


@app.command(cls=Command)
def validate(
    files: Annotated[list[Path], typer.Argument(help=(
        "Returned workbooks to check, or folders: every .xlsx and .xlsm in them."), exists=True)],
    specs: SpecsOption = None,
    as_json: JsonOption = False,
    feedback: FeedbackOption = None,
) -> None:
    """Check returned workbooks: "valid", or every problem with its sheet, cell and how to fix it.

    A folder is checked workbook by workbook, without a ledger or master (`auditbook collect` merges them).
    With --feedback, one note per auditor is written into that folder, ready to send. Exit 0 when every file
    is valid (warnings allowed), 1 when any file has an error, 2 when a folder holds no workbook.
    """
    registry = SpecRegistry.load(tuple(specs or ()))
    checked = today()
    # A master, pack or export of auditbook's own is said to be one, as collect says it (not an error).
    reports = [as_own_output(validate_file(f, registry=registry, today=checked), f) for f in workbooks_in(files)]
    for r in reports:
        r.file = name_key(r.file)  # whatever bytes the name has, printed and in JSON as text
    if as_json:
        print_json({"reports": [r.as_dict() for r in reports]})
    else:
        say_urgent([u.line() for r in reports if (u := of_report(r)) is not None])
        for r in reports:
            print_report(r)
    if feedback is not None:
        say_notes(lambda: write_feedback(reports, feedback, registry=registry, checked=checked), as_json=as_json)
    if any(not r.valid and r.skipped is None for r in reports):
        raise typer.Exit(1)


def workbooks_in(paths: list[Path]) -> list[Path]:
    """The files given, with each folder replaced by the workbooks in it (and its subfolders), in name order."""
    out: list[Path] = []
    for path in paths:
        if not path.is_dir():
            out.append(path)
            continue
        found = sorted(p for p in path.rglob("*") if p.suffix.lower() in (".xlsx", ".xlsm") and p.is_file()
                       and not any(part.startswith(".") for part in p.relative_to(path).parts))
        if not found:
            err_console.print(f"Error: {escape(name_key(str(path)))} holds no workbook (.xlsx). Give the returns "
                              "themselves, or collect the folder with `auditbook collect`.", soft_wrap=True)
            raise typer.Exit(2)
        out += found
    return out


def say_notes(write: Callable[[], list[Path]], *, as_json: bool) -> None:
    """Write the feedback notes and say where (on stderr with --json, so the JSON stays whole); exit 2 when they
    cannot be written."""
    try:
        notes = write()
    except OSError as err:
        err_console.print(f"Error: the feedback notes could not be written ({escape(err.strerror or str(err))}). "
                          "Check the folder given to --feedback.", soft_wrap=True)
        raise typer.Exit(2) from None
    out = err_console if as_json else console
    for path in notes:
        out.print(f"Feedback: {escape(name_key(str(path)))}", soft_wrap=True)


def today() -> date:
    """The day validate runs: a return completed after it gets a warning (the tests fix the day)."""
    return date.today()


def print_report(report: Report) -> None:
    """One file's result: a heading (valid, or its count of errors and warnings), then each problem."""
    name = report.file  # the path as given, so two files of one name in different folders are told apart
    if report.skipped:
        console.print(shown(f"{name}: {report.skipped}"), soft_wrap=True, markup=False)
        return
    head = "[green]valid[/]" if report.valid else f"[red]{plural(len(report.errors), 'error')}[/]"
    if report.warnings:
        head += f", [yellow]{plural(len(report.warnings), 'warning')}[/]"
    case = f" (case {report.audit.case_ref})" if report.audit and report.audit.case_ref else ""
    console.print(f"[bold]{escape(shown(name))}[/]{escape(shown(case))}: {head}", soft_wrap=True)
    for p in report.problems:
        # Plain words first, the code last in brackets; what one answer causes is indented under it.
        colour = "red" if p.severity == "error" else "yellow"
        text = p.said().removeprefix(f"{name.rsplit('/', 1)[-1]}: ")  # the file is named on the line above
        indent = "    " if p.under else "  "
        console.print(f"{indent}[{colour}]{p.severity}[/] {escape(shown(text))}", soft_wrap=True)


@app.command(cls=Command)
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
    as_json: JsonOption = False,
    forget: Annotated[list[Path] | None, typer.Option("--forget", help=(
        "Remove what the ledger stored for this file (no longer in FOLDER), then collect, so the master no "
        "longer holds its answers. Repeatable."))] = None,
    settings: SettingsOption = None,
    feedback: FeedbackOption = None,
) -> None:
    """Merge every valid return in FOLDER into the master workbook; list every file that was not merged.

    The ledger (what was read from each file) lives in your own data folder, one per collected folder,
    unless --ledger puts it elsewhere. Exit 0 when nothing was rejected, 1 when something was or could
    not be read (the master is still written), 2 when collect could not run.
    """
    local = settings_or_exit(settings)
    try:
        opts = run_options(local, specs=specs, threshold=threshold, allocation=allocation, out=out,
                           ledger=ledger, round_name=round_name)
        with progress_bar(enabled=not as_json) as progress:
            result = run_collect(folder, opts, progress=progress, packs=packs, forget=tuple(forget or ()))
    except AuditbookError as e:
        raise fail(e, 2) from None
    if as_json:
        print_json(collect_json(result))
    else:
        print_collect(result)
    if feedback is not None:
        say_notes(lambda: folder_feedback(folder, opts, feedback, checked=today()), as_json=as_json)
    if result.rejected:
        raise typer.Exit(1)


def say(text: str, style: str = "") -> None:
    """A line of untrusted text (file names, what returns hold) on the screen, made safe, in a colour if given."""
    line = escape(shown(text))
    console.print(f"[{style}]{line}[/]" if style else line, soft_wrap=True)


def say_urgent(lines: list[str]) -> None:
    """The urgent concerns, first and in bold red: a child protection concern is never lost in a list of files."""
    for line in lines:
        say(line, "bold red")


def print_collect(result: CollectResult) -> None:
    """What collect did: urgent concerns first, the files not merged and why, what to look at, where it wrote, and a
    summary line."""
    say_urgent(result.urgent_lines())
    print_files(result)
    back = result.evidence.readback if result.evidence is not None else None
    for warning in [*result.warnings, *(back.warnings if back is not None else [])]:
        say(f"Warning: {warning}", "yellow")
    say(f"Master: {result.master}")
    if back is not None and (back.taken or back.conflicts or back.problems):
        say(f"Action register: {plural(back.taken, 'edit')} taken from the master and packs, {back.conflicts} "
            "conflicting (see Conflicting edits on the Actions tab)")
        for problem in back.problems:
            say(f"    {problem}", "yellow")
    for pack in result.packs:
        say(f"Pack: {pack}")
    line = result.summary_line()
    if result.returns is not None:
        line += f"; {result.outstanding} outstanding"
    console.print(line, markup=False, soft_wrap=True)


def print_files(result: CollectResult) -> None:
    """The files collect did not merge, each with why (and its problems), then the late and the missing ones."""
    for forgotten in result.forgotten:
        say(f"forgotten {forgotten}: its stored answers were removed from the ledger")
    for n in result.not_merged:
        colour = "red" if n.status in ("rejected", "not read") else "yellow"
        console.print(f"[{colour}]{escape(n.status)}[/] {escape(shown(n.file))}: {escape(shown(n.reason))}",
                      soft_wrap=True)
        for p in n.problems:
            say(f"    {p.render()}")
    for line in result.late_lines():
        say(line, "yellow")
    for m in result.merged:  # what a person reading the return sees otherwise, on the screen as in --json
        for w in m["warnings"]:
            if w["code"] in TOLD_AT_COLLECT:
                say(f"warning {m['file']}: {Problem.from_dict(w).render()}", "yellow")
    for file in result.source_missing:
        say(f"source file missing {file}: no longer in the folder; kept in the master from the ledger", "yellow")


@app.command(cls=Command)
def export(
    folder: Annotated[Path, typer.Argument(help="The returns folder, already collected.")],
    to: Annotated[Path, typer.Option("--to", help="The folder to write the tables into.", file_okay=False)],
    fmt: Annotated[str, typer.Option("--format", metavar="csv|xlsx", help=(
        "csv (one file per table) or xlsx (one workbook)."))] = "csv",
    out: Annotated[Path | None, typer.Option("--out", help=f"The master, if not FOLDER/{MASTER_NAME}.")] = None,
    ledger: Annotated[Path | None, typer.Option("--ledger", help="The ledger, if collect was given one.")] = None,
    round_name: Annotated[str | None, typer.Option("--round", help="Only this audit round.")] = None,
    specs: SpecsOption = None,
    settings: SettingsOption = None,
    for_excel: Annotated[bool, typer.Option("--for-excel", help=(
        "CSV for a spreadsheet: the master's headers, and text starting with = + - @, a tab or a carriage return "
        "gets a leading ' so that a spreadsheet never runs it as a formula. By default the CSVs are a data "
        "package for R, pandas or Frictionless (datapackage.json beside them), text exactly as typed."))] = False,
    as_json: JsonOption = False,
) -> None:
    """Write the tidy tables (audits, answers, findings, actions, rejected, dictionary) for R, pandas or Power BI:
    they hold auditors' free text and are OFFICIAL-SENSITIVE, as README.txt beside them says.

    CSV (the default) is a Frictionless Data Package: snake_case headers, true/false, missing values empty and a
    datapackage.json describing each table (types, choices, keys). --for-excel and --format xlsx keep formulas out."""
    local = settings_or_exit(settings)
    try:
        evidence = gather_folder(folder, run_options(local, specs=specs, out=out, ledger=ledger,
                                                     round_name=round_name))
        written = run_export(evidence, to, fmt=fmt, for_excel=for_excel)
    except AuditbookError as e:
        raise fail(e, 2) from None
    say_readback(evidence)
    if as_json:
        print_json({"folder": str(to), "format": fmt, "for_excel": for_excel, "files": [str(p) for p in written]})
        return
    for path in written:
        console.print(str(path), soft_wrap=True, markup=False)


@app.command(cls=Command)
def report(
    folder: Annotated[Path, typer.Argument(help="The returns folder, already collected.")],
    out_file: Annotated[Path, typer.Option("--out", help="The HTML file to write.", dir_okay=False)] = Path(
        "report.html"),
    round_name: Annotated[str | None, typer.Option("--round", help="The round to report (default: the latest).")]
    = None,
    allocation: Annotated[Path | None, typer.Option("--allocation", dir_okay=False, help=(
        "The allocation list: the report lists the returns outstanding."))] = None,
    include_text: Annotated[bool, typer.Option("--include-text/--no-text", help=(
        "Include auditors' free text about children (findings, actions' wording, what an urgent concern was), as the "
        "SAG needs it: the report is OFFICIAL-SENSITIVE. --no-text leaves it out, for a wider audience."))] = True,
    master: Annotated[Path | None, typer.Option("--master", help=f"The master, if not FOLDER/{MASTER_NAME}.")]
    = None,
    ledger: Annotated[Path | None, typer.Option("--ledger", help="The ledger, if collect was given one.")] = None,
    threshold: ThresholdOption = None,
    specs: SpecsOption = None,
    settings: SettingsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write the round report for the Self-Assessment Group: one self-contained HTML file, OFFICIAL-SENSITIVE,
    that opens offline, sends no request anywhere and prints to PDF from the browser."""
    local = settings_or_exit(settings)
    try:
        evidence = gather_folder(folder, run_options(local, specs=specs, threshold=threshold, allocation=allocation,
                                                     out=master, ledger=ledger, round_name=round_name))
        path = write_report(evidence, out_file, include_text=include_text)
    except AuditbookError as e:
        raise fail(e, 2) from None
    say_readback(evidence)
    if as_json:
        print_json({"report": str(path), "include_text": include_text})
        return
    console.print(str(path), soft_wrap=True, markup=False)


def say_readback(evidence: Evidence) -> None:
    """On stderr: what export or report took back from the master and packs, and anything to look at."""
    back = evidence.readback
    if back.taken or back.conflicts:
        err_console.print(f"Action register: {plural(back.taken, 'edit')} taken from the master and packs, "
                          f"{back.conflicts} conflicting; the next collect writes them into the master.", markup=False,
                          soft_wrap=True)
    for line in [*(f"Warning: {w}" for w in back.warnings), *(f"    {p}" for p in back.problems)]:
        err_console.print(shown(line), markup=False, soft_wrap=True)


@app.command(cls=Command)
def demo(
    out: Annotated[Path, typer.Option("--out", help="Where to put the demo.")] = Path("output"),
    count: Annotated[int, typer.Option("--count", min=1, max=500, help="How many synthetic returns.")] = 12,
    as_json: JsonOption = False,
) -> None:
    """The whole loop on synthetic data: a blank workbook, a folder of returns (some bad) and their master."""
    try:
        result = run_demo(out, count=count)
    except AuditbookError as e:
        raise fail(e, 2) from None
    if as_json:
        print_json({"blank": str(result.blank), "returns": str(result.returns), "report": str(result.report),
                    "collect": collect_json(result.collected)})
        return
    print_collect(result.collected)
    console.print("\n" + "\n".join(result.next_steps()), markup=False, soft_wrap=True)
