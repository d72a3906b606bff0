"""The reader sees what a conforming XML parser, and so Excel, LibreOffice and openpyxl, see (issues 8 and 20).

A property-based test rewrites a genuine return's XML in every way the format allows without changing a
cell (comments and processing instructions anywhere, CDATA, character references, attribute order, a
namespace prefix, inline instead of shared strings, rich-text runs, cells without references, lower-case
references, UTF-16, whitespace, numbers in every XML Schema form) and its package in every way the Open
Packaging Conventions allow (parts renamed and moved, targets absolute, relationships reordered and renumbered,
decoy parts under the old names that no relationship of their kind names), and checks that the reader and
openpyxl agree on every input cell. Where programs read the same bytes differently, the reader refuses them.
"""

from __future__ import annotations

import ast
import functools
import io
import re
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import unescape

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.utils.datetime import to_excel

from auditbook.errors import UnreadableFileError
from auditbook.returns.reader import RawWorkbook, read_workbook, split_cell
from auditbook.returns.safety import parse_xml
from tests.hazards import REL, parts
from tests.returns import answers, layout, make_return

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
MUTATIONS = ("comments", "pis", "cdata", "charrefs", "attr_order", "prefix", "inline", "rich", "drop_r",
             "lowercase_r", "utf16", "whitespace", "numbers")
#: Rewrites of the package rather than of a part's XML.
PACKAGE = ("rename_parts", "absolute_targets", "rels_order", "decoys")


@functools.cache
def original(tmp: str) -> dict[str, bytes]:
    """A fully answered return's parts."""
    path = Path(tmp) / "original.xlsx"
    make_return(path, answers("in_care_16_plus", seed=11, actions=3))
    return parts(path)


def _unesc(text: str) -> str:
    return unescape(text, {"&quot;": '"', "&apos;": "'"})


class Mutator:
    """Rewrites of one part's XML text, each leaving every cell's value as it was."""

    def __init__(self, draw: Any) -> None:
        self.draw = draw

    def pick(self, n: int) -> set[int]:
        """Some of n places, chosen by hypothesis."""
        if n == 0:
            return set()
        return set(self.draw(st.lists(st.integers(0, n - 1), max_size=min(n, 12))))

    def sub_some(self, pattern: str, repl: Any, text: str) -> str:
        chosen = self.pick(len(re.findall(pattern, text)))
        counter = iter(range(10**9))
        return re.sub(pattern, lambda m: repl(m) if next(counter) in chosen else m.group(0), text)

    def between_tags(self, text: str, insert: str) -> str:
        return self.sub_some(r"><", lambda m: f">{insert}<", text)

    def apply(self, name: str, text: str, strings: list[str]) -> str:
        if name == "comments":
            return self.between_tags(text, "<!-- <sheetData></sheetData> <c r='A1'><v>9</v></c> -->")
        if name == "pis":
            return self.between_tags(text, "<?auditbook </sheetData> ?>")
        if name == "cdata":
            return self.sub_some(r"<(t|v)([^>]*)>([^<]*)</\1>",
                                 lambda m: f"<{m[1]}{m[2]}><![CDATA[{_unesc(m[3])}]]></{m[1]}>"
                                 if "]]>" not in m[3] else m[0], text)
        if name == "charrefs":
            return self.sub_some(r"(<t[^>]*>)([A-Za-z])", lambda m: f"{m[1]}&#{ord(m[2])};", text)
        if name == "attr_order":
            return self.sub_some(r"<c ((?:\w+=\"[^\"]*\"\s*)+)(/?)>",
                                 lambda m: "<c " + " ".join(reversed(m[1].split())) + f"{m[2]}>", text)
        if name == "prefix":
            text = text.replace(f'xmlns="{MAIN}"', f'xmlns:x="{MAIN}"', 1)
            return re.sub(r"<(/?)([A-Za-z]\w*)(?=[\s/>])", r"<\1x:\2", text)
        if name == "inline":
            return self.sub_some(r'<c ([^>]*?)t="s"([^>]*)><v>(\d+)</v></c>',
                                 lambda m: f'<c {m[1]}t="inlineStr"{m[2]}><is>{strings[int(m[3])]}</is></c>', text)
        if name == "rich":
            return self.sub_some(r"<si><t>([^<]{2,})</t></si>", _runs, text)
        if name == "drop_r":
            return _drop_refs(text, self)
        if name == "lowercase_r":
            return self.sub_some(r'<c r="([A-Z]+)(\d+)"', lambda m: f'<c r="{m[1].lower()}{m[2]}"', text)
        if name == "whitespace":  # between elements, never inside a text element
            return self.sub_some(r"(</c>|</row>|<sheetData>|</si>|<sst [^>]*>)<", lambda m: f"{m[1]}\n  <", text)
        if name == "numbers":  # a number cell's value in another XML Schema form of the same double
            return self.sub_some(r'(<c r="[A-Z]+\d+"(?: s="\d+")?>)<v>(\d+)</v>',
                                 lambda m: f"<v>{self.draw(st.sampled_from(_forms(m[2])))}</v>".join([m[1], ""]), text)
        return text


