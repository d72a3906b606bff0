"""The package around the parts (ECMA-376 Part 2, Open Packaging Conventions): the zip's own records, read here
byte by byte rather than through zipfile, part names, content types, relationships and the core properties."""

from __future__ import annotations

import posixpath
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from lxml import etree

ZIP64_EXTRA = 0x0001
_LOCAL, _CENTRAL, _END = 0x04034B50, 0x02014B50, 0x06054B50
#: A local file header and a central directory header, up to their variable-length fields (APPNOTE 4.3.7, 4.3.12).
_LOCAL_HEADER = struct.Struct("<IHHHHHIIIHH")
_CENTRAL_HEADER = struct.Struct("<IHHHHHHIIIHHHHHII")
_END_RECORD = struct.Struct("<IHHHHIIH")

CONTENT_TYPES = "[Content_Types].xml"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
CORE = "http://schemas.openxmlformats.org/package/2006/metadata/core-properties"
DC_TERMS = "http://purl.org/dc/terms/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XML_NS = "http://www.w3.org/XML/1998/namespace"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
#: The only elements of the core properties that may carry xml:lang.
LANG_ON = ((CORE, "keywords"), (CORE, "value"))


@dataclass(frozen=True)
class Member:
    """One member of the zip as its central directory entry and its local header describe it."""

    name: str
    local_name: str
    central_extra: tuple[int, ...]
    local_extra: tuple[int, ...]


def _extra_ids(extra: bytes) -> tuple[int, ...]:
    """The header ids of the extra fields in an extra field block."""
    ids, at = [], 0
    while at + 4 <= len(extra):
        field_id, size = struct.unpack_from("<HH", extra, at)
        ids.append(field_id)
        at += 4 + size
    return tuple(ids)


def zip_members(data: bytes) -> list[Member]:
    """Every member of the zip in `data`, from its central directory and each member's local header."""
    end = data.rfind(struct.pack("<I", _END), max(0, len(data) - _END_RECORD.size - 0xFFFF))
    if end < 0:
        raise ValueError("no end of central directory record: not a zip")
    *_, count, _, offset, _ = _END_RECORD.unpack_from(data, end)
    if count == 0xFFFF or offset == 0xFFFFFFFF:
        raise ValueError("the end of central directory record defers to a Zip64 one")
    members, at = [], offset
    for _ in range(count):
        head = _CENTRAL_HEADER.unpack_from(data, at)
        if head[0] != _CENTRAL:
            raise ValueError(f"no central directory header at byte {at}")
        name_len, extra_len, comment_len, local_at = head[10], head[11], head[12], head[16]
        name = data[at + 46:at + 46 + name_len].decode("utf-8")
        central_extra = data[at + 46 + name_len:at + 46 + name_len + extra_len]
        at += 46 + name_len + extra_len + comment_len
        local = _LOCAL_HEADER.unpack_from(data, local_at)
        if local[0] != _LOCAL:
            raise ValueError(f"{name}: no local file header at byte {local_at}")
        start = local_at + _LOCAL_HEADER.size
        local_name = data[start:start + local[9]].decode("utf-8")
        local_extra = data[start + local[9]:start + local[9] + local[10]]
        members.append(Member(name, local_name, _extra_ids(central_extra), _extra_ids(local_extra)))
    return members


def zip_problems(data: bytes) -> list[str]:
    """Zip64 fields, local headers that disagree with the central directory, and part names used twice."""
    try:
        members = zip_members(data)
    except (ValueError, struct.error, UnicodeDecodeError) as err:
        return [f"the zip cannot be read: {err}"]
    problems: list[str] = []
    seen: set[str] = set()
    for m in members:
        if ZIP64_EXTRA in m.central_extra:
            problems.append(f"{m.name}: its central directory entry has a Zip64 extra field (0x0001)")
        if ZIP64_EXTRA in m.local_extra:
            problems.append(f"{m.name}: its local file header has a Zip64 extra field (0x0001)")
        if m.local_name != m.name:
            problems.append(f"{m.name}: its local file header names it {m.local_name!r}")
        # Part names are equivalent when they differ only in ASCII case (Part 2, 9.1.1.1).
        if m.name.lower() in seen:
            problems.append(f"{m.name}: a second part of that name")
        seen.add(m.name.lower())
    return problems


