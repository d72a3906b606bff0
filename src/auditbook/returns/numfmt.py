"""Pure: whether a number format shows a value as it is, and what it shows instead.

A cell's number format decides what Excel shows and prints: `;;;"Requires improvement"` shows those words
whatever text the cell holds, `0" years"` adds words to a number, `mm/dd/yyyy` shows a date month first.
Only the part of the format language that can change what a return's answers look like is read: literal
text, the text section and `@`, digit placeholders, scaling (`%`, a trailing `,`), conditions, and the
tokens of a date. Colours, padding, fills and locales change no character of the value.
"""

from __future__ import annotations

import functools
import re
from datetime import date, timedelta
from typing import Literal, NamedTuple

#: What a cell is meant to show: text as typed, a whole number, a date (day first), or a month and year.
Want = Literal["text", "number", "date", "month"]


class Token(NamedTuple):
    """One piece of a format section: its kind and its text."""

    kind: str  # lit, at, code, general, pad, fill, colour, locale, cond, other
    text: str


class Otherwise(NamedTuple):
    """A format that shows a value otherwise than it is: what it shows, when that can be said."""

    shown: str | None


_COLOURS = re.compile(r"(?:black|blue|cyan|green|magenta|red|white|yellow|color\s*\d+)", re.IGNORECASE)
_DATE_TOKEN = re.compile(r"(?:d+|m+|y+|e|h+|s+|am/pm|a/p|b[12]?)", re.IGNORECASE)
_NUMBER_CODE = frozenset("0#?.,")
_SEPARATORS = frozenset(" /-.,:")
_EPOCH = date(1899, 12, 30)  # from serial 61 (01/03/1900) on; Excel counts a 29/02/1900 that never was


def _bracket(inner: str) -> Token:
    if _COLOURS.fullmatch(inner.strip()):
        return Token("colour", inner)
    if inner.startswith("$"):
        symbol = inner[1:].partition("-")[0]
        return Token("lit", symbol) if symbol else Token("locale", inner)
    if inner[:1] in "<>=":
        return Token("cond", inner)
    return Token("other", inner)  # elapsed time, numeral systems ([DBNum1]), and what else Excel adds


def _quoted(code: str, i: int) -> tuple[Token, int] | None:
    """A literal, padding, fill or bracket starting at i, with where it ends (None when none starts there)."""
    ch = code[i]
    if ch == '"':
        end = code.find('"', i + 1)
        end = len(code) if end < 0 else end
        return Token("lit", code[i + 1 : end]), end + 1
    if ch in "\\_*":
        kind = {"\\": "lit", "_": "pad", "*": "fill"}[ch]
        return Token(kind, code[i + 1 : i + 2]), i + 2
    if ch == "[":
        end = code.find("]", i + 1)
        end = len(code) if end < 0 else end
        return _bracket(code[i + 1 : end]), end + 1
    return None


def _token(code: str, i: int) -> tuple[Token, int]:
    """The token starting at i, with where it ends."""
    found = _quoted(code, i)
    if found is not None:
        return found
    if code[i : i + 7].lower() == "general":
        return Token("general", "General"), i + 7
    ch = code[i]
    if ch in "Ee" and code[i + 1 : i + 2] in ("+", "-"):
        return Token("code", code[i : i + 2]), i + 2  # a power of ten, not a year
    m = _DATE_TOKEN.match(code, i)
    if m:
        return Token("code", m.group().lower()), m.end()
    if ch == "@":
        return Token("at", ch), i + 1
    return Token("code" if ch in _NUMBER_CODE or ch in "%Ee" else "lit", ch), i + 1


@functools.lru_cache(maxsize=512)
def sections(code: str) -> tuple[tuple[Token, ...], ...]:
    """A format's sections (split at each ; outside quotes and brackets), each as its tokens."""
    out: list[tuple[Token, ...]] = []
    current: list[Token] = []
    i = 0
    while i < len(code):
        if code[i] == ";":
            out.append(tuple(current))
            current, i = [], i + 1
            continue
        token, i = _token(code, i)
        current.append(token)
    out.append(tuple(current))
    return tuple(out)


@functools.lru_cache(maxsize=1024)
def plain(code: str, text: bool, want: Want) -> bool:
    """Whether a format shows every value of a kind as it is: probed with a text, or a date, or a positive, a negative
    and a zero number (the format's sections; what `otherwise` says of one depends on nothing else)."""
    probes: tuple[str | float, ...] = ("x",) if text else (46000.0,) if want in ("date", "month") else (1.0, -1.0, 0.0)
    return all(otherwise(probe, code, want) is None for probe in probes)


def otherwise(value: str | float, code: str, want: Want, *, date1904: bool = False) -> Otherwise | None:
    """None when the format shows the value as it is (a date in any order of day, month and year but month first);
    else what it shows instead (Otherwise(None) when that cannot be said here). A date serial counts from 1904
    in a workbook that says so."""
    dated = want in ("date", "month") and not isinstance(value, str)
    if code in ("General", "") and not dated:
        return None
    parts = sections(code or "General")
    if isinstance(value, str):
        return _text(value, parts)
    if any(t.kind == "cond" for section in parts for t in section):
        return Otherwise(None)  # which section shows it turns on the value: not worked out here
    section = _section(value, parts)
    if date1904:
        value += 1462  # shown as the day it is, counted from 1900 as the rest of this module counts
    if want in ("date", "month"):
        return _date(value, section, want)
    return _number(value, section)


