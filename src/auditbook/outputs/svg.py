"""Pure: where everything goes in the round report's small inline SVG charts (no script, no fonts or images to fetch).

This module lays a chart out (label lines, bar widths, points) as plain data; the macros of
templates/charts.html.j2 draw it, escaping every text. Every chart has a <title>, each bar or point its figure
as text, and its figures as a table (Figures) that the template writes under it, so it reads the same printed in
black and white, and to a screen reader. The colours are chosen by their WCAG contrast (`contrast`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from auditbook.analysis.trends import percent

#: Grades in list order, best first: green, dark green, amber, dark red (then purple and dark grey for longer
#: scales). Each is at least 3:1 against white (WCAG 2.2 1.4.11), and light and dark take turns, so grades next to each
#: other in the list are at least 3:1 against each other too; where a grade with no audits leaves two of the same
#: lightness side by side, the white border between a bar's parts (SEPARATOR) tells them apart. NAVY is the "% good
#: or better" bars' colour, so the two never read as one.
GRADE_COLOURS = ("#3FA24A", "#0A3F1C", "#CC8000", "#7A0010", "#A474D6", "#333333")
INK, MUTED, LIGHT, WHITE = "#1F1F1F", "#595959", "#D9D9D9", "#FFFFFF"
#: The line drawn between the parts of a stacked bar.
SEPARATOR = WHITE
#: The fill of the "% good or better" bars, and of the first (overall) line of a trend.
NAVY = "#1F4E79"
#: A bar's fill by its mark: "low" (under half, red) and "small" (a small cohort, dark amber); each at least 3:1
#: against white and against the bar's light track.
MARK_COLOURS = {"low": "#C00000", "small": "#8A6400"}
#: What a mark says in words beside its bar's figure, so the colour is never the only sign of it (a small cohort's
#: note says "small" itself).
MARK_WORDS = {"low": "under half"}


def _luminance(colour: str) -> float:
    """A "#RRGGBB" colour's relative luminance, as WCAG 2.2 defines it."""
    channels = [int(colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """The contrast ratio of two "#RRGGBB" colours (1 to 21), as WCAG 2.2 defines it."""
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def ink_on(fill: str) -> str:
    """The colour of text written on a fill: white or ink, whichever contrasts more."""
    return WHITE if contrast(WHITE, fill) >= contrast(INK, fill) else INK


def text_colour(colour: str) -> str:
    """A colour for text on white: the colour itself where it reads (4.5:1, WCAG 1.4.3), else ink."""
    return colour if contrast(colour, WHITE) >= 4.5 else INK


# The charts' records are NamedTuples: immutable, compared and shown as frozen dataclasses are, and a quarter of the
# cost to define at every command's start-up (one eval, where a dataclass compiles each method it writes). Segment,
# whose `count` would hide tuple.count, stays a dataclass.
class Figures(NamedTuple):
    """A chart's figures as a table, under every chart: what a screen reader (or anyone) reads instead of the
    drawing. Every column after the first holds figures."""

    headers: tuple[str, ...]
    rows: list[tuple[str, ...]]

    @property
    def numeric(self) -> range:
        """The columns of figures (all but the first), right-aligned as the report's tables align them."""
        return range(1, len(self.headers))


class Bar(NamedTuple):
    """One bar: its label, its share (0..1 or None when there is nothing to show), and the text beside it."""

    label: str
    share: float | None
    note: str = ""
    #: The same measure in the previous round, drawn as a tick on the bar.
    previous: float | None = None
    #: "" (plain), "low" (drawn red) or "small" (a small cohort: drawn amber).
    mark: str = ""
    #: Written instead of the share when there is none to show ("fewer than 5" for a suppressed group: no bar).
    shown: str = ""


class Text(NamedTuple):
    """A line of text in a chart, placed at (x, y)."""

    x: float
    y: float
    text: str
    anchor: str = "start"
    size: int = 12
    fill: str = INK
    weight: str = "normal"


class ShareRow(NamedTuple):
    """One bar of a share chart, centred on `mid`: its wrapped label, its fill's width and the previous round's
    tick (None when there is none), and its figure."""

    label: str
    lines: list[Text]
    mid: float
    width: float | None
    colour: str
    tick: float | None
    figure: Text


class ShareBars(NamedTuple):
    """Horizontal bars of shares: each bar starts at x `left` and is `plot` wide at 100%."""

    title: str
    width: int
    height: int
    left: int
    plot: int
    rows: list[ShareRow]
    figures: Figures

    @property
    def separator(self) -> str:
        """Drawn under the previous round's tick, so it shows on a dark bar as on the light track."""
        return SEPARATOR


@dataclass(frozen=True)
class Segment:
    """One grade's part of a stacked bar: where it starts, how wide it is, and its count (written on it if it fits)."""

    left: float
    width: float
    colour: str
    grade: str
    count: int
    label: Text | None


class StackedRow(NamedTuple):
    """One stacked bar, centred on `mid`, with its wrapped label and its total."""

    label: str
    lines: list[Text]
    mid: float
    segments: list[Segment]
    total: Text


class LegendKey(NamedTuple):
    """A grade's colour swatch at x, and its name."""

    x: int
    colour: str
    name: Text


class StackedGrades(NamedTuple):
    """One bar per row split into its grades' shares, with a legend."""

    title: str
    width: int
    height: int
    legend: list[LegendKey]
    rows: list[StackedRow]
    figures: Figures

    @property
    def separator(self) -> str:
        """The line between a bar's parts (see GRADE_COLOURS)."""
        return SEPARATOR


class Series(NamedTuple):
    """One line of a trend chart: its points, the first (heavy) series or not, and its last figure."""

    colour: str
    heavy: bool
    points: list[tuple[float, float]]
    last: Text | None


class TrendLines(NamedTuple):
    """Lines of shares across rounds: grid lines (at y, from x `left` to `right`) with their %, round names, series."""

    title: str
    width: int
    height: int
    left: int
    right: int
    grid: list[tuple[float, Text]]
    rounds: list[Text]
    series: list[Series]
    figures: Figures


def _lines(label: str, width: int, size: int = 12, most: int = 3) -> list[str]:
    """A label wrapped at spaces to lines that fit in `width` pixels (Arial averages about half its size a
    character); only a label longer than `most` lines is cut, with an ellipsis."""
    per = max(int(width / (size * 0.55)), 4)
    lines: list[str] = []
    for word in label.split():
        if lines and len(lines[-1]) + 1 + len(word) <= per:
            lines[-1] += " " + word
        else:
            lines.append(word)
    lines = [line if len(line) <= per else line[: per - 1] + "\u2026" for line in lines] or [""]
    if len(lines) > most:
        lines = [*lines[: most - 1], lines[most - 1][: per - 1] + "\u2026"]
    return lines


def _label(x: float, y: float, lines: Sequence[str], *, size: int = 12) -> list[Text]:
    """A label right-aligned at x, its lines centred on the bar at y (the bar's middle)."""
    top = y - (len(lines) - 1) * (size + 2) / 2
    return [Text(x, top + i * (size + 2), line, anchor="end", size=size) for i, line in enumerate(lines)]


def _row_height(lines: Sequence[str], size: int = 12) -> int:
    return max(24, len(lines) * (size + 2) + 8)


def share_bars(title: str, bars: Sequence[Bar], *, item: str = "Group", label_width: int = 300, width: int = 760
               ) -> ShareBars:
    """Horizontal bars of shares (e.g. % good or better by section), with the previous round as a tick; labels wrap
    over up to three lines rather than being cut. `item` heads the first column of its table of figures."""
    top = 8
    plot = width - label_width - 170
    rows: list[ShareRow] = []
    y = top
    for b in bars:
        lines = _lines(b.label, label_width - 12)
        row = _row_height(lines)
        mid = y + row / 2
        rows.append(ShareRow(
            b.label, _label(label_width - 8, mid + 4, lines), mid, None if b.share is None else plot * b.share,
            MARK_COLOURS.get(b.mark, NAVY), None if b.previous is None else label_width + plot * b.previous,
            Text(label_width + plot + 8, mid + 4, _figure(b), fill=MUTED, size=11)))
        y += row
    height = max(y, top + 24) + 8
    return ShareBars(title, width, int(height), label_width, plot, rows, _share_figures(bars, item))


def _share_figures(bars: Sequence[Bar], item: str) -> Figures:
    """The table of a share chart: each bar's figure as the chart writes it, and the previous round's share if any
    bar has one."""
    before = any(b.previous is not None for b in bars)
    rows = [(b.label, _figure(b), *([_pct(b.previous)] if before else [])) for b in bars]
    return Figures((item, "This round", *(["Previous round"] if before else [])), rows)


def _figure(b: Bar) -> str:
    """A bar's figure as written beside it and in its table: the share, the note, the mark in words."""
    return " ".join(filter(None, (b.shown or ("no grades" if b.share is None else f"{percent(b.share)}%"), b.note,
                                  MARK_WORDS.get(b.mark, ""))))


def _pct(share: float | None) -> str:
    return "\u2013" if share is None else f"{percent(share)}%"


def stacked_grades(title: str, rows: Sequence[tuple[str, Sequence[int]]], grades: Sequence[str], *,
                   item: str = "Section", label_width: int = 300, width: int = 760) -> StackedGrades:
    """One bar per row split into its grades' shares, with a legend; the count of each grade is written on it.
    `item` heads the first column of its table of figures."""
    top = 30
    plot = width - label_width - 60
    legend = []
    x = label_width
    for g, grade in enumerate(grades):
        legend.append(LegendKey(x, GRADE_COLOURS[g % 6], Text(x + 16, 16, grade, size=11)))
        x += 24 + 7 * len(grade)
    out = []
    y = top
    for label, counts in rows:
        lines = _lines(label, label_width - 12)
        row = _row_height(lines)
        mid = y + row / 2
        total = sum(counts)
        segments = []
        left = float(label_width)
        for g, n in enumerate(counts):
            if not n or not total:
                continue
            w = plot * n / total
            segments.append(Segment(left, w, GRADE_COLOURS[g % 6], grades[g], n, Text(
                left + w / 2, mid + 4, str(n), anchor="middle", size=10, fill=ink_on(GRADE_COLOURS[g % 6]),
                weight="bold") if w > 14 else None))
            left += w
        out.append(StackedRow(label, _label(label_width - 8, mid + 4, lines), mid, segments,
                              Text(label_width + plot + 6, mid + 4, f"n={total}", size=11, fill=MUTED)))
        y += row
    figures = Figures((item, *grades, "Audits graded"),
                      [(label, *map(str, counts), str(sum(counts))) for label, counts in rows])
    return StackedGrades(title, width, int(max(y, top + 24) + 8), legend, out, figures)


def trend_lines(title: str, rounds: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]], *,
                width: int = 760, height: int = 260) -> TrendLines:
    """Lines of shares across rounds (the first series drawn heavier), 0-100 % on the axis."""
    left, right, top, bottom = 50, 180, 16, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    grid = []
    for pct in (0, 25, 50, 75, 100):
        y = top + plot_h * (1 - pct / 100)
        grid.append((y, Text(left - 6, y + 4, f"{pct}%", anchor="end", size=10, fill=MUTED)))
    n = len(rounds)

    def x_of(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    names = [Text(x_of(i), top + plot_h + 18, name, anchor="middle", size=10, fill=MUTED)
             for i, name in enumerate(rounds)]
    lines = []
    for k, (name, values) in enumerate(series):
        colour = NAVY if k == 0 else GRADE_COLOURS[(k - 1) % 6]
        last = next((v for v in reversed(values) if v is not None), None)
        lines.append(Series(
            colour, k == 0, [(x_of(i), top + plot_h * (1 - v)) for i, v in enumerate(values) if v is not None],
            None if last is None else Text(left + plot_w + 10, top + 12 + 16 * k, f"{name}: {percent(last)}%",
                                           size=11, fill=text_colour(colour))))
    figures = Figures(("Round", *(name for name, _ in series)),
                      [(r, *(_pct(values[i]) for _, values in series)) for i, r in enumerate(rounds)])
    return TrendLines(title, width, height, left, left + plot_w, grid, names, lines, figures)
