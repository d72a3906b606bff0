"""Active content: what makes a workbook reach out or run something when the collator opens it.

External links, DDE, web and system calls in formulas, OLE and ActiveX objects, a VBA project under any
part name, and parts that neither auditbook's generator nor an Excel or LibreOffice save writes. Parts are
judged by their content type and the relationship types pointing at them, not by their names.
"""

from __future__ import annotations

import functools
import re
import zipfile
from collections.abc import Iterable, Mapping
from xml.etree.ElementTree import Element

from auditbook.errors import UnreadableFileError
from auditbook.problems import Code

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_SML = "application/vnd.openxmlformats-officedocument.spreadsheetml."
_OFFICE = "application/vnd.openxmlformats-officedocument."
#: Content types of the parts a workbook saved by auditbook, Excel or LibreOffice holds (learnt from their saves).
SAFE_TYPES = frozenset({
    "application/xml", "application/vnd.openxmlformats-package.relationships+xml",
    "application/vnd.openxmlformats-package.core-properties+xml",
    f"{_OFFICE}extended-properties+xml", f"{_OFFICE}custom-properties+xml", f"{_OFFICE}theme+xml",
    f"{_OFFICE}themeOverride+xml", f"{_OFFICE}drawing+xml", f"{_OFFICE}drawingml.chart+xml",
    f"{_OFFICE}drawingml.chartshapes+xml", f"{_OFFICE}vmlDrawing", f"{_OFFICE}customXmlProperties+xml",
    *(f"{_SML}{t}" for t in (
        "sheet.main+xml", "template.main+xml", "worksheet+xml", "chartsheet+xml", "sharedStrings+xml",
        "styles+xml", "calcChain+xml", "comments+xml", "table+xml", "sheetMetadata+xml", "printerSettings",
        "pivotTable+xml", "pivotCacheDefinition+xml", "pivotCacheRecords+xml", "revisionHeaders+xml",
        "revisionLog+xml", "userNames+xml", "tableSingleCells+xml")),
    "application/vnd.ms-office.chartstyle+xml", "application/vnd.ms-office.chartcolorstyle+xml",
    "application/vnd.ms-office.classificationlabels+xml",
    "application/vnd.ms-excel.person+xml", "application/vnd.ms-excel.threadedcomments+xml",
    "application/vnd.ms-excel.rdrichvalue+xml", "application/vnd.ms-excel.rdrichvaluestructure+xml",
    "application/vnd.ms-excel.rdrichvaluetypes+xml", "application/vnd.ms-excel.richvaluerel+xml",
    "application/vnd.ms-excel.featurepropertybag+xml", "application/vnd.ms-excel.slicer+xml",
    "application/vnd.ms-excel.slicerCache+xml", "application/vnd.ms-excel.timeline+xml",
    "application/vnd.ms-excel.timelineCache+xml",
})
#: What a part of these kinds is, in the collator's words (the rest are "a part Excel does not save").
_NAMED = {
    "vbaproject": "a VBA macro project", "vbadata": "a VBA macro project", "activex": "an ActiveX control",
    "oleobject": "an embedded OLE object", "package": "an embedded document", "externallink": "a link to another "
    "workbook", "connections": "an external data connection", "querytable": "an external data query",
    "macrosheet": "an Excel 4 macro sheet", "dialogsheet": "an Excel 5 dialog sheet", "webextension": "an Office "
    "add-in", "controlproperties": "a form control", "ctrlprop": "a form control", "volatiledependencies":
    "real-time data (RTD) links", "customui": "a custom ribbon (it calls macros)", "ui/extensibility":
    "a custom ribbon (it calls macros)", "keymap": "macro key bindings", "attachedtemplate": "an attached template",
}
_REL_BASE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
_MS_REL = "http://schemas.microsoft.com/office/"
#: Relationship types that point at safe parts (or at nothing outside the file).
SAFE_RELATIONSHIPS = frozenset({
    *(f"{_REL_BASE}{t}" for t in (
        "officeDocument", "extended-properties", "custom-properties", "worksheet", "chartsheet", "styles", "theme",
        "themeOverride", "sharedStrings", "calcChain", "drawing", "chart", "chartUserShapes", "image", "hyperlink",
        "vmlDrawing", "comments", "table", "printerSettings", "sheetMetadata", "customXml", "customXmlProps",
        "pivotTable", "pivotCacheDefinition", "pivotCacheRecords", "revisionHeaders", "revisionLog", "usernames",
        "tableSingleCells")),
    "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties",
    "http://schemas.openxmlformats.org/package/2006/relationships/metadata/thumbnail",
    f"{_MS_REL}2011/relationships/chartStyle", f"{_MS_REL}2011/relationships/chartColorStyle",
    f"{_MS_REL}2017/10/relationships/person", f"{_MS_REL}2017/10/relationships/threadedComment",
    f"{_MS_REL}2017/06/relationships/rdRichValue", f"{_MS_REL}2017/06/relationships/rdRichValueStructure",
    f"{_MS_REL}2017/06/relationships/rdRichValueTypes", f"{_MS_REL}2022/10/relationships/richValueRel",
    f"{_MS_REL}2022/11/relationships/FeaturePropertyBag", f"{_MS_REL}2020/02/relationships/classificationlabels",
    f"{_MS_REL}2007/relationships/slicer", f"{_MS_REL}2007/relationships/slicerCache",
    f"{_MS_REL}2011/relationships/timeline", f"{_MS_REL}2011/relationships/timelineCache",
})
_WEB_LINK = re.compile(r"^(?:https?://|mailto:|#)", re.IGNORECASE)


