"""Does a workbook conform? check_xlsx lists what it finds that would make Excel refuse or repair it.

The checks, in order: the zip's own records (no Zip64 field, local headers that agree with the central
directory, each part name once) and a content type for every part (package.py); every XML part, after markup
compatibility is applied as Excel applies it (markup.py), against ECMA-376's Transitional and Open Packaging
Conventions schemas (schemas.py and schemas/README.md); the relationships and the core properties' own rules
(package.py); and Excel's limits and rules beyond the schemas, from Microsoft's own notes (excel.py). Nobody here
has Excel: this is the proof we can have.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from lxml import etree

from tests.conformance import excel, markup, package, schemas

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, remove_blank_text=False)
#: xml:space on SpreadsheetML's text (t) and on page headers and footers: Excel writes and reads it (MS-OI29500
#: 2.1.633 says so of oddFooter), and XML 1.0 (2.10) lets any element carry it, but sml.xsd declares them as plain
#: text without it. Its value is checked; then it is taken off.
_SPACE = f"{{{schemas.XML_NS}}}space"
_SPACED = tuple(f"{{{schemas.SML}}}{name}" for name in ("t", *excel.HEADERS_FOOTERS))


def check_xlsx(path: Path) -> list[str]:
    """What in the workbook at `path` would make Excel refuse or repair it, a line each (none found: it conforms)."""
    data = path.read_bytes()
    problems = package.zip_problems(data)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        raw = {info.filename: zf.read(info) for info in zf.infolist() if not info.is_dir()}
    if package.CONTENT_TYPES not in raw:
        return [*problems, f"{package.CONTENT_TYPES} is missing: no part has a content type"]
    types, found = _parse(package.CONTENT_TYPES, raw.pop(package.CONTENT_TYPES))
    if types is None:
        return [*problems, *found]
    problems += schemas.schema_problems(package.CONTENT_TYPES, types, schemas.CONTENT_TYPES_ROOT)
    parts: dict[str, etree._Element] = {}
    for name, blob in raw.items():
        root, found = _part(name, blob, types)
        problems += found
        if root is not None:
            parts[name] = root
    problems += package.relationship_problems(parts, [package.CONTENT_TYPES, *raw])
    problems += excel.excel_problems(parts)
    return problems


def _parse(name: str, blob: bytes) -> tuple[etree._Element | None, list[str]]:
    try:
        return etree.fromstring(blob, _PARSER), []
    except etree.XMLSyntaxError as err:
        return None, [f"{name}: not well-formed XML ({err})"]


def _part(name: str, blob: bytes, types: etree._Element) -> tuple[etree._Element | None, list[str]]:
    """One part parsed and checked against its content type's schema (None when it is not XML one can check)."""
    kind = package.content_type_of(name, types)
    if kind is None:
        return None, [f"{name}: no content type in {package.CONTENT_TYPES}"]
    if schemas.BINARY.match(kind):
        return None, []
    if kind not in schemas.ROOTS:
        return None, [f"{name}: content type {kind}, which no schema here covers (add its schema, or its rules)"]
    root, problems = _parse(name, blob)
    if root is None:
        return None, problems
    if kind == "application/vnd.openxmlformats-package.core-properties+xml":
        problems += package.core_properties_problems(name, root)  # no markup compatibility there [M4.2]
    elif markup.MC.encode() in blob:  # without the namespace declared there is no markup compatibility to apply
        problems += markup.apply_markup_compatibility(name, root, schemas.understood())
    problems += _space(name, root)
    return root, problems + schemas.schema_problems(name, root, schemas.ROOTS[kind])


def _space(name: str, root: etree._Element) -> list[str]:
    """Check and take off xml:space on SpreadsheetML text (see _SPACE)."""
    problems = []
    for t in root.iter(*_SPACED):
        value = t.attrib.pop(_SPACE, "preserve")
        if value not in ("preserve", "default"):
            problems.append(f"{name} line {t.sourceline}: xml:space={value!r} (preserve or default)")
    return problems
