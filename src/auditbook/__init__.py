"""auditbook: Deep Dive case file audit workbooks for children's social care."""

from __future__ import annotations

from functools import cache


@cache
def _installed_version() -> str:
    """The version written once, in pyproject.toml, as the installed metadata carries it."""
    # Imported here: importlib.metadata and the search of the installed distributions cost every command's start-up a
    # few milliseconds, and only --version and --debug's first line say the version.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("auditbook")
    except PackageNotFoundError:  # imported from a source tree that was never installed (pip install -e . fixes it)
        return "0+unknown"


def __getattr__(name: str) -> str:
    """`auditbook.__version__`, looked up in the installed metadata when it is first asked for (PEP 562)."""
    if name == "__version__":
        return _installed_version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