def refuse(label: str, what: str) -> UnreadableFileError:
    """The refusal of a workbook with active content, saying what was found."""
    return UnreadableFileError.of(Code.ACTIVE_CONTENT, file=label, what=what)


def _kind(text: str) -> str | None:
    low = text.lower()
    return next((v for k, v in _NAMED.items() if k in low), None)


def _is_picture(content_type: str) -> bool:
    return content_type.startswith("image/")


def content_types(root: Element) -> tuple[dict[str, str], dict[str, str]]:
    """[Content_Types].xml as (defaults by extension, overrides by part name), both lower-cased."""
    defaults: dict[str, str] = {}
    overrides: dict[str, str] = {}
    for el in root:
        tag = el.tag.rsplit("}", 1)[-1]
        if tag == "Default":
            defaults[el.get("Extension", "").lower()] = el.get("ContentType", "")
        elif tag == "Override":
            overrides[el.get("PartName", "").lstrip("/").lower()] = el.get("ContentType", "")
    return defaults, overrides


def check_parts(label: str, names: Iterable[str], types: tuple[dict[str, str], dict[str, str]]) -> None:
    """Every part must be of a kind a workbook saved by auditbook, Excel or LibreOffice holds."""
    defaults, overrides = types
    for name in names:
        if name.endswith("/") or name.lower() == "[content_types].xml":
            continue
        low = name.lower()
        base = low.rsplit("/", 1)[-1]
        ctype = overrides.get(low) or defaults.get(base.rpartition(".")[2] if "." in base else "", "")
        if ctype in SAFE_TYPES or _is_picture(ctype):
            continue
        if not ctype and (low.startswith("customxml/") or low.startswith("docmetadata/")):
            continue  # SharePoint and sensitivity-label metadata, typed by their own folder's defaults
        kind = _kind(ctype) or _kind(name)
        raise refuse(label, kind + f" ({name})" if kind else
                      f"a part that Excel and LibreOffice do not save in a workbook ({name}, {ctype or 'no type'})")


def check_relationships(label: str, rels_part: str, root: Element) -> None:
    """Relationship types must point at safe parts; only web and e-mail hyperlinks may point outside the file."""
    for rel in root:
        rtype, target = rel.get("Type", ""), rel.get("Target", "")
        external = rel.get("TargetMode", "").lower() == "external"
        if rtype not in SAFE_RELATIONSHIPS:
            kind = _kind(rtype) or _kind(target)
            raise refuse(label, f"{kind} ({target})" if kind else
                          f"a part that Excel and LibreOffice do not save in a workbook ({rtype.rsplit('/', 1)[-1]} "
                          f"from {rels_part})")
        if external and rtype != f"{_REL_BASE}hyperlink":
            raise refuse(label, f"a {rtype.rsplit('/', 1)[-1]} fetched from outside the file ({target}), which "
                          "is fetched when it is opened and can send the collator's network credentials")
        if external and not _WEB_LINK.match(target.strip()):
            raise refuse(label, f"a link to a file or network path ({target}): following it can run a program or "
                          "send the collator's network credentials")


def check_binary(label: str, zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """A binary part that is an OLE container (VBA projects, OLE objects and ActiveX controls are) is refused."""
    try:
        with zf.open(info) as member:
            head = member.read(len(OLE_MAGIC))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError):
        return  # read_member reports damage when the part is read
    if head == OLE_MAGIC:
        raise refuse(label, f"an embedded OLE container such as a VBA project or an OLE object ({info.filename})")


# -- formulas --------------------------------------------------------------------------------------