def _forms(digits: str) -> list[str]:
    """The same number as XML Schema (and Excel) write a double in other ways."""
    n = int(digits)
    return [f"+{n}", f"{n}.0", f"{n}.", f"0{n}", f" {n} ", f"{n}E0", f"{n / 10:.10g}e1", f"{n * 10}e-1"]


def _runs(m: re.Match[str]) -> str:
    text = m[1]
    half = len(text) // 2
    while half > 0 and text[half - 1] == "&":  # never split inside an entity
        half -= 1
    cut = text.rfind("&", 0, half)
    if cut != -1 and ";" not in text[cut:half]:
        half = cut
    return (f'<si><r><rPr><b/></rPr><t xml:space="preserve">{text[:half]}</t></r>'
            f'<r><t xml:space="preserve">{text[half:]}</t></r><rPh sb="0" eb="1"><t>ignored</t></rPh></si>')


def _drop_refs(text: str, mut: Mutator) -> str:
    """Leave out a cell's reference where its place follows from the cell before it in the row."""
    def row(m: re.Match[str]) -> str:
        out, prev = [], 0
        for cell in re.finditer(r'<c r="([A-Z]+)(\d+)"', m[0]):
            col = split_cell(cell[1] + cell[2])[1] + 1
            out.append((cell.start(), cell.end(), col == prev + 1))
            prev = col
        body = m[0]
        for start, end, implied in reversed(out):
            if implied:
                body = body[:start] + "<c" + body[end:]
        return body

    return mut.sub_some(r"<row [^>]*>.*?</row>", row, text)


def mutate(members: dict[str, bytes], chosen: list[str], draw: Any) -> bytes:
    """The return's zip with every sheet and the shared strings rewritten, then its package."""
    mut = Mutator(draw)
    sst = members["xl/sharedStrings.xml"].decode()
    strings = re.findall(r"<si>(.*?)</si>", sst, flags=re.S)
    out = dict(members)
    for name, data in members.items():
        if not (name.startswith("xl/worksheets/sheet") or name == "xl/sharedStrings.xml"):
            continue
        text = data.decode()
        for m in chosen:
            if m not in ("utf16", *PACKAGE):
                text = mut.apply(m, text, strings)
        if "utf16" in chosen and draw(st.booleans()):
            out[name] = text.replace('encoding="UTF-8"', 'encoding="UTF-16"', 1).encode("utf-16")
        else:
            out[name] = text.encode()
    for m in PACKAGE:
        if m in chosen:
            out = repackage(m, out, draw)
    return _zip(out)


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


WB_RELS = "xl/_rels/workbook.xml.rels"
#: Where rename_parts moves parts: the workbook within its folder (so its relationships' targets still hold),
#: the shared strings and sheets elsewhere. The styles stay: openpyxl, the reference, reads them by their name.
MOVES = {"xl/workbook.xml": "xl/book.xml", "xl/sharedStrings.xml": "xl/text/words.xml"}


