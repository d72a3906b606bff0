"""Parts whose repeated pieces (a sheet's rows, shared strings, defined names) were parsed and judged before.

Every return made from one template repeats most of its rows (the labels, the formulas), most of its shared
strings and nearly all of its defined names, byte for byte; building their elements is two thirds of the
cost of reading a return. A part is cut before each occurrence of a piece's opening bytes (`<row `, `<si>`,
`<definedName `) and before the closing tag after the last; a piece met twice is parsed once on its own
(inside an element that declares only the default namespace) and, when it parses whole and is judged free
of active content, remembered with its elements. Why the remembered elements are exactly what parsing the
part whole would give:

- The part is parsed with each remembered piece replaced by an empty marker element whose name carries a
  secret number drawn by this process (never in the part's bytes, so no part can forge one). The markers
  must all come back as children of the element the pieces belong to (the first `<sheetData>`, the `<sst>`
  root, the first `<definedNames>`), in the default namespace the piece was learnt in: then at each
  marker's place the parser was in that element's content, with that default namespace, and nothing else
  open (not inside a comment, CDATA, an instruction, a tag or a deeper element).
- A remembered piece parsed whole on its own, declaring any prefix it uses itself (one bound outside it
  fails that parse): read from such a place it gives the same elements and leaves the parser where it was,
  as the empty marker does. So every byte after a marker is read in the same state as in the part, and the
  part's elements are the markers' replaced by the pieces'. A piece always starts with `<` and is followed
  by `<`, so no text or `]]>` runs across a cut. A part without a DTD declares no entity (plain UTF-8 only).
- The remembered pieces held no active content, so judging the rest judges the part as judging it whole
  would: the same refusal, or none.

Anything else (no marker back where it belongs, a part that is not plain UTF-8) is parsed whole, as before.
Each process remembers its own pieces, within fixed bounds (the oldest go first).
"""

from __future__ import annotations

import functools
import secrets
from collections import OrderedDict
from collections.abc import Callable
from typing import NamedTuple
from xml.etree.ElementTree import Element, ParseError, fromstring

from auditbook.errors import UnreadableFileError
from auditbook.returns.safety import parse_part, parse_plain, plain_utf8

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
Judge = Callable[[Element], None]
#: The marker's name: secret to this process, so no part's bytes can hold one.
_MARK = "x" + secrets.token_hex(16)
_MAX_PIECE = 64 * 1024


def _unjudged(root: Element) -> None:
    """For parts that hold no formula (shared strings) or whose formulas are checked one by one (names)."""


class Known(NamedTuple):
    """A part parsed with markers for its remembered pieces; splice() puts the pieces' elements in their place."""

    root: Element
    splice: Callable[[], None]


