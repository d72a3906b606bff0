"""Pure: small inline SVG charts for the round report (no script, no fonts or images to fetch).

Every chart has a <title> and each bar or point its figure as text, so it reads the same printed in
black and white, and to a screen reader.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from auditbook.analysis.trends import percent

#: Grades in list order, best first: greens, amber, red (then purple and grey for longer scales). None is the navy
#: of the "% good or better" bars, so the two never read as one.
GRADE_COLOURS = ("#1A7A3A", "#8CC46B", "#F6A53A", "#C0392B", "#7030A0", "#808080")
#: The colour of a count written on a grade's bar: white on the dark fills, ink on the light ones.
GRADE_INK = ("#FFFFFF", "#1F1F1F", "#1F1F1F", "#FFFFFF", "#FFFFFF", "#FFFFFF")
INK, MUTED, LIGHT = "#1F1F1F", "#595959", "#D9D9D9"


@dataclass(frozen=True)
class Bar:
    """One bar: its label, its share (0..1 or None when there is nothing to show), and the text beside it."""

    label: str
    share: float | None
    note: str = ""
    #: The same measure in the previous round, drawn as a tick on the bar.
    previous: float | None = None
    #: "" (plain), "low" (drawn red) or "small" (a small cohort: drawn amber).
    mark: str = ""


def _svg(width: int, height: int, title: str, body: str) -> str:
    return (f'<svg class="chart" role="img" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}"><title>{escape(title)}</title>{body}</svg>')


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


def _label(x: float, y: float, lines: Sequence[str], *, size: int = 12) -> str:
    """A label right-aligned at x, its lines centred on the bar at y (the bar's middle)."""
    top = y - (len(lines) - 1) * (size + 2) / 2
    return "".join(_text(x, top + i * (size + 2), line, anchor="end", size=size) for i, line in enumerate(lines))


def _text(x: float, y: float, text: str, *, anchor: str = "start", size: int = 12, fill: str = INK,
          weight: str = "normal") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{fill}" '
            f'font-weight="{weight}">{escape(text)}</text>')


def _row_height(lines: Sequence[str], size: int = 12) -> int:
    return max(24, len(lines) * (size + 2) + 8)


def share_bars(title: str, bars: Sequence[Bar], *, label_width: int = 300, width: int = 760) -> str:
    """Horizontal bars of shares (e.g. % good or better by section), with the previous round as a tick; labels wrap
    over up to three lines rather than being cut."""
    top = 8
    plot = width - label_width - 170
    parts: list[str] = []
    y = top
    for b in bars:
        lines = _lines(b.label, label_width - 12)
        row = _row_height(lines)
        mid = y + row / 2
        parts.append(f"<g><title>{escape(b.label)}</title>{_label(label_width - 8, mid + 4, lines)}</g>")
        parts.append(f'<rect x="{label_width}" y="{mid - 7:.1f}" width="{plot}" height="14" fill="{LIGHT}"/>')
        if b.share is not None:
            colour = {"low": "#C00000", "small": "#BF8F00"}.get(b.mark, "#1F4E79")
            parts.append(f'<rect class="bar" x="{label_width}" y="{mid - 7:.1f}" width="{plot * b.share:.1f}" '
                         f'height="14" fill="{colour}"/>')
        if b.previous is not None:
            x = label_width + plot * b.previous
            parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{mid - 10:.1f}" y2="{mid + 10:.1f}" stroke="{INK}" '
                         'stroke-width="2" stroke-dasharray="3,2"/>')
        figure = "no grades" if b.share is None else f"{percent(b.share)}%"
        parts.append(_text(label_width + plot + 8, mid + 4, f"{figure} {b.note}".strip(), fill=MUTED, size=11))
        y += row
    height = max(y, top + 24) + 8
    return _svg(width, int(height), title, "".join(parts))


def stacked_grades(title: str, rows: Sequence[tuple[str, Sequence[int]]], grades: Sequence[str], *,
                   label_width: int = 300, width: int = 760) -> str:
    """One bar per row split into its grades' shares, with a legend; the count of each grade is written on it."""
    top = 30
    plot = width - label_width - 60
    parts = []
    x = label_width
    for g, grade in enumerate(grades):
        parts.append(f'<rect x="{x}" y="6" width="12" height="12" fill="{GRADE_COLOURS[g % 6]}"/>')
        parts.append(_text(x + 16, 16, grade, size=11))
        x += 24 + 7 * len(grade)
    y = top
    for label, counts in rows:
        lines = _lines(label, label_width - 12)
        row = _row_height(lines)
        mid = y + row / 2
        total = sum(counts)
        parts.append(f"<g><title>{escape(label)}</title>{_label(label_width - 8, mid + 4, lines)}</g>")
        left = float(label_width)
        for g, n in enumerate(counts):
            if not n or not total:
                continue
            w = plot * n / total
            parts.append(f'<rect class="bar" x="{left:.1f}" y="{mid - 7:.1f}" width="{w:.1f}" height="14" '
                         f'fill="{GRADE_COLOURS[g % 6]}"><title>{escape(grades[g])}: {n}</title></rect>')
            if w > 14:
                parts.append(_text(left + w / 2, mid + 4, str(n), anchor="middle", size=10,
                                   fill=GRADE_INK[g % len(GRADE_INK)], weight="bold"))
            left += w
        parts.append(_text(label_width + plot + 6, mid + 4, f"n={total}", size=11, fill=MUTED))
        y += row
    return _svg(width, int(max(y, top + 24) + 8), title, "".join(parts))


def trend_lines(title: str, rounds: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]], *,
                width: int = 760, height: int = 260) -> str:
    """Lines of shares across rounds (the first series drawn heavier), 0-100 % on the axis."""
    left, right, top, bottom = 50, 180, 16, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    parts = []
    for pct in (0, 25, 50, 75, 100):
        y = top + plot_h * (1 - pct / 100)
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="{LIGHT}"/>')
        parts.append(_text(left - 6, y + 4, f"{pct}%", anchor="end", size=10, fill=MUTED))
    n = len(rounds)

    def x_of(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    for i, name in enumerate(rounds):
        parts.append(_text(x_of(i), top + plot_h + 18, name, anchor="middle", size=10, fill=MUTED))
    for k, (name, values) in enumerate(series):
        colour = "#1F4E79" if k == 0 else GRADE_COLOURS[(k - 1) % 6]
        points = [(x_of(i), top + plot_h * (1 - v)) for i, v in enumerate(values) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            parts.append(f'<polyline class="line" points="{path}" fill="none" stroke="{colour}" '
                         f'stroke-width="{3 if k == 0 else 1.5}"/>')
        for x, y in points:
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{4 if k == 0 else 3}" fill="{colour}"/>')
        last = next((v for v in reversed(values) if v is not None), None)
        if last is not None:
            parts.append(_text(left + plot_w + 10, top + 12 + 16 * k, f"{name}: {percent(last)}%", size=11,
                               fill=colour))
    return _svg(width, height, title, "".join(parts))