def content_type_of(name: str, types: etree._Element) -> str | None:
    """The content type [Content_Types].xml gives the part `name`: its Override, else the Default for its extension."""
    for override in types.iter(f"{{{TYPES}}}Override"):
        if override.get("PartName", "").lstrip("/").lower() == name.lower():
            return override.get("ContentType")
    extension = posixpath.basename(name).rpartition(".")[2].lower()
    for default in types.iter(f"{{{TYPES}}}Default"):
        if default.get("Extension", "").lower() == extension:
            return default.get("ContentType")
    return None


def source_of(rels: str) -> str:
    """The part a relationships part belongs to ("" for the package's own, _rels/.rels)."""
    folder, name = posixpath.split(rels)
    return posixpath.join(posixpath.dirname(folder), name.removesuffix(".rels"))


def target_part(source: str, target: str) -> str:
    """The part name an internal relationship of `source` points to."""
    if target.startswith("/"):
        return posixpath.normpath(target).lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target))


def relationship_problems(parts: Mapping[str, etree._Element], names: Iterable[str]) -> list[str]:
    """Relationships parts of parts that are not there, and internal relationships to parts that are not there."""
    present = {n.lower() for n in names}
    problems: list[str] = []
    for rels, root in parts.items():
        if root.tag != f"{{{RELS}}}Relationships":
            continue
        source = source_of(rels)
        if source and source.lower() not in present:
            problems.append(f"{rels}: the relationships of {source}, which is not in the package")
        for rel in root.iter(f"{{{RELS}}}Relationship"):
            target = rel.get("Target", "")
            if rel.get("TargetMode") != "External" and target_part(source, target).lower() not in present:
                problems.append(f"{rels}: {rel.get('Id')} points to {target}, which is not in the package")
    return problems


def core_properties_problems(part: str, root: etree._Element) -> list[str]:
    """The core properties' rules its schema cannot say (Part 2, 11.3 and 11.4: M4.2 to M4.5)."""
    problems: list[str] = []
    for el in root.iter("*"):
        tag = etree.QName(el)
        if tag.namespace == MC or any(etree.QName(a).namespace == MC for a in el.attrib):
            problems.append(f"{part}: markup compatibility in the core properties [M4.2]")
        if tag.namespace == DC_TERMS and tag.localname not in ("created", "modified"):
            problems.append(f"{part}: dcterms:{tag.localname} is a refinement the core properties do not allow [M4.3]")
        if f"{{{XML_NS}}}lang" in el.attrib and (tag.namespace, tag.localname) not in LANG_ON:
            problems.append(f"{part}: xml:lang on {tag.localname}, which only keywords and value may carry [M4.4]")
        problems += _xsi_type_problems(part, el, tag)
    return problems


def _xsi_type_problems(part: str, el: etree._Element, tag: etree.QName) -> list[str]:
    """xsi:type="dcterms:W3CDTF" on created and modified, and on nothing else [M4.5]."""
    xsi_type = el.get(f"{{{XSI}}}type")
    if tag.namespace != DC_TERMS:
        return [] if xsi_type is None else [f"{part}: xsi:type on {tag.localname}, which only created and modified "
                                            "may carry [M4.5]"]
    prefix, _, local = (xsi_type or "").rpartition(":")
    if local == "W3CDTF" and el.nsmap.get(prefix or None) == DC_TERMS:
        return []
    return [f"{part}: dcterms:{tag.localname} wants xsi:type=\"dcterms:W3CDTF\" [M4.5]"]
