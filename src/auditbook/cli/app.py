"""The command line's application: its tidy help, the shared options, and what every command does alike."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import platform
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

import auditbook
from auditbook.allocation.lists import Allocated, AllocationError, bad_rows_message, read_allocation
from auditbook.diagnostics import configure, debug_wanted
from auditbook.errors import AuditbookError
from auditbook.settings import Settings, find_settings, load_settings, parse_share
from auditbook.spec import Spec, default_spec_path, load_spec

#: The order `auditbook --help` lists the commands in: the pipeline's.
ORDER = ("generate", "describe", "validate", "collect", "export", "report", "allocate", "demo", "settings", "spec")


class TidyHelp:
    """Help without type placeholders: no <bool> after a flag, no <path> after an argument, no {braces} around a
    required argument, and a word for what each option takes (FILE, FOLDER, PATH, TEXT, N)."""

    def get_params(self, ctx: Any) -> list[Any]:
        params: list[Any] = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            if isinstance(param, TyperOption) and param.is_flag:
                param.metavar = ""
            elif isinstance(param, TyperOption) and param.metavar is None:
                kind = param.type_descriptor
                param.metavar = {"file": "FILE", "dir": "FOLDER"}.get(kind.path_type, "PATH") \
                    if kind.is_path or kind.is_list else {int: "N", float: "NUMBER"}.get(kind.annotation, "TEXT")
            elif isinstance(param, TyperArgument):
                param.metavar = param.metavar or (param.name or "").upper()
                param.display_type_rich = lambda ctx: None  # type: ignore[method-assign]
        return params

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return [re.sub(r"^\{(.+)\}", r"\1", p) for p in super().collect_usage_pieces(ctx)]  # type: ignore[misc]


class Command(TidyHelp, TyperCommand):
    """A command with tidy help."""


class Group(TidyHelp, TyperGroup):
    """A group of commands with tidy help, listed in the pipeline's order; an internal error said in one line (with
    its traceback under --debug), exit 3."""

    def list_commands(self, ctx: Any) -> list[str]:
        names: list[str] = super().list_commands(ctx)
        return sorted(names, key=lambda n: ORDER.index(n) if n in ORDER else len(ORDER))

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as err:
            # typer's own exits and usage errors (click's, which typer may vendor) carry their exit code: theirs.
            if isinstance(err, typer.Abort) or hasattr(err, "exit_code"):
                raise
            if isinstance(err, BrokenPipeError):  # what read stdout stopped reading (| head): nothing to say
                with contextlib.suppress(Exception):
                    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                raise typer.Exit(1) from None
            debugging = ctx.find_root().meta.get(DEBUG)
            if debugging:
                log.critical("internal error, auditbook stopped", exc_info=err)
            where = ("Its traceback is above" if debugging else "Run the same command again with --debug (or "
                     "AUDITBOOK_DEBUG=1) to see where")
            err_console.print(f"Error: auditbook stopped on an internal error ({type(err).__name__}). {where}: send "
                              "it to whoever supports auditbook. It names no child and quotes no answer.",
                              markup=False, soft_wrap=True)
            raise typer.Exit(INTERNAL) from None


_APP: dict[str, Any] = {"no_args_is_help": True, "rich_markup_mode": "markdown", "cls": Group}
app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, **_APP)
spec_app = typer.Typer(help="Check a spec or print its JSON Schema.", **_APP)
app.add_typer(spec_app, name="spec")

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)
log = logging.getLogger(__name__)
#: The exit code of an internal error (a fault of auditbook's, not of what it was given).
INTERNAL = 3
DEBUG = "auditbook.debug"


def _share(value: str) -> float:
    try:
        return parse_share(value)
    except ValueError as err:
        raise typer.BadParameter(str(err)) from None


SpecOption = Annotated[Path | None, typer.Option(
    "--spec", help="The spec (YAML). Default: the bundled Deep Dive spec.", dir_okay=False)]
SettingsOption = Annotated[Path | None, typer.Option("--settings", dir_okay=False, help=(
    "The local settings (TOML): authority, where audits go, round calendar, theme threshold. Default: "
    "auditbook.toml in this folder, if there is one."))]
SpecsOption = Annotated[
    list[Path] | None,
    typer.Option("--specs", exists=True, help=(
        "A spec file, or a folder of specs, that returns may have been made from, besides the bundled "
        "workbook_specs/ (repeat for more).")),
]


JsonOption = Annotated[bool, typer.Option("--json", help=(
    "Print the outcome as JSON: one document, its schema_version first."))]
#: The shape of every --json document: raised when a key goes or changes meaning (a key may be added without).
JSON_SCHEMA_VERSION = 1


def print_json(body: Mapping[str, Any], *, ascii_only: bool = True) -> None:
    """A --json document on stdout (whatever --quiet says): its schema_version, then `body`."""
    print(json.dumps({"schema_version": JSON_SCHEMA_VERSION, **body}, indent=2, ensure_ascii=ascii_only))


ThresholdOption = Annotated[float | None, typer.Option("--threshold", parser=_share, metavar="PERCENT", help=(
    "Share of audits at which a theme is recurring: 30, 30% or 0.3. Default: the settings', else 30%."))]


def _version(value: bool) -> None:
    if value:
        console.print(f"auditbook {auditbook.__version__}", markup=False)
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Print the version and exit.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help=(
        "Log what each step does on stderr, and the traceback of an internal error, to send to whoever supports "
        "auditbook: no answer text, no child's name (also AUDITBOOK_DEBUG=1)."))] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help=(
        "Print no results and no progress, only what stops a command (and --json or what describe is asked "
        "for): the exit code says how it went."))] = False,
) -> None:
    """Deep Dive case file audits: generate locked workbooks, validate returns, collect them."""
    debugging = debug_wanted(debug)
    ctx.meta[DEBUG] = debugging
    configure(debug=debugging)
    console.quiet = quiet
    if log.isEnabledFor(logging.DEBUG):  # the version is looked up only when it is said (auditbook/__init__.py)
        log.debug("auditbook %s, Python %s on %s: %s", auditbook.__version__, platform.python_version(), sys.platform,
                  ctx.invoked_subcommand)


def fail(err: AuditbookError, code: int = 1) -> typer.Exit:
    """Say what went wrong on stderr; the exit to raise."""
    err_console.print(f"[red]Error:[/] {escape(str(err))}", markup=True, soft_wrap=True)
    return typer.Exit(code)


def spec_or_exit(path: Path | None) -> Spec:
    """The spec given, or the bundled one; exit 2 saying why when it cannot be loaded."""
    try:
        return load_spec(path or default_spec_path())
    except AuditbookError as e:
        raise fail(e, 2) from None


def settings_or_exit(path: Path | None) -> Settings:
    """The local settings (the file given, or auditbook.toml here); exit 2 naming each problem's line and key."""
    try:
        return load_settings(find_settings(path))
    except AuditbookError as e:
        raise fail(e, 2) from None


def allocated_or_exit(allocation: Path | None, local: Settings) -> list[Allocated] | None:
    """The allocation list's rows, or None without one; AllocationError naming every bad row."""
    if allocation is None:
        return None
    allocated, bad = read_allocation(allocation, rounds=local.calendar)
    if bad:
        raise AllocationError(bad_rows_message(allocation, bad))
    return allocated


@contextmanager
def progress_bar(*, enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr when it is a terminal: the callback to report progress to, else None."""
    if not enabled or console.quiet or not err_console.is_terminal:
        yield None
        return
    # Imported here: rich's progress display (and its live rendering) is a tenth of typer and rich's start-up, and
    # only a collect on a terminal draws it.
    from rich.progress import Progress

    with Progress(console=err_console, transient=True) as bar:
        task = bar.add_task("Reading returns", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


