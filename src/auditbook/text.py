"""Pure: the one home of text normalisation (choice comparison), file-name slugs and making untrusted text safe
to show (terminal, JSON, the master) or to store in a workbook."""

from __future__ import annotations

import difflib
import functools
import os
import re
import unicodedata
from collections.abc import Iterable

#: Characters read as a hyphen-minus: the dashes, hyphens and minus signs that look like one (NFKC keeps them).
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2043\u2212\u02d7\u2e3a\u2e3b\ufe58\ufe63\uff0d"
_AS_HYPHEN = str.maketrans(dict.fromkeys(_DASHES, "-"))

#: What a spreadsheet reads as the start of a formula when it opens a CSV file (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_text(text: str) -> str:
    """Text for a CSV file a spreadsheet will open: with a leading ' when it would otherwise run as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


@functools.lru_cache(maxsize=1 << 14)  # the same few choices, titles and teams, tens of thousands of times a collect
def norm(text: str | None) -> str:
    """Case- and space-insensitive form used to compare choices, teams and case references: as `folded`, so text
    that looks the same compares the same."""
    text = text or ""
    if text.isascii():
        return " ".join(text.split()).casefold()
    return unicodedata.normalize("NFKC", " ".join(folded(text).split()).casefold())


def folded(text: str) -> str:
    """Text as a person reads it: Unicode NFKC (full-width letters and digits, ligatures, non-breaking spaces made
    plain), format characters (zero-width spaces, joiners, bidirectional marks) dropped, and look-alike dashes made
    a hyphen-minus. Used where two spellings must be one thing: case references, teams."""
    if text.isascii():
        return text
    plain = unicodedata.normalize("NFKC", text).translate(_AS_HYPHEN)
    return "".join(ch for ch in plain if unicodedata.category(ch) != "Cf")


#: Letters of other alphabets (and typographic quotes) drawn like Latin ones, for telling look-alike names apart.
_DRAWN_ALIKE = str.maketrans(
    "\u0410\u0412\u0415\u041a\u041c\u041d\u041e\u0420\u0421\u0422\u0425\u0423\u0405\u0406\u0408"
    "\u0430\u0435\u043e\u0440\u0441\u0443\u0445\u0455\u0456\u0458\u0501\u04bb\u04cf"
    "\u0391\u0392\u0395\u0396\u0397\u0399\u039a\u039c\u039d\u039f\u03a1\u03a4\u03a5\u03a7\u03bf\u03bd"
    "\u0131\u2018\u2019\u201a\u201b\u2032\u201c\u201d\u201e\u2033",
    "ABEKMHOPCTXYSIJ" "aeopcyxsijdhl" "ABEZHIKMNOPTYXov" "i'''''\"\"\"\"")


@functools.lru_cache(maxsize=1024)
def skeleton(text: str) -> str:
    """What a name looks like, for finding one named like another: `norm`, with letters of other alphabets drawn
    like Latin ones read as those ("Overall judgem\u0435nt", with a Cyrillic e, looks like "Overall judgement")."""
    return norm(text if text.isascii() else folded(text).translate(_DRAWN_ALIKE))


def look_alikes(text: str) -> list[str]:
    """The characters `folded` changes that a person would not see changed (NFC's composing of accents aside),
    each named: ["a non-breaking hyphen (U+2011)", "full-width characters"]."""
    if text.isascii():
        return []
    found: list[str] = []
    for ch in text:
        if ch in _DASHES or unicodedata.category(ch) == "Cf" or unicodedata.normalize("NFKC", ch) != ch:
            name = unicodedata.name(ch, "").lower()
            name = name or "character"
            what = "full-width characters" if name.startswith("fullwidth") else (
                f"{'an' if name[0] in 'aeiou' else 'a'} {name} (U+{ord(ch):04X})")
            if what not in found:
                found.append(what)
    return found


def word(n: int, one: str, many: str | None = None) -> str:
    """The word that goes with a count: "concern" for 1, "concerns" for any other ("child", "children")."""
    return one if n == 1 else many or one + "s"


def plural(n: int, one: str, many: str | None = None) -> str:
    """A count and its word, with no "(s)" hedge: "1 urgent concern", "2 urgent concerns", "0 audits"."""
    return f"{n} {word(n, one, many)}"


def suggest(word: str, options: Iterable[str]) -> str:
    """' Did you mean "x"?' for the closest option, or '' (for a mistyped key, id or field)."""
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f' Did you mean "{close[0]}"?' if close else ""


def slug(text: str) -> str:
    """A file-name-safe lower-case slug."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


#: Characters that reorder text on screen (bidirectional embeddings, overrides and isolates) or break lines.
_INVISIBLE = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029"
#: Control characters (C0, DEL, C1), lone surrogates and the invisible ones above.
_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f\ud800-\udfff{_INVISIBLE}]")
_UNSAFE_KEEP_LINES = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff{_INVISIBLE}]")
#: What an XML 1.0 document (so a workbook) cannot hold: C0 controls but tab, LF and CR; surrogates; U+FFFE/FFFF.
_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _escape(ch: str) -> str:
    n = ord(ch)
    return f"\\x{n:02x}" if n < 0x80 else f"\\u{n:04x}"


def shown(text: str, *, keep_lines: bool = False) -> str:
    """Text from a return or a file name made safe to print or store: control characters, bidirectional
    overrides and lone surrogates are shown escaped (\\x1b, \\u202e) instead of acting on the screen.

    With `keep_lines`, tabs and line breaks stay (multi-line answers in the master).
    """
    pattern = _UNSAFE_KEEP_LINES if keep_lines else _UNSAFE
    return pattern.sub(lambda m: _escape(m.group()), text) if pattern.search(text) else text


def unstorable(text: str) -> str | None:
    """The first character a workbook cannot hold (a lone surrogate, an XML-illegal control), escaped, or None."""
    m = _UNSTORABLE.search(text)
    return None if m is None else _escape(m.group())


def storable(text: str) -> str:
    """Text a workbook can hold: each character it cannot (a lone surrogate, an XML-illegal control) shown escaped."""
    return _UNSTORABLE.sub(lambda m: _escape(m.group()), text) if _UNSTORABLE.search(text) else text


def name_key(name: str) -> str:
    """A file name or relative path as printable text, whatever its bytes: one text per name (reversible).

    Bytes that are not UTF-8 (a Windows zip unpacked on Linux) become \\xNN, characters that act on a screen
    \\xNN or \\uNNNN, and a backslash \\\\, so no two names give the same text.
    """
    raw = os.fsencode(name).decode("utf-8", errors="surrogateescape")
    if "\\" not in raw and not _UNSAFE.search(raw):
        return raw
    out = []
    for ch in raw:
        n = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif 0xDC80 <= n <= 0xDCFF:  # an undecodable byte, as surrogateescape carries it
            out.append(f"\\x{n - 0xDC00:02x}")
        elif _UNSAFE.match(ch):
            out.append(_escape(ch))
        else:
            out.append(ch)
    return "".join(out)


def running(label: str) -> str:
    """A label as running text names it: "Audit month (YYYY-MM)" is "audit month" (an acronym keeps its case)."""
    text = re.sub(r"\s*\([^()]*\)\s*$", "", label.strip()) or label.strip()
    first = text.split(" ", 1)[0]
    return text if first[1:2].isupper() else text[:1].lower() + text[1:]