def _moved(name: str) -> str:
    if name in MOVES:
        return MOVES[name]
    m = re.fullmatch(r"xl/worksheets/sheet(\d+)\.xml", name)
    return f"xl/pages/p{m[1]}.xml" if m else name


def repackage(how: str, members: dict[str, bytes], draw: Any) -> dict[str, bytes]:
    """The package rewritten as the Open Packaging Conventions allow, every cell as it was."""
    out = dict(members)
    if how == "rename_parts":
        out = {_moved(name): data for name, data in members.items() if name != WB_RELS}
        rels = members[WB_RELS].decode()
        rels = re.sub(r'Target="([^"]+)"', lambda m: f'Target="{_moved("xl/" + m[1])[3:]}"', rels)
        out["xl/_rels/book.xml.rels"] = rels.encode()
        out["_rels/.rels"] = members["_rels/.rels"].replace(b"xl/workbook.xml", b"xl/book.xml")
        out["[Content_Types].xml"] = re.sub(rb'PartName="/([^"]+)"', lambda m: b'PartName="/' + _moved(
            m[1].decode()).encode() + b'"', members["[Content_Types].xml"])
    elif how == "absolute_targets":
        rels_part = _book(members)[1]
        out[rels_part] = re.sub(rb'Target="([^"/][^"]*)"', rb'Target="/xl/\1"', members[rels_part])
        out["_rels/.rels"] = re.sub(rb'Target="([^"/][^"]*)"', rb'Target="/\1"', members["_rels/.rels"])
    elif how == "rels_order":
        out = _renumbered(out, draw)
    elif how == "decoys":
        out = _decoys(out)
    return out


def _book(members: dict[str, bytes]) -> tuple[str, str]:
    """The workbook part and its relationships part, wherever a rewrite before put them."""
    book = "xl/book.xml" if "xl/book.xml" in members else "xl/workbook.xml"
    return book, book.replace("xl/", "xl/_rels/") + ".rels"


def _renumbered(members: dict[str, bytes], draw: Any) -> dict[str, bytes]:
    """The workbook's relationships in another order, under other ids (the sheets' r:id changed to match)."""
    book, rels_part = _book(members)
    rels = members[rels_part].decode()
    found = re.findall(r"<Relationship [^>]*/>", rels)
    order = [i for i in draw(st.permutations(range(len(found)))) if i < len(found)]
    ids = {re.search(r'Id="([^"]+)"', r)[1]: f"rel{900 - i}" for i, r in enumerate(found)}  # type: ignore[index]
    body = "".join(re.sub(r'Id="([^"]+)"', lambda m: f'Id="{ids[m[1]]}"', found[i]) for i in order)
    out = dict(members)
    out[rels_part] = (rels[: rels.index(found[0])] + body + "</Relationships>").encode()
    out[book] = re.sub(r'r:id="([^"]+)"', lambda m: f'r:id="{ids[m[1]]}"', members[book].decode()).encode()
    return out


DECOY = "SYN-DECOY"


def _decoys(members: dict[str, bytes]) -> dict[str, bytes]:
    """Decoy parts: shared strings and a sheet under names the real ones may have (left free by rename_parts, else
    beside them), listed first among the workbook's relationships as custom XML, which is no part's kind here."""
    rels_part = _book(members)[1]
    strings = re.sub(rb"<t([^>]*)>[^<]*</t>", rb"<t\1>" + DECOY.encode() + b"</t>", members[_part(members, "sst")])
    sheet = members[_part(members, "worksheet")]
    decoy_strings = "xl/sharedStrings.xml" if "xl/sharedStrings.xml" not in members else "xl/decoy/sharedStrings.xml"
    decoy_sheet = "xl/worksheets/sheet3.xml" if "xl/worksheets/sheet3.xml" not in members else "xl/decoy/sheet3.xml"
    out = dict(members)
    out[decoy_strings], out[decoy_sheet] = strings, re.sub(rb"<v>[^<]*</v>", b"<v>0</v>", sheet)
    extra = "".join(f'<Relationship Id="decoy{i}" Type="{REL}/customXml" Target="{target[3:]}"/>'
                    for i, target in enumerate((decoy_strings, decoy_sheet)))
    out[rels_part] = members[rels_part].replace(b"<Relationship ", extra.encode() + b"<Relationship ", 1)
    return out