class Repeats:
    """The remembered pieces of one kind of part, and how to find the element they belong to."""

    def __init__(self, cut: bytes, end: bytes, parent: Callable[[Element], Element | None], *,
                 max_bytes: int = 4 * 1024 * 1024, max_met: int = 65536) -> None:
        self.cut, self.end, self.parent = cut, end, parent
        self.max_bytes, self.max_met = max_bytes, max_met
        self.known: OrderedDict[bytes, tuple[Element, ...]] = OrderedDict()
        self.known_bytes = 0
        #: Every remembered piece's elements, each with what a reader noted about it (None until it notes something).
        self.notes: dict[Element, object] = {}
        #: Pieces met once, by hash: whether one may still be learnt.
        self.met: OrderedDict[int, bool] = OrderedDict()
        self.mark = f"<{_MARK}/>".encode()
        self.secret = _MARK.encode()
        self.mark_tag = f"{{{MAIN}}}{_MARK}"
        self.wrap = (f'<{_MARK} xmlns="{MAIN}">'.encode(), f"</{_MARK}>".encode())

    def forget(self) -> None:
        """Forget every piece met or remembered (for tests and benchmarks that start afresh)."""
        self.known.clear()
        self.notes.clear()
        self.met.clear()
        self.known_bytes = 0

    def parse(self, data: bytes, member: str, judge: Judge = _unjudged) -> Element:
        """A part's root as parse_part gives it, judged by `judge` (which raises on active content)."""
        known = self.skeleton(data, member, judge)
        if known is None:
            root = parse_part(data, member)
            judge(root)
            return root
        judge(known.root)
        known.splice()
        return known.root

    def skeleton(self, data: bytes, member: str, judge: Judge = _unjudged, *, meet: bool = True,
                 plain: bool = False) -> Known | None:
        """The part parsed with a marker for each run of remembered pieces, or None: then parse it whole.

        Unjudged: judge the root, then splice (the remembered pieces were judged when they were learnt). Without
        `meet`, its pieces not remembered are not counted as met (bytes of a part met already, read again); with
        `plain`, the caller has found the bytes plain_utf8 already."""
        first = data.find(self.cut)
        stop = data.find(self.end, first)
        if first < 0 or stop < 0 or not (plain or plain_utf8(data)):
            return None
        out, found = self._marked(data, first, stop, judge, meet)
        if not found or self.secret in data:
            return None
        try:
            root = parse_plain(b"".join(out), member)
        except UnreadableFileError:
            return None  # parsed whole, for its own error
        parent = self.parent(root)
        children = None if parent is None else self._children(parent, found)
        if parent is None or children is None:
            return None
        return Known(root, functools.partial(parent.__setitem__, slice(None), children))

    def _marked(self, data: bytes, first: int, stop: int, judge: Judge, meet_them: bool
                ) -> tuple[list[bytes], list[list[Element]]]:
        """The part's bytes with one marker for each run of remembered pieces, and each run's elements (the pieces not
        remembered met first, with `meet_them`: those met a second time are learnt, and so not parsed twice here)."""
        pieces = data[first:stop].split(self.cut)[1:]
        if meet_them:
            known, met = self.known, self.met.get
            self._meet([p for p in pieces if p not in known and met(hash(p)) is not False], judge)
        found: list[list[Element]] = []
        out = [data[:first]]
        get, cut, mark, add = self.known.get, self.cut, self.mark, out.append
        run: list[Element] | None = None
        for piece in pieces:
            elements = get(piece)
            if elements is not None:
                if run is None:
                    run = []
                    found.append(run)
                    add(mark)
                run += elements
                continue
            run = None
            add(cut)
            add(piece)
        out.append(data[stop:])
        return out, found

    def _children(self, parent: Element, found: list[list[Element]]) -> list[Element] | None:
        """The parent's children with each marker replaced by its run, or None unless every marker is a child."""
        children: list[Element] = []
        runs = iter(found)
        for el in parent:
            if el.tag == self.mark_tag:
                run = next(runs, None)
                if run is None:
                    return None
                children += run
            else:
                children.append(el)
        if next(runs, None) is not None:
            return None  # a marker read otherwise than as a child of the parent (or not at all)
        return children

    def _meet(self, pieces: list[bytes], judge: Judge) -> None:
        """Count pieces met; learn those met a second time."""
        again = []
        for piece in pieces:
            h = hash(piece)
            if h in self.met:
                again.append(piece)
                continue
            self.met[h] = len(piece) <= _MAX_PIECE
            if len(self.met) > self.max_met:
                self.met.popitem(last=False)
        self._learn(list(dict.fromkeys(again)), judge)

    def _learn(self, pieces: list[bytes], judge: Judge) -> None:
        """Remember pieces met a second time: all in one parse, else one by one (one that fails is not tried again).

        Each is read between two markers that come back as children of the wrapper, which declares only the
        default namespace: so each parsed whole on its own, from and back to the wrapper's content."""
        if not pieces:
            return
        learnt = self._parse_alone(pieces, judge)
        if learnt is None and len(pieces) > 1:
            for piece in pieces:
                self._learn([piece], judge)
            return
        if learnt is None:
            self.met[hash(pieces[0])] = False
            return
        for piece, elements in zip(pieces, learnt, strict=True):
            self.known[piece] = elements
            self.notes.update(dict.fromkeys(elements))
            self.known_bytes += len(piece)
        while self.known_bytes > self.max_bytes:  # the oldest go first
            old, gone = self.known.popitem(last=False)
            self.known_bytes -= len(old)
            for el in gone:
                self.notes.pop(el, None)

    def _parse_alone(self, pieces: list[bytes], judge: Judge) -> list[tuple[Element, ...]] | None:
        try:
            alone = fromstring(self.wrap[0] + b"".join(self.mark + self.cut + p for p in pieces) + self.wrap[1])
            judge(alone)
        except (ParseError, ValueError, LookupError, UnreadableFileError):
            return None
        learnt: list[list[Element]] = []
        for el in alone:
            if el.tag == self.mark_tag:
                learnt.append([])
            elif learnt:
                learnt[-1].append(el)
            else:
                return None
        if len(learnt) != len(pieces):
            return None  # a marker read otherwise than as a child of the wrapper
        return [tuple(els) for els in learnt]


_M = f"{{{MAIN}}}"
#: A worksheet's rows, in its first <sheetData>.
ROWS = Repeats(b"<row ", b"</sheetData>", lambda root: root.find(f"{_M}sheetData"))
#: The shared strings, children of the <sst> root.
STRINGS = Repeats(b"<si>", b"</sst>", lambda root: root, max_bytes=2 * 1024 * 1024)
#: The workbook's defined names, in its first <definedNames>.
NAMES = Repeats(b"<definedName ", b"</definedNames>", lambda root: root.find(f"{_M}definedNames"),
                max_bytes=2 * 1024 * 1024)


def forget() -> None:
    """Forget every kind's remembered pieces."""
    for kind in (ROWS, STRINGS, NAMES):
        kind.forget()
