"""The auditbook command line: the only package that imports typer and rich. Each command is thin.

app.py holds the application, its help and the options and helpers the commands share; workbooks.py the
commands that make workbooks (generate, describe, allocate, settings, spec); collecting.py those that read
returns (validate, collect, export, report, demo). Importing them registers their commands.
"""

from __future__ import annotations

from auditbook.cli import collecting, workbooks
from auditbook.cli.app import app

__all__ = ["app", "collecting", "main", "workbooks"]


def main() -> None:
    """Entry point for `python -m auditbook`."""
    app()