def _part(members: dict[str, bytes], root: str) -> str:
    """The first part whose root element is `root` (UTF-8 or UTF-16)."""
    def head(data: bytes) -> str:
        return data[:800].decode("utf-16" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8", errors="ignore")
    return next(n for n, d in members.items() if n.endswith(".xml") and re.search(rf"<(?:\w+:)?{root}[ >]", head(d)))


def ours(path: Path) -> RawWorkbook:
    return read_workbook(path)


def reference(path: Path) -> dict[tuple[str, str], tuple[Any, bool]]:
    """openpyxl's value (cached) and whether it holds a formula, for every input cell."""
    values = openpyxl.load_workbook(path, data_only=True)
    formulas = openpyxl.load_workbook(path)
    out = {}
    for inp in layout().inputs:
        v = values[inp.sheet][inp.cell].value
        if isinstance(v, datetime):
            v = to_excel(v)
        out[(inp.sheet, inp.cell)] = (v, formulas[inp.sheet][inp.cell].data_type == "f")
    return out


def agree(path: Path) -> None:
    raw = ours(path)
    expected = reference(path)
    got = {}
    for (sheet, cell) in expected:
        c = raw.sheets[sheet].cell(cell)
        value = None if c is None else c.value
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        got[(sheet, cell)] = (value, c is not None and c.formula is not None)
    norm = {k: (int(v) if isinstance(v, float) and v.is_integer() else v, f) for k, (v, f) in expected.items()}
    assert got == norm


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                                  HealthCheck.function_scoped_fixture])
@given(chosen=st.lists(st.sampled_from(MUTATIONS + PACKAGE), min_size=1, max_size=6, unique=True), data=st.data())
def test_reader_and_openpyxl_agree_on_every_input_cell(tmp_path_factory: pytest.TempPathFactory,
                                                      chosen: list[str], data: st.DataObject) -> None:
    base = tmp_path_factory.getbasetemp()
    members = original(str(base))
    path = base / "mutated.xlsx"
    path.write_bytes(mutate(members, chosen, data.draw))
    agree(path)


class Everywhere:
    """A stand-in for hypothesis's draw: every place, UTF-16 always, each choice in turn, relationships reversed."""

    def __init__(self) -> None:
        self.turn = 0

    def __call__(self, strategy: Any) -> Any:
        shown = repr(strategy)
        if "booleans" in shown:
            return True
        if "sampled_from" in shown:
            self.turn += 1
            choices = re.search(r"sampled_from\((\[.*\])\)", shown)
            assert choices is not None, shown
            options = ast.literal_eval(choices[1])  # the repr of a list of strings
            return options[self.turn % len(options)]
        if "permutations" in shown:
            return list(range(400))[::-1]
        return list(range(10_000))


@pytest.mark.parametrize("mutation", MUTATIONS + PACKAGE)
def test_each_rewrite_applied_everywhere_agrees(tmp_path_factory: pytest.TempPathFactory, mutation: str) -> None:
    base = tmp_path_factory.getbasetemp()
    members = original(str(base))
    mutated = mutate(members, [mutation], Everywhere())
    path = base / f"{mutation}.xlsx"
    path.write_bytes(mutated)
    assert parts(path) != members
    agree(path)
    assert sum(1 for c in ours(path).sheets["Case profile"].cells.values() if c.value) > 10