def _text(value: str, parts: tuple[tuple[Token, ...], ...]) -> Otherwise | None:
    """Text shows as it is unless the format has a text section (the fourth, or one with @) that shows otherwise."""
    section = parts[3] if len(parts) >= 4 else next((s for s in parts if any(t.kind == "at" for t in s)), None)
    if section is None or any(t.kind == "general" for t in section):
        return None
    if any(t.kind in ("code", "other") for t in section):
        return Otherwise(None)
    shown = "".join(value if t.kind == "at" else t.text if t.kind == "lit" else " " if t.kind == "pad" else ""
                    for t in section)
    return None if shown.strip() == value.strip() else Otherwise(shown.strip())


def _section(value: float, parts: tuple[tuple[Token, ...], ...]) -> tuple[Token, ...]:
    """The section a number shows through (positive; negative; zero; text), a minus sign added where Excel adds
    one (a negative number through the first section)."""
    numeric = parts[:3]
    if value < 0 and len(numeric) >= 2:
        return numeric[1]
    if value == 0 and len(numeric) >= 3:
        return numeric[2]
    if value < 0:
        return (Token("lit", "-"), *numeric[0])
    return numeric[0]


def _number(value: float, section: tuple[Token, ...]) -> Otherwise | None:
    """A number shows as it is through digit placeholders (with a thousands separator and decimals), General or @,
    with nothing but padding, fills, colours and a minus sign around them."""
    kinds = {t.kind for t in section}
    codes = "".join(t.text for t in section if t.kind == "code")
    words = "".join(t.text for t in section if t.kind == "lit")
    power = any(t.kind == "code" and t.text[1:2] in ("+", "-") for t in section)
    if "other" in kinds or "%" in codes or power:
        return Otherwise(None)  # a percentage, a power of ten, another numeral system: not worked out here
    if set(codes) - _NUMBER_CODE:
        return Otherwise(_date_text(value, section))  # a number shown as a date or a time
    general = bool(kinds & {"general", "at"})
    if not codes and not general:
        return Otherwise(words.strip())  # no placeholder: the number itself is not shown
    if codes.rstrip(".") != codes.rstrip(".,") or "/" in words:
        return Otherwise(None)  # shown in thousands, or as a fraction
    if not words.strip("- "):
        return None
    return Otherwise(_placed(section, _digits(value, codes) if codes else _general(value)))


def _general(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def _digits(value: float, codes: str) -> str:
    whole, _, fraction = codes.partition(".")
    decimals = len(fraction.replace(",", ""))
    return f"{abs(value):,.{decimals}f}" if "," in whole else f"{abs(value):.{decimals}f}"


def _placed(section: tuple[Token, ...], number: str) -> str:
    """The section's words with the number where its first placeholder is."""
    out: list[str] = []
    placed = False
    for t in section:
        if t.kind == "lit":
            out.append(t.text)
        elif t.kind in ("code", "general", "at") and not placed:
            out.append(number)
            placed = True
    return "".join(out).strip()


def _date(value: float, section: tuple[Token, ...], want: Want) -> Otherwise | None:
    """A date shows as it is when the section has its day (not for a month), month and year, day before month,
    and no words of its own."""
    codes = [t.text for t in section if t.kind == "code"]
    if not codes or any(c[0] not in "dmyehsab" for c in codes) or {t.kind for t in section} & {"general", "at"}:
        # Shown as a number (the date's serial), or not at all.
        shown = _number(value, section)
        digits = "".join(t.text for t in section if t.kind == "code")
        return shown or Otherwise(_placed(section, _digits(value, digits) if digits else _general(value)))
    day = next((i for i, c in enumerate(codes) if c in ("d", "dd")), None)
    month = next((i for i, c in enumerate(codes) if c.startswith("m") and not _minutes(codes, i)), None)
    year = any(c.startswith(("y", "e")) for c in codes)
    words = "".join(t.text for t in section if t.kind == "lit")
    ok = month is not None and year and not set(words) - _SEPARATORS and "other" not in {t.kind for t in section}
    if want == "date":
        ok = ok and day is not None and month is not None and day < month
    return None if ok else Otherwise(_date_text(value, section))


def _literal(section: tuple[Token, ...]) -> str:
    return "".join(t.text for t in section if t.kind == "lit").strip()


def _minutes(codes: list[str], i: int) -> bool:
    """Whether an m token is minutes: after an hour, or before seconds, as Excel reads it."""
    before = next((c for c in reversed(codes[:i]) if c[0] in "hdy"), "")
    after = next((c for c in codes[i + 1 :] if c[0] in "sdy"), "")
    return before.startswith("h") or after.startswith("s")


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _date_text(value: float, section: tuple[Token, ...]) -> str | None:
    """The section's date tokens and words for a date serial, or None when it shows a time or what is not said here."""
    try:
        day = _EPOCH + timedelta(days=int(value) + (value < 61))
    except (OverflowError, ValueError):
        return None
    out: list[str] = []
    for t in section:
        if t.kind == "lit":
            out.append(t.text)
        elif t.kind == "code":
            text = _date_part(day, t.text)
            if text is None:
                return None
            out.append(text)
        elif t.kind not in ("colour", "locale", "pad", "fill"):
            return None
    return "".join(out).strip()


def _date_part(day: date, token: str) -> str | None:
    parts = {"d": str(day.day), "dd": f"{day.day:02d}", "ddd": _DAYS[day.weekday()][:3], "dddd": _DAYS[day.weekday()],
             "m": str(day.month), "mm": f"{day.month:02d}", "mmm": _MONTHS[day.month - 1][:3],
             "mmmm": _MONTHS[day.month - 1], "mmmmm": _MONTHS[day.month - 1][0], "yy": f"{day.year % 100:02d}",
             "yyyy": str(day.year), "e": str(day.year)}
    return parts.get(token if token in parts else token[:4])