#: Cheap test on a part's bytes: without any of these, no formula in it can reach out (no character or
#: entity reference, comment, CDATA or processing instruction can hide one either).
_TRIGGERS = (b"[", b"|", b"\\", b"&#", b"<!--", b"<![cdata[", b"webservice", b"filterxml", b"call", b"register",
             b"rtd", b"image", b"stockhistory", b"hyperlink", b"_xludf", b"exec", b"file:", b"oleobject",
             b"control", b"translate", b"detectlanguage", b"copilot", b"dde", b"\x00")
_STRING = re.compile(r'"(?:[^"]|"")*"')
_QUOTED_SHEET = re.compile(r"'(?:[^']|'')*'")
_CALLS = re.compile(r"(?<![\w.])(?:_xlfn\.|_xlws\.)?(WEBSERVICE|FILTERXML|CALL|REGISTER(?:\.ID)?|RTD|IMAGE|"
                    r"STOCKHISTORY|EXEC|TRANSLATE|DETECTLANGUAGE|COPILOT)\s*\(", re.IGNORECASE)
_EXTERNAL = re.compile(r"\[\s*\d+\s*\]|\[[^\]]*\.(?:xl\w*|ods|csv)\s*\]", re.IGNORECASE)
_HYPERLINK = re.compile(r"(?<![\w.])HYPERLINK\s*\(\s*(\"(?:[^\"]|\"\")*\")?", re.IGNORECASE)


#: Relationship types of parts that hold no formula and no object, whatever their bytes: Excel reads text,
#: properties or looks in them. A part every relationship naming which is of these kinds is not looked at.
NO_FORMULAS = frozenset({
    *(f"{_REL_BASE}{t}" for t in ("theme", "themeOverride", "styles", "sharedStrings", "calcChain", "comments",
                                  "extended-properties", "custom-properties", "customXml", "customXmlProps",
                                  "usernames")),
    "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties",
    f"{_MS_REL}2017/10/relationships/person", f"{_MS_REL}2017/10/relationships/threadedComment",
    f"{_MS_REL}2020/02/relationships/classificationlabels",
})


def formula_parts(names: Iterable[str], read: Iterable[str], targets: Mapping[str, set[str]]) -> list[str]:
    """The XML parts besides those read (and judged, or holding no formula) that could hold formulas or objects,
    wherever they are in the file: charts, pivot caches, tables, drawings... Parts are judged by the relationships
    naming them (`targets`: their types by part name in lower case), never by their names; a part no relationship
    names is looked at too. A part read is named as the reader found it (any case)."""
    skip = {r.lower() for r in read} | {"[content_types].xml"}
    return [n for n in names if (low := n.lower()).endswith(".xml") and low not in skip
            and not (low in targets and targets[low] <= NO_FORMULAS)]


#: needs_look cuts a part's bytes before each row: most rows of a return are its template's, met before in a
#: part without a trigger, and are not searched again. No trigger can lie across a cut (tests/test_needs_look.py).
ROW_CUT = b"<row "
#: Each row met in a part without a trigger, with how many "<?" it holds (a part may hold one: its declaration).
_clean_rows: dict[bytes, int] = {}
_MAX_CLEAN_BYTES = 4 * 1024 * 1024
_clean_bytes = 0


def across(needle: bytes, cut: bytes) -> bool:
    """Whether the needle could be found across the cut, or inside it: then it is in none of the pieces around it."""
    for start in range(1 - len(needle), len(cut)):  # where the needle starts, from the cut's first byte
        pairs = [(needle[i], cut[start + i]) for i in range(len(needle)) if 0 <= start + i < len(cut)]
        if all(a == b for a, b in pairs):
            return True
    return False


def needs_look(data: bytes) -> bool:
    """Whether a part's bytes could hold active content at all (UTF-16 parts are always looked at)."""
    global _clean_bytes
    fresh: list[bytes] = []
    marks = 0  # the "<?" of the rows met before: neither it nor a trigger lies across a cut, so the part's are theirs
    for piece in data.split(ROW_CUT):
        known = _clean_rows.get(piece)
        if known is None:
            fresh.append(piece)
        else:
            marks += known
    # The fresh rows searched together, joined by the cut: no trigger lies across one, so this finds a trigger
    # exactly when one of them holds it (one search per trigger, not one per trigger and row). Only they are put in
    # lower case (the cut is its own lower case, so the pieces are those of the part in lower case).
    joined = ROW_CUT.join(fresh).lower()
    if marks + joined.count(b"<?") > 1 or any(t in joined for t in _TRIGGERS):
        return True
    if _clean_bytes > _MAX_CLEAN_BYTES:
        _clean_rows.clear()
        _clean_bytes = 0
    _clean_rows.update((piece, piece.count(b"<?")) for piece in fresh)
    _clean_bytes += sum(map(len, fresh))
    return False


