"""The schemas each part of a workbook is validated against (see schemas/README.md), parsed once a session."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from lxml import etree

FOLDER = Path(__file__).parent / "schemas"
SML = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
XML_NS = "http://www.w3.org/XML/1998/namespace"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
_OFFICE = "application/vnd.openxmlformats-officedocument."
_SML_TYPE = f"{_OFFICE}spreadsheetml."

#: The root element each XML content type has, and so the schema that says what it holds.
ROOTS: dict[str, str] = {
    f"{_SML_TYPE}sheet.main+xml": f"{{{SML}}}workbook",
    f"{_SML_TYPE}template.main+xml": f"{{{SML}}}workbook",
    f"{_SML_TYPE}worksheet+xml": f"{{{SML}}}worksheet",
    f"{_SML_TYPE}chartsheet+xml": f"{{{SML}}}chartsheet",
    f"{_SML_TYPE}sharedStrings+xml": f"{{{SML}}}sst",
    f"{_SML_TYPE}styles+xml": f"{{{SML}}}styleSheet",
    f"{_SML_TYPE}table+xml": f"{{{SML}}}table",
    f"{_SML_TYPE}comments+xml": f"{{{SML}}}comments",
    f"{_SML_TYPE}calcChain+xml": f"{{{SML}}}calcChain",
    f"{_OFFICE}theme+xml": "{http://schemas.openxmlformats.org/drawingml/2006/main}theme",
    f"{_OFFICE}drawing+xml": "{http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing}wsDr",
    f"{_OFFICE}drawingml.chart+xml": "{http://schemas.openxmlformats.org/drawingml/2006/chart}chartSpace",
    f"{_OFFICE}extended-properties+xml":
        "{http://schemas.openxmlformats.org/officeDocument/2006/extended-properties}Properties",
    f"{_OFFICE}custom-properties+xml":
        "{http://schemas.openxmlformats.org/officeDocument/2006/custom-properties}Properties",
    "application/vnd.openxmlformats-package.core-properties+xml":
        "{http://schemas.openxmlformats.org/package/2006/metadata/core-properties}coreProperties",
    "application/vnd.openxmlformats-package.relationships+xml":
        "{http://schemas.openxmlformats.org/package/2006/relationships}Relationships",
}
CONTENT_TYPES_ROOT = "{http://schemas.openxmlformats.org/package/2006/content-types}Types"
#: Parts that hold no XML, which no schema covers.
BINARY = re.compile(r"image/|application/vnd\.openxmlformats-officedocument\.spreadsheetml\.printerSettings$")
#: Namespaces shortened in messages, as prefixes Excel's own files use for them.
_PREFIXES = {SML: "", XML_NS: "xml:", "http://schemas.openxmlformats.org/drawingml/2006/main": "a:",
             "http://schemas.openxmlformats.org/drawingml/2006/chart": "c:",
             "http://schemas.openxmlformats.org/officeDocument/2006/relationships": "r:"}


@cache
def office_schema() -> etree.XMLSchema:
    """One schema holding ECMA-376's Transitional and OPC schemas (and the stand-ins), parsed once."""
    return etree.XMLSchema(etree.parse(str(FOLDER / "office.xsd")))


@cache
def understood() -> frozenset[str]:
    """The namespaces the schemas cover: markup compatibility keeps what is in them and drops the rest."""
    found = {XML_NS, XSI}
    for path in FOLDER.rglob("*.xsd"):
        namespace = etree.parse(str(path)).getroot().get("targetNamespace")
        if namespace and not namespace.startswith("urn:auditbook:"):
            found.add(namespace)
    return frozenset(found)


def _short(message: str) -> str:
    """A schema error with its namespaces written as prefixes."""
    for namespace, prefix in _PREFIXES.items():
        message = message.replace(f"{{{namespace}}}", prefix)
    return message


def schema_problems(part: str, root: etree._Element, expected: str) -> list[str]:
    """`root` is the element its content type says and is valid against the schemas; else what is wrong."""
    if root.tag != expected:
        return [f"{part}: its root element is {root.tag}, where its content type wants {expected}"]
    schema = office_schema()
    if schema.validate(root):
        return []
    return [f"{part} line {e.line}: {_short(e.message)}" for e in schema.error_log]
