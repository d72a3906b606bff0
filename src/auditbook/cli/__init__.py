"""The auditbook command line: the only package that imports typer and rich. Each command is thin.

app.py holds the application, its help and the options and helpers the commands share; workbooks.py the
commands that make workbooks (generate, describe, allocate, settings, spec); collecting.py those that read
returns (validate, collect, export, report, demo). Importing them registers their commands.
"""

from __future__ import annotations

from auditbook.memory import held, released

# The cycle collector held off while the commands' modules are imported: they make some 90,000 objects it tracks and
# keep nearly all of them, and its passes looking through them again and again were 3% of every command's start-up.
# Back as it was once they are in (and not if an import fails: the command cannot run). Not a `with`: our own imports
# stay at the top level of the module (tests/test_layout.py).
_COLLECTING = held()
from auditbook.cli import collecting, workbooks  # noqa: E402
from auditbook.cli.app import app  # noqa: E402

released(_COLLECTING)

__all__ = ["app", "collecting", "main", "workbooks"]


def main() -> None:
    """Entry point for `python -m auditbook`."""
    app()
