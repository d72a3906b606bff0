"""The round report with hostile text in every place it shows text that others typed: a return's case reference,
team, round, theme tags, findings, impact and action wording, a rejected return's file name, the allocation list,
the SAG plan typed into the master, and the classification. Each comes out as text, escaped and inert: parsed,
the page has only the report's own elements and attributes, no attribute value carries any of it, and every
hostile value reads back whole from the page's text (so `{{ 7*7 }}` was never evaluated as a template)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jinja2
import openpyxl
import pytest
import yaml
from typer.testing import CliRunner

from auditbook.allocation.lists import read_allocation, template_csv
from auditbook.analysis.evidence import Evidence
from auditbook.cli import app
from auditbook.collection.collect import collect, gather_folder
from auditbook.outputs.report import Span, _template, css_string, render
from auditbook.returns.provenance import SpecRegistry
from auditbook.spec import Spec, default_spec_path, parse_spec
from auditbook.spec.layout import build_layout
from auditbook.workbook.synthetic import synthetic_answers
from auditbook.workbook.writer import build_workbook

NOW = datetime(2026, 12, 7, 9, 30)
runner = CliRunner()

FORMULA = '=HYPERLINK("x")'
SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
TEMPLATE = "{{ 7*7 }}"


def hostile(label: str) -> str:
    """A label followed by every payload: a formula, markup, an attribute break-out, template syntax."""
    return f"{label} {FORMULA} {SCRIPT} {IMG} {TEMPLATE}"


#: A file name cannot hold "/", so the rejected return's name breaks out with an element that needs none.
REJECTED = f'SYN-0003 {IMG} <svg onload=alert(2)> {TEMPLATE} {FORMULA}.xlsx'
#: A theme's label has at most 80 characters: every payload and nothing else.
THEME = FORMULA + SCRIPT + IMG + TEMPLATE
ROUND = hostile("2026 round 3")
CASE, TEAM = hostile("SYN-0001"), hostile("Team")
FINDINGS = {"assessment_working_well": hostile("Working well") + "\nsecond line",
            "assessment_to_improve": hostile("To improve"), "overall_impact": hostile("Impact")}
ACTION = hostile("Action")
#: An allocation list's case reference has at most 60 characters.
ALLOCATED = {"case": f"SYN-0042 {IMG} {TEMPLATE}", "team": hostile("Allocated team"),
             "auditor": hostile("Example Auditor")}
PLAN = {"Theme": hostile("Plan theme"), "Action": hostile("Plan action"), "Owner": hostile("Example Owner")}
CLASSIFICATION = "OFFICIAL </style><script>alert('c')</script> & \"more\""
#: Shown in the report however it is made; the findings, impact and action wording only with --include-text.
ALWAYS = [CASE, TEAM, ROUND, THEME, *ALLOCATED.values(), *PLAN.values()]
WITH_TEXT = [*FINDINGS.values(), ACTION]

#: The report's own vocabulary: every element and attribute it writes.
TAGS = {"html", "head", "meta", "title", "style", "body", "div", "p", "h1", "h2", "h3", "section", "table", "thead",
        "tbody", "tr", "th", "td", "span", "svg", "g", "rect", "line", "text", "polyline", "circle",
        "header", "main", "footer", "figure", "figcaption", "details", "summary"}
ATTRIBUTES = {"lang", "charset", "name", "content", "http-equiv", "class", "colspan", "role", "xmlns", "viewbox",
              "width", "height", "x", "y", "x1", "x2", "y1", "y2", "cx", "cy", "r", "fill", "stroke", "stroke-width",
              "stroke-dasharray", "font-size", "font-weight", "text-anchor", "points", "open"}
#: What no attribute value of the report may hold: each is in every payload above (or the file name's).
MARKERS = ("<", ">", "{{", "alert", "onerror", "onload", "HYPERLINK")


def _spec() -> tuple[Spec, dict[str, Any]]:
    """The Deep Dive with one more concern theme, whose label is hostile."""
    data: dict[str, Any] = yaml.safe_load(default_spec_path().read_text(encoding="utf-8"))
    data["version"] = "2.9.7"
    data["themes"].append({"label": THEME, "kind": "concern"})
    return parse_spec(data, source=Path("hostile.yaml")), data


class Page(HTMLParser):
    """A page as a browser's parser reads it: its elements and attributes, its text, its style sheet."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attributes: list[tuple[str, str]] = []
        self.text: list[str] = []
        self.svg_text: list[str] = []
        self.style: list[str] = []
        self.open: list[str] = []
        self.feed(page)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes += [(name, value or "") for name, value in attrs]
        if tag != "meta":  # the one void element the report writes without "/>"
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes += [(name, value or "") for name, value in attrs]

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, (tag, self.open[-3:])
        self.open.pop()

    def handle_data(self, data: str) -> None:
        if self.open and self.open[-1] == "style":
            self.style.append(data)
            return
        self.text.append(data)
        if "svg" in self.open:
            self.svg_text.append(data)


