"""Pure: the one home of text normalisation (choice comparison) and file-name slugs."""

from __future__ import annotations

import re


def norm(text: str | None) -> str:
    """Case- and space-insensitive form used to compare choices, teams and case references."""
    return " ".join((text or "").split()).casefold()


def slug(text: str) -> str:
    """A file-name-safe lower-case slug."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"