@pytest.mark.parametrize("encoding", ["UTF-7", "ISO-8859-1", "cp1252", "bogus"])
def test_encodings_other_than_utf8_and_utf16_are_refused(encoding: str) -> None:
    with pytest.raises(UnreadableFileError) as err:
        parse_xml(f'<?xml version="1.0" encoding="{encoding}"?><r/>'.encode(), "xl/worksheets/sheet1.xml")
    assert f'declares the text encoding "{encoding}", which Excel and LibreOffice never write' in str(err.value)


@pytest.mark.parametrize("ref", ["1A", "A0", "$C$9", "XFE1", "A1048577"])
def test_references_excel_never_writes_are_refused(ref: str) -> None:
    with pytest.raises(ValueError):
        split_cell(ref)


CASE_PROFILE = "xl/worksheets/sheet3.xml"  # Start, Summary, then the Case profile


def _edit(part: str, old: str, new: str) -> Any:
    def edit(members: dict[str, bytes]) -> dict[str, bytes]:
        text = members[part].decode()
        assert old in text, (part, old)
        return {**members, part: text.replace(old, new, 1).encode()}
    return edit


def _cell(members: dict[str, bytes]) -> tuple[str, str]:
    """The first number cell of the case profile (its reference and its value's text)."""
    m = re.search(r'<c r="([A-Z]+\d+)"(?: s="\d+")?><v>(\d+)</v>', members[CASE_PROFILE].decode())
    assert m is not None
    return m[1], m[2]


def _number(text: str) -> Any:
    def edit(members: dict[str, bytes]) -> dict[str, bytes]:
        ref, value = _cell(members)
        return _edit(CASE_PROFILE, f'<c r="{ref}"', f'<c r="{ref}"')(
            {**members, CASE_PROFILE: members[CASE_PROFILE].replace(f"<v>{value}</v>".encode(),
                                                                      f"<v>{text}</v>".encode(), 1)})
    return edit


def _at_input(change: Any) -> Any:
    """An edit of the case profile's first input cell (C9, a shared text): `change(start tag, value index)` gives
    the cell's new XML."""
    def edit(members: dict[str, bytes]) -> dict[str, bytes]:
        text = members[CASE_PROFILE].decode()
        m = re.search(r'(<c r="C9"[^>]*>)<v>(\d+)</v></c>', text)
        assert m is not None
        return {**members, CASE_PROFILE: text.replace(m[0], change(m[1], m[2]), 1).encode()}
    return edit


def _shared_text_twice(members: dict[str, bytes]) -> dict[str, bytes]:
    """The shared text C9 shows given two plain texts."""
    m = re.search(r'<c r="C9"[^>]*><v>(\d+)</v>', members[CASE_PROFILE].decode())
    assert m is not None
    items = re.split(r"(?=<si>)", members["xl/sharedStrings.xml"].decode())
    index = int(m[1]) + 1  # the text before the first <si> is items[0]
    items[index] = items[index].replace("<si>", "<si><t>Outstanding</t>", 1)
    return {**members, "xl/sharedStrings.xml": "".join(items).encode()}


def _no_workbook(members: dict[str, bytes]) -> dict[str, bytes]:
    rels = re.sub(rb'<Relationship [^>]*/officeDocument"[^>]*/>', b"", members["_rels/.rels"])
    return {**members, "_rels/.rels": rels}


def _two_sst_rels(members: dict[str, bytes]) -> dict[str, bytes]:
    rels = members[WB_RELS].replace(b"</Relationships>", f'<Relationship Id="rId90" Type="{REL}/sharedStrings" '
                                    'Target="copy.xml"/></Relationships>'.encode())
    return {**members, WB_RELS: rels, "xl/copy.xml": members["xl/sharedStrings.xml"]}


