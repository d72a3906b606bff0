"""A workbook's parts found as the Open Packaging Conventions say, and as Excel and LibreOffice find them: through
relationships, by their type, never by a part's name.

The package's own relationships (`_rels/.rels`) name the workbook part (type officeDocument) and the document
properties; the workbook part's relationships name its sheets (by the r:id of each `<sheet>`), its shared strings
and its styles. A part called `xl/sharedStrings.xml` that no sharedStrings relationship names is not the shared
strings, whatever it holds. A relationship's target is read relative to the part that holds it; a target that is
not a plain path inside the package, two relationships with one id, or two of a kind a workbook has one of, are
refused: programs would not agree on which part is meant.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple
from xml.etree.ElementTree import Element

from auditbook.errors import UnreadableFileError
from auditbook.problems import Code

_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
OFFICE_DOCUMENT = f"{_REL}officeDocument"
WORKSHEET = f"{_REL}worksheet"
CHARTSHEET = f"{_REL}chartsheet"
SHARED_STRINGS = f"{_REL}sharedStrings"
STYLES = f"{_REL}styles"
CUSTOM_PROPERTIES = f"{_REL}custom-properties"
_RELATIONSHIP = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
#: Characters no plain part path holds: percent-escapes (read decoded by some programs, as written by others),
#: a query, a fragment, a scheme or drive, a backslash.
_NOT_PLAIN = frozenset("%?#:\\")


class Relationship(NamedTuple):
    """One relationship: its type, and the part its target names (None when it names no part plainly)."""

    type: str
    target: str | None


def rels_part(part: str) -> str:
    """The relationships part of a part ("" for the package itself): xl/workbook.xml -> xl/_rels/workbook.xml.rels."""
    folder, _, name = part.rpartition("/")
    return f"{folder}/_rels/{name}.rels" if folder else f"_rels/{name}.rels"


def source_of(rels: str) -> str | None:
    """The part a relationships part belongs to ("" for the package's own), or None when it is no relationships part:
    xl/_rels/workbook.xml.rels -> xl/workbook.xml."""
    folder, _, name = rels.rpartition("/")
    parent, _, rels_folder = folder.rpartition("/")
    if rels_folder.lower() != "_rels" or not name.lower().endswith(".rels"):
        return None
    part = name[: -len(".rels")]
    return f"{parent}/{part}" if parent else part


def resolve(source: str, target: str) -> str | None:
    """The part (as a zip member name) a target names, read relative to the source part ("" for the package), or
    None when the target is not a plain path inside the package."""
    if not target or not target.isprintable() or _NOT_PLAIN.intersection(target):
        return None
    path = target[1:] if target.startswith("/") else f"{source.rpartition('/')[0]}/{target}".lstrip("/")
    parts: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if not parts:
                return None  # above the package's root
            parts.pop()
        elif segment not in ("", "."):
            parts.append(segment)
        elif segment == "":
            return None  # an empty segment: a//b
    return "/".join(parts) or None


def relationships(root: Element, source: str) -> dict[str, Relationship]:
    """A relationships part's relationships by id, their targets read relative to `source` (external ones name no
    part); two relationships with one id are refused."""
    out: dict[str, Relationship] = {}
    for rel in root.iterfind(_RELATIONSHIP):
        rid = rel.get("Id", "")
        if rid in out:
            raise refusal(rels_part(source), f'two relationships have the id "{rid[:40]}"')
        external = rel.get("TargetMode", "").lower() == "external"  # as active.check_relationships reads it
        out[rid] = Relationship(rel.get("Type", ""), None if external else resolve(source, rel.get("Target", "")))
    return out


def only(rels: Mapping[str, Relationship], rtype: str, source: str) -> str | None:
    """The part the one relationship of a type names, or None when there is none; more than one, or one whose target
    is not a plain path inside the package, is refused."""
    found = [r for r in rels.values() if r.type == rtype]
    kind = rtype.rsplit("/", 1)[-1]
    if len(found) > 1:
        raise refusal(rels_part(source), f"{len(found)} relationships of type {kind}, where a workbook has one")
    if not found:
        return None
    if found[0].target is None:
        raise refusal(rels_part(source), f"the {kind} relationship does not name a part inside the file")
    return found[0].target


def refusal(part: str, what: str) -> UnreadableFileError:
    """The refusal of a package whose relationships programs would read differently."""
    return UnreadableFileError.of(Code.CORRUPT, case="relationships", part=part, what=what)
