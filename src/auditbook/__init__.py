"""auditbook: Deep Dive case file audit workbooks for children's social care."""

from importlib.metadata import PackageNotFoundError, version

try:
    # The version is written once, in pyproject.toml; the installed metadata carries it here.
    __version__ = version("auditbook")
except PackageNotFoundError:  # imported from a source tree that was never installed (pip install -e . fixes it)
    __version__ = "0+unknown"
