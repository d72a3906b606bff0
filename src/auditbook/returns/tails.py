"""Worksheets whose middle, between their cells and their page header and footer, was parsed and judged before.

Every return made from one template carries, after each sheet's cells, the same protection, merged cells,
conditional formats and data validations: about half of a sheet's bytes, and half the cost of reading it.
(The page footer after them names the case, so it differs.) A sheet's bytes are cut in three: the head,
up to the end of its first `</sheetData>`; the middle, up to its `<headerFooter` (else its `</worksheet>`);
the end. Why a middle needs no second parse or judgement:

- A parser reading a part is, at any byte, in a state set by the bytes before it. The head closed by
  `</worksheet>` parses whole only if, after the head, the parser was in the root's content with no other
  element open (inside a comment, a CDATA section, a tag or a deeper element that close tag would not
  parse): so the middle starts in that state, whose namespaces and open element come from the prolog and
  the root's start tag alone (there is no DTD, so no entities).
- A middle is remembered only from a part that parsed whole and was judged free of active content, where
  the part cut after the middle and closed by `</worksheet>` parsed too: read from that state, the middle's
  bytes were complete children of the root and ended in the same state. The key is the prolog and root
  start tag's exact bytes with the middle's, so a later part's middle is read exactly as that one was: the
  same elements, already judged.
- The head and the end are parsed in one, an empty marker element between them in the middle's place; the marker
  must come back as a child of the root (its name is secret to this process: no part's bytes can hold one), so
  the parser was in the root's content there, the state the middle starts and ends in, and the end is read in
  the state it is read in after the middle.

So the head's and the end's elements, with the middle's known ones in the marker's place, are the part's elements: they
are judged together, as a whole part is, and the reader reads them: it reads only the root's children of the
kinds READ names, and those of the middle are kept. Any other part (no such cut, a head or end that does not
parse, a middle not remembered) is parsed whole, as before. A middle is remembered only when
it is met a second time, so returns that share none cost no more than a few byte searches; each process
(each of collect's workers) remembers its own, within fixed bounds.
"""

from __future__ import annotations

import copy
import pyexpat
import secrets
from collections import OrderedDict
from typing import NamedTuple
from xml.etree.ElementTree import Element

from auditbook.errors import UnreadableFileError
from auditbook.returns import repeats
from auditbook.returns.repeats import ROWS, Judge
from auditbook.returns.safety import parse_part, parse_plain, plain_utf8

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_CELLS_END, _CLOSE, _FOOTER = b"</sheetData>", b"</worksheet>", b"<headerFooter"
#: The root's children the reader reads (it reads no other, and nothing deeper than these): of a middle, every one
#: of these kinds is kept, in order, so the reader reads what it would read in the part parsed whole (a second
#: <sheetData> it refuses, <cols> or <extLst> out of their place).
READ = ("sheetData", "sheetFormatPr", "cols", "sheetProtection", "mergeCells", "conditionalFormatting", "extLst")
_KEPT = frozenset(f"{_MAIN}{tag}" for tag in READ)
#: Bounds on what is remembered: a template's middles are a few kilobytes each, one per sheet.
_MAX_MIDDLE, _MAX_BYTES, _MAX_MET = 256 * 1024, 8 * 1024 * 1024, 4096

Key = tuple[bytes, bytes]
#: The marker put where a remembered middle was: its name is secret to this process, so no part's bytes can hold it.
_MIDDLE_TAG = "m" + secrets.token_hex(16)
_MIDDLE, _MIDDLE_MARK = _MIDDLE_TAG.encode(), f"<{_MIDDLE_TAG}/>".encode()
_judged: OrderedDict[Key, tuple[Element, ...]] = OrderedDict()
_judged_bytes = 0
_met: OrderedDict[int, None] = OrderedDict()


class _Cut(NamedTuple):
    start: bytes  # the prolog and the root's start tag
    head_end: int  # just after the first </sheetData>
    end_start: int  # the <headerFooter, else the </worksheet>
    head: bytes  # the head closed by </worksheet>


class _Stop(Exception):
    def __init__(self, index: int) -> None:
        self.index = index


def _root_tag_end(data: bytes) -> int | None:
    """Where the root's start tag ends, as a parser reads it (one that stops there)."""
    parser = pyexpat.ParserCreate(namespace_separator=" ")
    in_root = False

    def start(name: str, attrs: object) -> None:
        nonlocal in_root
        if in_root:
            raise _Stop(parser.CurrentByteIndex)
        in_root = True

    def other(*args: object) -> None:  # text, comments, instructions, an end tag: whatever follows the start tag
        if in_root:
            raise _Stop(parser.CurrentByteIndex)

    parser.StartElementHandler = start
    parser.EndElementHandler = other
    parser.DefaultHandler = other
    try:
        parser.Parse(data, True)
    except _Stop as stop:
        return stop.index
    except (pyexpat.ExpatError, ValueError, LookupError):  # the part is parsed whole, and refused, as ever
        pass
    return None


