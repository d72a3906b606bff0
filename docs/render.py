"""Make the README's pictures of the workbook: a synthetic return filled in LibreOffice, printed by it to PDF,
three pages of it (the Summary's two and section 1b) turned into small PNGs with pdftoppm.

    .venv/bin/python docs/render.py

Needs what the printing tests need: LibreOffice with Python UNO, poppler-utils, the Liberation fonts.
Everything in it is synthetic.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.lo.driver import fill, pdf_text, to_pdf  # noqa: E402

from auditbook.spec import default_spec_path, load_spec  # noqa: E402
from auditbook.spec.layout import build_layout  # noqa: E402
from auditbook.spec.roles import Role  # noqa: E402
from auditbook.workbook.synthetic import synthetic_answers  # noqa: E402
from auditbook.workbook.writer import build_workbook  # noqa: E402

EVIDENCE = (
    "Single assessment completed within timescales and updated after the strategy discussion. It draws on the "
    "chronology and on the views of school, health visitor and the child, seen alone at school. Risks from "
    "parental substance misuse are analysed, with protective factors weighed; the plan follows from them."
)


def main() -> None:
    spec = load_spec(default_spec_path())
    layout = build_layout(spec)
    answers: dict[str, object] = dict(synthetic_answers(layout, seed=3, scenario="child_protection", index=42,
                                                        actions=3))
    assessment = layout.section("assessment")
    for inp in assessment.inputs:
        if inp.field.endswith("_evidence"):
            answers[inp.name] = EVIDENCE
    well = layout.section_input(assessment, Role.WORKING_WELL)
    if well is not None:
        answers[well.name] = EVIDENCE + " " + EVIDENCE
    actions = layout.actions
    responsible = layout.action_column(Role.ACTION_RESPONSIBLE)
    timescale, completed = layout.action_column(Role.ACTION_TIMESCALE), layout.role_input(Role.COMPLETED)
    if actions is not None and responsible is not None:
        second = next(i for i in actions.inputs if i.row_index == 2 and i.field == responsible)
        answers[second.name] = None  # blank: the Summary names the team manager
    if actions is not None and timescale is not None and completed is not None:
        # One slip for the Summary's checks to show: the third action due the day before the audit was completed.
        third = next(i for i in actions.inputs if i.row_index == 3 and i.field == timescale)
        done = answers[completed.name]
        assert isinstance(done, date)
        answers[third.name] = done - timedelta(days=1)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        blank = build_workbook(spec, out=work / "blank.xlsx")
        fill(blank, work / "filled.xlsx", answers)
        pdf = to_pdf(work / "filled.xlsx", work / "printed.pdf")
        pages = pdf_text(pdf).split("\f")
        summary = next(i for i, p in enumerate(pages, start=1) if "Summary: " in p)
        section = next(i for i, p in enumerate(pages, start=1) if assessment.section.title in p.split("\n")[:4])
        for page, name in ((summary, "workbook-summary"), (summary + 1, "workbook-summary-2"),
                           (section, "workbook-section")):
            subprocess.run(["pdftoppm", "-r", "55", "-f", str(page), "-l", str(page), "-png", "-singlefile",
                            str(pdf), str(ROOT / "docs" / name)], check=True)
            print(ROOT / "docs" / f"{name}.png")


if __name__ == "__main__":
    main()