#: Bytes that programs read differently, each refused (as corrupt): what Excel, LibreOffice, Gnumeric or openpyxl
#: make of them is not one thing (LibreOffice shows "1_6" as 1, float() reads it as 16; a reader of the first of
#: two values and one of the last show different answers).
DISAGREED = {
    "a number with an underscore": (_number("1_6"), 'holds "1_6", which is not a number'),
    "a number of another script": (_number("\u0661\u0666"), "which is not a number"),
    "infinity": (_number("INF"), "which is not a number"),
    "not a number": (_number("NaN"), "which is not a number"),
    "a hexadecimal number": (_number("0x10"), "which is not a number"),
    "two values": (lambda m: _number(f"{_cell(m)[1]}</v><v>1")(m), "is given two values"),
    "two formulas": (_at_input(lambda tag, v: f"{tag}<f>1</f><f>2</f><v>{v}</v></c>"), "is given two formulas"),
    "two inline texts": (_at_input(lambda tag, v: tag.replace('t="s"', 't="inlineStr"') + "<is><t>a</t></is>"
                                   "<is><t>b</t></is></c>"), "is given two texts"),
    "a row number with an underscore": (_edit(CASE_PROFILE, '<row r="9"', '<row r="1_0"'), 'row number "1_0"'),
    "a row number with a point": (_edit(CASE_PROFILE, '<row r="9"', '<row r="9.0"'), 'row number "9.0"'),
    "a cell reference of another script's digits": (_edit(CASE_PROFILE, '<c r="C9"', '<c r="C\u0669"'),
                                                    "cell reference"),
    "a cell placed twice": (lambda m: _edit(CASE_PROFILE, '<c r="C10"', '<c r="C9"')(m), "is given twice"),
    "a cell type Excel has not": (_at_input(lambda tag, v: tag.replace('t="s"', 't="x"') + f"<v>{v}</v></c>"),
                                  'cell type "x"'),
    "a style index with an underscore": (_edit(CASE_PROFILE, '<c r="C9" s="', '<c r="C9" s="1_'), "cell format"),
    "cell data twice": (_edit(CASE_PROFILE, "</sheetData>", "</sheetData><sheetData/>"), "gives <sheetData> twice"),
    "a shared text written twice": (_shared_text_twice, "which holds two texts"),
    "a defined name given twice": (lambda m: _edit("xl/workbook.xml", "</definedNames>", '<definedName name='
                                                   '"PROFILE_CASE_REF">\'Case profile\'!$C$10</definedName>'
                                                   "</definedNames>")(m), "the defined name PROFILE_CASE_REF twice"),
    "two sheets of one name": (_edit("xl/workbook.xml", 'name="Summary"', 'name="START"'),
                               'two sheets are named "START"'),
    "a relationship id twice": (_edit(WB_RELS, 'Id="rId2"', 'Id="rId1"'), 'two relationships have the id "rId1"'),
    "two shared strings": (_two_sst_rels, "2 relationships of type sharedStrings"),
    "a percent-escaped target": (_edit(WB_RELS, 'Target="sharedStrings.xml"', 'Target="shared%53trings.xml"'),
                                 "does not name a part inside the file"),
    "a target above the package": (_edit(WB_RELS, 'Target="sharedStrings.xml"', 'Target="../../sharedStrings.xml"'),
                                   "does not name a part inside the file"),
    "no workbook relationship": (_no_workbook, "name no workbook part"),
    "shared strings that are not": (_edit(WB_RELS, 'Target="sharedStrings.xml"', 'Target="styles.xml"'),
                                    "is used as a sst part but is not one"),
}


@pytest.mark.parametrize("case", DISAGREED)
def test_what_programs_read_differently_is_refused(tmp_path_factory: pytest.TempPathFactory, case: str) -> None:
    base = tmp_path_factory.getbasetemp()
    edit, words = DISAGREED[case]
    path = base / "disagreed.xlsx"
    path.write_bytes(_zip(edit(dict(original(str(base))))))
    with pytest.raises(UnreadableFileError) as refused:
        ours(path)
    assert refused.value.code == "corrupt", str(refused.value)
    assert words in str(refused.value)
