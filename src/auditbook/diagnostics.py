"""Diagnosis: auditbook's log (Python logging, on stderr) for `--debug` or AUDITBOOK_DEBUG=1, free of children's data.

Every module logs through `logging.getLogger(__name__)` (under "auditbook"), saying what a step did in counts,
file names and case references, never an answer. The log is silent unless debugging is switched on. A traceback
keeps its frames (auditbook's code) but not its exception's words as they stand: quoted text in them, which may be
a cell's value, is replaced by its length, so the output can be sent to a maintainer.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import sys
import traceback
from typing import TextIO

from auditbook.text import shown

LOGGER = "auditbook"
ENVIRONMENT = "AUDITBOOK_DEBUG"
#: The longest an exception's words are kept in a traceback (the start is what a maintainer needs).
LONGEST = 300
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")

logging.getLogger(LOGGER).addHandler(logging.NullHandler())  # nothing printed unless debugging is on


def debug_wanted(flag: bool = False) -> bool:
    """Whether to debug: the flag given, or AUDITBOOK_DEBUG set to anything but empty, 0, false or no."""
    return flag or os.environ.get(ENVIRONMENT, "").strip().lower() not in ("", "0", "false", "no")


def scrub(words: str) -> str:
    """An exception's words with each quoted text replaced by its length (it may be a cell's value), made safe."""
    kept = _QUOTED.sub(lambda m: f"<{len(m.group()) - 2} characters>", words)
    return shown(kept if len(kept) <= LONGEST else kept[:LONGEST] + "…")


def trace(err: BaseException) -> str:
    """The traceback of `err` (and of the exceptions that led to it), with the exceptions' words scrubbed."""
    parts: list[str] = []
    if err.__cause__ is not None:
        parts += [trace(err.__cause__), "\nThe above exception was the direct cause of the following exception:\n\n"]
    elif err.__context__ is not None and not err.__suppress_context__:
        parts += [trace(err.__context__), "\nDuring handling of the above exception, another exception occurred:\n\n"]
    kind = type(err)
    name = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
    words = scrub(str(err))
    parts += ["Traceback (most recent call last):\n", *traceback.format_tb(err.__traceback__),
              f"{name}: {words}\n" if words else f"{name}\n"]
    return "".join(parts)


class _Formatter(logging.Formatter):
    """Time, level and module of each line; a traceback as `trace` gives it."""

    def formatException(self, ei: logging._SysExcInfoType) -> str:
        err = ei[1]
        return trace(err).rstrip("\n") if err is not None else ""

    def format(self, record: logging.LogRecord) -> str:
        # logging keeps the first handler's traceback text on the record: another handler's may not be scrubbed.
        kept, record.exc_text = record.exc_text, None
        try:
            return super().format(record)
        finally:
            record.exc_text = kept


def configure(*, debug: bool, stream: TextIO | None = None) -> None:
    """Switch the log on (DEBUG, to `stream` or stderr) or back to silent; replaces what an earlier call set up."""
    log = logging.getLogger(LOGGER)
    for handler in [h for h in log.handlers if getattr(h, "auditbook", False)]:
        log.removeHandler(handler)
    log.propagate = False  # the application's own logging setup, if any, is not ours to write to
    if not debug:
        log.setLevel(logging.WARNING)
        return
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.auditbook = True  # type: ignore[attr-defined]
    handler.setFormatter(_Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)


def follow(*, debug: bool) -> None:
    """In a worker process: log as its parent does (one forked already does; one started afresh is set up)."""
    if debug and not logging.getLogger(LOGGER).isEnabledFor(logging.DEBUG):
        configure(debug=True)


def file_label(name: str) -> str:
    """How the log names a file of the shared folder: by a digest of its name, which may name a child."""
    return "file " + hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def internal(log: logging.Logger, what: str, err: BaseException) -> None:
    """Log an internal error that was turned into data (e.g. a file's internal-error), with its traceback."""
    log.error("internal error in %s (%s), reported and carried on", what, type(err).__name__, exc_info=err)
