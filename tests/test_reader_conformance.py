"""The reader sees what a conforming XML parser, and so Excel, LibreOffice and openpyxl, see (issue 8).

A property-based test rewrites a genuine return's XML in every way the format allows without changing a
cell (comments and processing instructions anywhere, CDATA, character references, attribute order, a
namespace prefix, inline instead of shared strings, rich-text runs, cells without references, lower-case
references, UTF-16, whitespace) and checks that the reader and openpyxl agree on every input cell.
"""

from __future__ import annotations

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
from tests.hazards import parts
from tests.returns import answers, layout, make_return

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
MUTATIONS = ("comments", "pis", "cdata", "charrefs", "attr_order", "prefix", "inline", "rich", "drop_r",
             "lowercase_r", "utf16", "whitespace")


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
        return text


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
    """The return's zip with every sheet and the shared strings rewritten."""
    mut = Mutator(draw)
    sst = members["xl/sharedStrings.xml"].decode()
    strings = re.findall(r"<si>(.*?)</si>", sst, flags=re.S)
    out = dict(members)
    for name, data in members.items():
        if not (name.startswith("xl/worksheets/sheet") or name == "xl/sharedStrings.xml"):
            continue
        text = data.decode()
        for m in chosen:
            if m != "utf16":
                text = mut.apply(m, text, strings)
        if "utf16" in chosen and draw(st.booleans()):
            out[name] = text.replace('encoding="UTF-8"', 'encoding="UTF-16"', 1).encode("utf-16")
        else:
            out[name] = text.encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in out.items():
            zf.writestr(name, data)
    return buf.getvalue()


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
@given(chosen=st.lists(st.sampled_from(MUTATIONS), min_size=1, max_size=5, unique=True), data=st.data())
def test_reader_and_openpyxl_agree_on_every_input_cell(tmp_path_factory: pytest.TempPathFactory,
                                                      chosen: list[str], data: st.DataObject) -> None:
    base = tmp_path_factory.getbasetemp()
    members = original(str(base))
    path = base / "mutated.xlsx"
    path.write_bytes(mutate(members, chosen, data.draw))
    agree(path)


def everywhere(strategy: Any) -> Any:
    """A stand-in for hypothesis's draw: every place, and UTF-16 always."""
    return True if "booleans" in repr(strategy) else list(range(10_000))


@pytest.mark.parametrize("mutation", MUTATIONS)
def test_each_rewrite_applied_everywhere_agrees(tmp_path_factory: pytest.TempPathFactory, mutation: str) -> None:
    base = tmp_path_factory.getbasetemp()
    members = original(str(base))
    mutated = mutate(members, [mutation], everywhere)
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