_SUSPECT = re.compile(r"[\[|\\(]|file:", re.IGNORECASE)


@functools.lru_cache(maxsize=65536)
def formula_problem(text: str) -> str | None:
    """What in one formula (cell, defined name, validation or conditional format) reaches out, or None.

    Cached: every return made from one template carries the same formulas."""
    if not text or not _SUSPECT.search(text):
        return None  # no call, no path, no bracket, no DDE bar: a plain reference or constant
    return _path_problem(text) or _reach_problem(_STRING.sub('""', text))


def _path_problem(text: str) -> str | None:
    """A HYPERLINK to anything but a web or e-mail address, or a file or network path anywhere in the formula."""
    for m in _HYPERLINK.finditer(text):
        target = m.group(1)
        if target is None or not _WEB_LINK.match(target[1:-1].strip()):
            return "a HYPERLINK formula to a file or network path"
    if "\\\\" in text or "file:" in text.lower():
        return "a formula naming a network or file path"
    return None


def _reach_problem(bare: str) -> str | None:
    """With the formula's strings emptied: DDE, a reference to another workbook, or a call that reaches out."""
    if "|" in _QUOTED_SHEET.sub("S", bare):
        return "a DDE formula (it runs a program)"
    for quoted in _QUOTED_SHEET.findall(bare):
        if "[" in quoted or "\\" in quoted or "://" in quoted:
            return "a reference to another workbook"
    bare = _QUOTED_SHEET.sub("S", bare)
    if _EXTERNAL.search(bare):
        return "a reference to another workbook"
    if "_xludf." in bare.lower():
        return "a call to a function from an add-in or macro"
    call = _CALLS.search(bare)
    if call:
        return f"a {call.group(1).upper()} formula (it reaches outside the workbook)"
    return None


def element_text(el: Element) -> str:
    """All the text in an element, as a parser gives it (one text node in the usual case)."""
    return (el.text or "") if len(el) == 0 else "".join(el.itertext())


#: Where formulas and objects live in SpreadsheetML (the main namespace and Excel 2010's extensions).
_NS = ("{http://schemas.openxmlformats.org/spreadsheetml/2006/main}",
       "{http://schemas.microsoft.com/office/spreadsheetml/2009/9/main}",
       "{http://schemas.microsoft.com/office/excel/2006/main}",
       "{http://schemas.openxmlformats.org/drawingml/2006/chart}")
_OBJECT_TAGS = {f"{_NS[0]}{t}": what for t, what in (
    ("oleObject", "an embedded OLE object"), ("oleObjects", "an embedded OLE object"),
    ("control", "an ActiveX or form control"), ("controls", "an ActiveX or form control"))}


#: Formula-bearing elements, numbered in the order a part's problems are reported: by tag, then namespace.
_FORMULA_TAGS = {ns + local: order for order, (local, ns) in enumerate(
    (local, ns) for local in ("formula", "formula1", "formula2", "definedName", "f") for ns in _NS)}
_OBJECT_ORDER = {tag: order for order, tag in enumerate(_OBJECT_TAGS)}
_PIVOT_SOURCE = f"{_NS[0]}cacheSource"
_WATCHED = frozenset({*_FORMULA_TAGS, *_OBJECT_TAGS, _PIVOT_SOURCE})


def check_tree(label: str, part: str, root: Element) -> None:
    """Every formula-bearing element of a parsed part, and OLE objects or controls in it.

    One walk over the tree (a tag looked up per element is cheaper than a search per tag). What is
    reported when a part holds several problems is as it always was: a formula problem before an object,
    the first formula tag and namespace in the order above, then the first in the part."""
    formula: tuple[int, str] | None = None
    obj: int | None = None
    pivot = False
    for el in root.iter():
        tag = el.tag
        if tag not in _WATCHED:
            continue
        order = _FORMULA_TAGS.get(tag)
        if order is not None:
            if formula is None or order < formula[0]:
                found = formula_problem(element_text(el))
                if found:
                    formula = (order, found)
        elif tag == _PIVOT_SOURCE:
            pivot = pivot or el.get("type", "worksheet") != "worksheet"
        else:
            order = _OBJECT_ORDER[tag]
            obj = order if obj is None else min(obj, order)
    if formula is not None:
        raise refuse(label, f"{formula[1]} in {part}")
    if obj is not None:
        raise refuse(label, f"{list(_OBJECT_TAGS.values())[obj]} in {part}")
    if pivot:
        raise refuse(label, f"a pivot table fed from an external source in {part}")