@pytest.fixture(scope="module")
def evidence(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Evidence, Path, Path]]:
    """Two rounds collected, the later one's returns hostile, a rejected return with a hostile name, a hostile SAG
    plan row typed into the master, and a hostile allocation list: (evidence, folder, allocation list)."""
    spec, data = _spec()
    registry = SpecRegistry.of(spec)
    layout = build_layout(spec)
    folder = tmp_path_factory.mktemp("report-hostile") / "returns"
    for i in (1, 2):
        before = synthetic_answers(layout, seed=40 + i, index=100 + i, scenario="child_protection", actions=1,
                                   month="2026-07")
        build_workbook(spec, out=folder / "earlier" / f"SYN-010{i}.xlsx", prefill=before)
        now = synthetic_answers(layout, seed=50 + i, index=i, scenario="child_protection", actions=2)
        now.update({"profile_round": ROUND, "assessment_theme_1": THEME})
        if i == 1:
            now.update({"profile_case_ref": CASE, "profile_team": TEAM, "actions_r01_action": ACTION, **FINDINGS})
        build_workbook(spec, out=folder / f"SYN-000{i}.xlsx", prefill=now)
    rejected = synthetic_answers(layout, seed=53, index=3, scenario="child_protection", actions=1)
    rejected.update({"profile_round": ROUND, "assessment_grade": "Goodish"})
    build_workbook(spec, out=folder / REJECTED, prefill=rejected)
    master = folder.parent / "out" / "master.xlsx"
    result = collect(folder, out=master, registry=registry, now=NOW)
    assert [(n.file, n.status) for n in result.not_merged] == [(REJECTED, "rejected")]
    assert len(result.merged) == 4
    # The collator types a SAG plan row into the master.
    wb = openpyxl.load_workbook(master)
    plan = wb["SAG action plan"]
    head = [c.value for c in plan[1]]
    for column, value in PLAN.items():
        plan.cell(row=2, column=head.index(column) + 1).value = value
    wb.save(master)
    listing = folder.parent / "allocation.csv"
    with listing.open("w", encoding="utf-8", newline="") as fh:
        fh.write(template_csv())
        csv.writer(fh).writerow([ALLOCATED["case"], ALLOCATED["team"], "Example Worker 1", "Example Manager Alpha",
                                 ALLOCATED["auditor"], "2026-11", ""])
    allocated, bad = read_allocation(listing)
    assert bad == []
    specs = folder.parent / "specs"
    specs.mkdir()
    (specs / "hostile.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    yield gather_folder(folder, out=master, registry=registry, now=NOW, allocation=allocated), folder, listing


def _inert(page: str, *, shown: list[str]) -> Page:
    """Check the page is only the report's own markup and every hostile value in `shown` reads back as text."""
    parsed = Page(page)
    assert parsed.open == []  # every element closed where the report closes it
    assert parsed.tags <= TAGS, parsed.tags - TAGS
    assert {name for name, _ in parsed.attributes} <= ATTRIBUTES
    assert [(name, value) for name, value in parsed.attributes if any(m in value for m in MARKERS)] == []
    text = "".join(parsed.text)
    assert [value for value in shown if value not in text] == []
    # Written escaped: none of it is in the markup as typed (each holds a "<" or a quote).
    assert [value for value in shown if value in page] == []
    # The report does not name rejected returns yet (issue 15 lists them): wherever it does, never as typed.
    assert REJECTED not in page and REJECTED.removesuffix(".xlsx") not in page
    return parsed


def test_hostile_text_is_escaped_and_inert_in_every_place(evidence: tuple[Evidence, Path, Path]) -> None:
    e = evidence[0]
    without = _inert(render(e, generated_at=NOW), shown=ALWAYS)
    assert [value for value in WITH_TEXT if value in "".join(without.text)] == []
    with_text = _inert(render(e, include_text=True, generated_at=NOW), shown=ALWAYS + WITH_TEXT)
    # The charts label the team (a cohort) and the round (the trend's axis) with the same text, escaped.
    svg = "".join(with_text.svg_text)
    assert TEAM in svg and ROUND in svg
    # The findings keep their line break as text.
    assert FINDINGS["assessment_working_well"] in "".join(with_text.text)


def test_the_classification_cannot_leave_the_style_sheet(evidence: tuple[Evidence, Path, Path]) -> None:
    page = render(evidence[0], classification=CLASSIFICATION, include_text=True, generated_at=NOW)
    parsed = _inert(page, shown=[*ALWAYS, *WITH_TEXT, CLASSIFICATION])
    style = "".join(parsed.style)
    # In the style sheet as a CSS string (its "<", ">" and quotes as CSS escapes), twice: the page's header, footer.
    assert style.count(f"content: {css_string(CLASSIFICATION)}") == 2
    assert "</style" not in style and "<script" not in style
    # As text, escaped, in the banners and at the top and foot of the page.
    assert "".join(parsed.text).count(CLASSIFICATION) >= 4


def test_the_report_command_writes_it_escaped(evidence: tuple[Evidence, Path, Path], tmp_path: Path) -> None:
    _, folder, listing = evidence
    out = tmp_path / "report.html"
    result = runner.invoke(app, ["report", str(folder), "--out", str(out), "--master",
                                 str(folder.parent / "out" / "master.xlsx"), "--allocation", str(listing),
                                 "--specs", str(folder.parent / "specs"), "--include-text"])
    assert result.exit_code == 0, result.output
    _inert(out.read_text(encoding="utf-8"), shown=ALWAYS + WITH_TEXT)


def test_the_templates_escape_everything_and_a_missing_value_is_an_error() -> None:
    env = _template().environment
    assert env.from_string("<p>{{ s.text }}</p>").render(s=Span(IMG, "flag")) == (
        "<p>&#34;&gt;&lt;img src=x onerror=alert(1)&gt;</p>")
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("<p>{{ s.words }}</p>").render(s=Span("text", "flag"))
    with pytest.raises(jinja2.UndefinedError):
        env.get_template("report.html.j2").render()