#: Prologs and root start tags met before, each exactly as a parser ended it, and their lengths: the same bytes
#: end the root's start tag at the same place, so they are not handed to a parser again.
_roots: OrderedDict[bytes, None] = OrderedDict()
_root_lengths: set[int] = set()


def _root_end(head: bytes) -> int | None:
    """_root_tag_end, remembered by the bytes up to it (one prolog and root start tag per template sheet)."""
    for length in _root_lengths:
        if head[:length] in _roots:
            return length
    end = _root_tag_end(head)
    if end is not None and len(_roots) < 1024:
        _roots[head[:end]] = None
        _root_lengths.add(end)
    return end


def _cut(data: bytes) -> _Cut | None:
    head_end = data.find(_CELLS_END)
    if head_end < 0:
        return None
    head_end += len(_CELLS_END)
    end_start = data.find(_FOOTER, head_end)
    if end_start < 0:
        end_start = data.rfind(_CLOSE)
    if end_start < head_end or end_start - head_end > _MAX_MIDDLE:
        return None
    head = data[:head_end] + _CLOSE
    if not plain_utf8(head):  # UTF-8 without a DTD (which would come before the root): no entity declared
        return None
    tag_end = _root_end(head)
    if tag_end is None or not 0 < tag_end <= head_end:
        return None
    return _Cut(data[:tag_end], head_end, end_start, head)


def _pieces(data: bytes, cut: _Cut, member: str, kept: tuple[Element, ...], judge: Judge) -> Element | None:
    """The head's elements, the middle's kept ones and the end's, under the root, judged; None if a piece does not
    parse. The head and the end are parsed in one, with an empty marker element where the middle was: it must come
    back as a child of the root (its name is secret to this process, so only the one put there can), so the middle's
    place is in the root's content, where the middle starts and ends. The head's rows met before are not parsed
    again either (repeats.py)."""
    if _MIDDLE in data:
        return None
    both = data[: cut.head_end] + _MIDDLE_MARK + data[cut.end_start :]
    if not plain_utf8(both):
        return None
    rows = ROWS.skeleton(both, member, judge, plain=True)
    try:
        root = rows.root if rows is not None else parse_plain(both, member)
    except UnreadableFileError:
        return None
    at = [i for i, el in enumerate(root) if el.tag.rpartition("}")[2] == _MIDDLE_TAG]
    if len(at) != 1:
        return None
    root[at[0] : at[0] + 1] = [copy.copy(el) for el in kept]
    judge(root)
    if rows is not None:
        rows.splice()  # the remembered rows were judged when they were learnt
    return root


def _learn(data: bytes, cut: _Cut, member: str, key: Key) -> None:
    """Remember a judged middle the second time it is met, once both cuts are shown to fall between children."""
    global _judged_bytes
    met = hash(key)
    if met not in _met:
        _met[met] = None
        if len(_met) > _MAX_MET:
            _met.popitem(last=False)
        return
    # Both parsed with the rows remembered in their place (repeats.py: the root's children are those of the bytes
    # parsed whole, and the rows are not met again): only whether they parse and the root's children are wanted.
    try:
        head = _root_of(cut.head, member)
        through = _root_of(data[: cut.end_start] + _CLOSE, member)
    except UnreadableFileError:
        return
    middle = list(through)[len(head) :]
    _judged[key] = tuple(copy.copy(el) for el in middle if el.tag in _KEPT)
    _judged_bytes += len(key[0]) + len(key[1])
    while _judged_bytes > _MAX_BYTES:  # the oldest go first
        old, _ = _judged.popitem(last=False)
        _judged_bytes -= len(old[0]) + len(old[1])


def _root_of(data: bytes, member: str) -> Element:
    """A part's root with its children as parse_part gives them (its remembered rows left out of its <sheetData>)."""
    rows = ROWS.skeleton(data, member, meet=False)
    return rows.root if rows is not None else parse_part(data, member)


def forget() -> None:
    """Forget every middle met or judged, and every piece remembered (for tests and benchmarks that start afresh)."""
    global _judged_bytes
    _judged.clear()
    _met.clear()
    _judged_bytes = 0
    _roots.clear()
    _root_lengths.clear()
    repeats.forget()


def parse_sheet(data: bytes, member: str, judge: Judge) -> Element:
    """A worksheet part's elements under its root, judged by `judge` (which raises on active content).

    As parse_part gives them, but a middle judged before is not parsed again (only the elements the reader
    reads from it are there), nor are rows met before (repeats.py)."""
    cut = _cut(data)
    key = (cut.start, data[cut.head_end : cut.end_start]) if cut is not None else None
    if cut is not None and key is not None and (kept := _judged.get(key)) is not None:
        whole = _pieces(data, cut, member, kept, judge)
        if whole is not None:
            return whole
    root = ROWS.parse(data, member, judge)
    if cut is not None and key is not None:
        _learn(data, cut, member, key)
    return root
