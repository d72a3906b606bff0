"""Moderation (issue 17): a moderation workbook made from a return, paired with its audit by collect, both kept; the
Moderation tab's agreement and weighted kappa; the round's figures counting the moderator's grades, the auditor's
still in the master."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from typer.testing import CliRunner

from auditbook.analysis.moderation import agreement, quadratic_weights, weighted_kappa
from auditbook.cli import app
from auditbook.collection.collect import collect, gather_folder
from auditbook.outputs.report import render
from auditbook.returns.audit import Audit
from auditbook.returns.feedback import feedback_notes
from auditbook.returns.provenance import SpecRegistry
from auditbook.returns.report import Report
from auditbook.returns.validate import validate_file
from auditbook.spec import Spec, load_spec, specs_dir
from auditbook.spec.layout import build_layout
from auditbook.spec.lint import lint
from auditbook.spec.moderation import MODERATION, moderation_spec
from auditbook.spec.roles import Role
from tests import returns
from tests.moderation import MODERATOR, audit_round, moderation_return, moderator_answers

SCALE = ("Outstanding", "Good", "Requires improvement", "Inadequate")
G, RI, INAD = "Good", "Requires improvement", "Inadequate"
#: The round's overall grades: the auditors', and the moderators' of the same ten audits. Worked out by hand: 7 of 10
#: the same (1, 3, 4, 5, 7, 9, 10), all 10 within one grade, moderators stricter on 2 (2: Good to RI; 8: RI to
#: Inadequate) and more lenient on 1 (6: RI to Good).
AUDITOR = [G, G, RI, RI, INAD, RI, G, RI, G, RI]
MODERATOR_GRADES = [G, RI, RI, RI, INAD, G, G, INAD, G, RI]
NOW = datetime(2026, 12, 5, 9, 0)
REGISTRY = SpecRegistry.of(returns.spec())


def by_hand_kappa(first: list[str], second: list[str]) -> float:
    """Quadratic weighted kappa worked out from the pairs themselves, as 1 - observed / chance-expected mean squared
    distance between the two grades (an algebraically equivalent form, written independently of the module's)."""
    a = [SCALE.index(g) for g in first]
    b = [SCALE.index(g) for g in second]
    n = len(a)
    observed = sum((x - y) ** 2 for x, y in zip(a, b, strict=True)) / n
    expected = sum((x - y) ** 2 for x in a for y in b) / n ** 2
    return 1 - observed / expected


# -- the statistic against published and independent values -----------------------------------------------------


def test_weighted_kappa_matches_sas_worked_example_with_fleiss_cohen_everitt_standard_error() -> None:
    # SAS/STAT PROC FREQ, AGREE option, the 3 x 3 agreement table [[0, 4, 1], [0, 8, 0], [0, 1, 5]] as printed in SAS's
    # output (recorded in statsmodels' test_inter_rater.py, "comparison to printout of a SAS example"): simple kappa
    # 0.4842, ASE 0.1380, 95% limits 0.2137 to 0.7547; weighted kappa (Cicchetti-Allison weights 1 - |i-j|/2) 0.4701,
    # ASE 0.1457, 95% limits 0.1845 to 0.7558. SAS's ASE is the Fleiss, Cohen and Everitt (1969) large-sample one.
    table = [[0, 4, 1], [0, 8, 0], [0, 1, 5]]
    simple = weighted_kappa(table, [[1.0 if i == j else 0.0 for j in range(3)] for i in range(3)])
    linear = weighted_kappa(table, [[1 - abs(i - j) / 2 for j in range(3)] for i in range(3)])
    assert simple is not None and linear is not None
    assert [round(x, 4) for x in (simple.value, simple.se, simple.low, simple.high)] == [0.4842, 0.1380, 0.2137,
                                                                                          0.7547]
    assert [round(x, 4) for x in (linear.value, linear.se, linear.low, linear.high)] == [0.4701, 0.1457, 0.1845,
                                                                                          0.7558]
    # The same table with quadratic weights: sklearn 1.9.1's cohen_kappa_score(weights="quadratic") gives
    # 0.45016077170418 (worked out when this test was written, outside the test run).
    quadratic = weighted_kappa(table)
    assert quadratic is not None and quadratic.value == pytest.approx(0.45016077170418, abs=1e-12)


def test_quadratic_kappa_matches_r_irr_on_its_anxiety_data() -> None:
    # R package irr (Gamer, Lemon, Fellows and Singh), its data set `anxiety`, raters 2 and 3:
    # kappa2(anxiety[, 2:3], "squared") = 0.2520325 (irr leaves out the grade neither rater used, as here).
    rater2 = [3, 6, 4, 6, 2, 4, 2, 4, 3, 3, 2, 3, 3, 3, 2, 2, 1, 3, 3, 4]
    rater3 = [2, 1, 4, 4, 3, 2, 1, 6, 1, 1, 1, 2, 3, 3, 1, 1, 3, 3, 2, 2]
    used = sorted(set(rater2) | set(rater3))
    table = [[0] * len(used) for _ in used]
    for x, y in zip(rater2, rater3, strict=True):
        table[used.index(x)][used.index(y)] += 1
    found = weighted_kappa(table)
    assert found is not None and round(found.value, 7) == 0.2520325


def test_kappa_is_not_defined_when_every_pair_has_one_grade() -> None:
    assert weighted_kappa([[0, 0], [0, 0]]) is None
    assert weighted_kappa([[5, 0], [0, 0]]) is None
    assert quadratic_weights(4)[0] == [1.0, 1 - 1 / 9, 1 - 4 / 9, 0.0]


def test_agreement_of_the_round_by_hand() -> None:
    found = agreement("overall", list(zip(AUDITOR, MODERATOR_GRADES, strict=True)), SCALE)
    assert (found.pairs, found.exact, found.within_one, found.stricter, found.lenient) == (10, 7, 10, 2, 1)
    assert found.kappa is not None
    assert found.kappa.value == pytest.approx(by_hand_kappa(AUDITOR, MODERATOR_GRADES), abs=1e-12)
    # sklearn 1.9.1: cohen_kappa_score(auditor, moderator, weights="quadratic", labels=[0, 1, 2, 3]) on these grades.
    assert found.kappa.value == pytest.approx(0.6938775510204083, abs=1e-12)
    assert found.words().startswith("moderators agreed with 7 of 10 overall grades; 2 were graded lower (moderator "
                                    "stricter) and 1 was graded higher (moderator more lenient); weighted kappa 0.69")


# -- a round of ten audits and ten moderations ----------------------------------------------------------------------


class Round:
    """Ten audits with known overall grades, each moderated, collected together."""

    def __init__(self, folder: Path, out: Path) -> None:
        self.folder, self.out = folder, out
        self.audits = audit_round(folder, AUDITOR)
        for i, audit in enumerate(self.audits):
            answers = moderator_answers(returns.spec(), audit, MODERATOR_GRADES[i])
            moderation_return(folder / "moderations" / f"moderation-{i + 1:02d}.xlsx", audit, answers)
        self.result = collect(folder, out=out / "master.xlsx", ledger_path=out / "ledger.sqlite3", registry=REGISTRY,
                              now=NOW)
        self.master = out / "master.xlsx"


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Round:
    folder = tmp_path_factory.mktemp("round")
    (folder / "moderations").mkdir()
    return Round(folder, tmp_path_factory.mktemp("out"))


def rows_of(ws: Any) -> list[list[Any]]:
    return [[c.value for c in row] for row in ws.iter_rows()]


def test_a_moderation_return_validates_as_a_moderation_of_its_audit(made: Round) -> None:
    report = validate_file(made.folder / "moderations" / "moderation-02.xlsx", registry=REGISTRY)
    assert report.valid, [p.render() for p in report.errors]
    assert report.audit is not None and report.audit.provenance.kind == MODERATION
    assert report.audit.provenance.audit_instance_id == made.audits[1].provenance.instance_id
    assert report.audit.case_ref == made.audits[1].case_ref


def test_collect_pairs_every_moderation_and_keeps_both(made: Round) -> None:
    collation = made.result.evidence.collation if made.result.evidence else None
    assert collation is not None
    assert [(n.file, n.status) for n in collation.not_merged] == []
    assert len(collation.merged) == 10
    assert sorted(p.audit.case_ref for p in collation.moderations) == sorted(a.case_ref for a in made.audits)
    # The audit is never superseded by its moderation: each merged audit is the auditor's file.
    assert sorted(m.file for m in collation.merged) == [f"audit-{i:02d}.xlsx" for i in range(1, 11)]
    # The counts add up: 20 files, 10 audits and 10 moderations of them.
    assert made.result.summary_line() == ("20 files: 0 unchanged since last run, 20 read; master holds 10 audits and "
                                          "10 moderations of them; 0 rejected; 0 duplicate; 0 superseded")
    assert len(made.result.moderations) == 10


def test_moderation_tab_agreement_and_kappa(made: Round) -> None:
    wb = openpyxl.load_workbook(made.master)
    ws = wb["Moderation"]
    rows = rows_of(ws)
    assert rows[0][0].endswith("10 of 10 audits moderated")
    header = rows[4]
    assert header[:6] == ["Grade", "Pairs", "Agreed exactly", "% agreed", "Within one grade", "% within one grade"]
    overall = dict(zip(header, rows[5], strict=True))
    expected = by_hand_kappa(AUDITOR, MODERATOR_GRADES)
    assert (overall["Grade"], overall["Pairs"], overall["Agreed exactly"], overall["Within one grade"],
            overall["Moderator stricter"], overall["Moderator more lenient"]) == ("Overall grade", 10, 7, 10, 2, 1)
    assert overall["% agreed"] == pytest.approx(0.7)
    assert overall["Weighted kappa"] == f"{expected:.2f}" == "0.69"
    assert overall["In words"].startswith("moderators agreed with 7 of 10 overall grades")
    # Sections: moderators gave each section the auditor's grade, so every section agrees in full.
    sections = [dict(zip(header, r, strict=True)) for r in rows[6:] if r[0] and r[1]]
    assert sections and all(s["Agreed exactly"] == s["Pairs"] for s in sections)


def test_the_original_grades_stay_in_the_master_and_the_figures_use_the_moderated(made: Round) -> None:
    wb = openpyxl.load_workbook(made.master)
    graded = rows_of(wb["Moderated grades"])
    head = graded[0]
    overall_rows = sorted((r[head.index("Case reference")], r[head.index("Auditor's grade")],
                           r[head.index("Moderator's grade")], r[head.index("Agreed")])
                          for r in graded[1:] if r[head.index("Grade")] == "Overall grade")
    cases = [a.case_ref for a in made.audits]
    assert overall_rows == sorted((c, a, m, "Yes" if a == m else "No")
                                  for c, a, m in zip(cases, AUDITOR, MODERATOR_GRADES, strict=True))
    # The Answers tab keeps every audit's own overall grade as returned.
    answers = rows_of(wb["Answers"])
    ahead = answers[0]
    label = returns.layout().role_input(Role.OVERALL_GRADE)
    assert label is not None
    own = [r[ahead.index("Answer")] for r in answers[1:] if r[ahead.index("Question")] == label.label]
    assert sorted(own) == sorted(AUDITOR)
    # The Audits tab (and every figure of the round) counts the moderator's grade.
    audits = rows_of(wb["Audits"])
    column = audits[0].index("Overall grade")
    assert sorted(r[column] for r in audits[1:]) == sorted(MODERATOR_GRADES)
    summary = {r[0]: r[1] for r in rows_of(wb["Summary"]) if r and r[0]}
    assert summary["Audits moderated: their figures count the moderator's grades (see Moderation)"] == 10


def test_a_moderation_whose_case_was_changed_is_not_paired(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    path = returns.valid_return(folder / "audit.xlsx")
    audit = validate_file(path, registry=REGISTRY).audit
    assert audit is not None
    answers = moderator_answers(returns.spec(), audit, G)
    case = returns.layout().role_input(Role.CASE_REF)
    assert case is not None
    moderation_return(folder / "moderation.xlsx", audit, {**answers, case.name: "SYN-9999"})
    result = collect(folder, out=tmp_path / "master.xlsx", ledger_path=tmp_path / "ledger.sqlite3",
                     registry=REGISTRY, now=NOW)
    assert result.evidence is not None
    c = result.evidence.collation
    assert [m.file for m in c.merged] == ["audit.xlsx"] and c.moderations == []
    [note] = c.not_merged
    assert (note.file, note.status, note.moderation) == ("moderation.xlsx", "rejected", True)
    layout = REGISTRY.layout_of(returns.spec(), MODERATION)
    inp = layout.role_input(Role.CASE_REF)
    assert inp is not None
    assert [(p.sheet, p.cell, p.code) for p in note.problems] == [(inp.sheet, inp.cell, "moderation-mismatch")]
    assert 'says case reference "SYN-9999"' in note.problems[0].message


def test_a_moderation_without_its_audit_waits_unpaired(tmp_path: Path) -> None:
    path = returns.valid_return(tmp_path / "audit.xlsx")
    audit = validate_file(path, registry=REGISTRY).audit
    assert audit is not None
    folder = tmp_path / "in"
    folder.mkdir()
    moderation_return(folder / "moderation.xlsx", audit, moderator_answers(returns.spec(), audit, G))
    result = collect(folder, out=tmp_path / "master.xlsx", ledger_path=tmp_path / "ledger.sqlite3",
                     registry=REGISTRY, now=NOW)
    assert result.evidence is not None
    [note] = result.evidence.collation.not_merged
    assert (note.status, [p.code for p in note.problems]) == ("unpaired", ["moderation-no-audit"])
    assert result.summary_line().endswith("master holds 0 audits; 0 rejected; 0 duplicate; 0 superseded; "
                                          "1 moderation waiting for its audit")


def _unreasoned(tmp_path: Path) -> tuple[Audit, Report]:
    """A valid audit, and the report on its moderation whose moderator disagrees with the overall grade and gives
    no reason."""
    path = returns.valid_return(tmp_path / "audit.xlsx")
    audit = validate_file(path, registry=REGISTRY).audit
    assert audit is not None
    answers = moderator_answers(returns.spec(), audit, INAD if audit.text(Role.OVERALL_GRADE) != INAD else G)
    answers.pop("moderation_moderation_reason")
    return audit, validate_file(moderation_return(tmp_path / "m.xlsx", audit, answers), registry=REGISTRY)


def test_disagreeing_without_a_reason_is_an_error_on_the_reason(tmp_path: Path) -> None:
    _, report = _unreasoned(tmp_path)
    layout = REGISTRY.layout_of(returns.spec(), MODERATION)
    reason = layout.by_name["moderation_moderation_reason"]
    assert [(p.cell, p.rule) for p in report.errors] == [(reason.cell, "moderation_reason_overall")]


def test_the_moderation_spec_locks_the_audit_and_adds_the_moderators_inputs() -> None:
    spec = returns.spec()
    made = moderation_spec(spec)
    assert made.sections[-1].sheet == "Moderation" and made.rules and all(
        r.id.startswith("moderation_") for r in made.rules)
    assert [f.id for f in made.judgement_fields][-3:] == ["moderation_grade", "moderation_agree", "moderation_reason"]
    # A spec's hash leaves the default moderation block out: the bundled specs' returns keep their hashes.
    assert "moderation" not in spec.model_dump(exclude_defaults=True)
    assert MODERATOR == "Example Moderator"


def test_moderations_read_back_from_the_ledger_pair_as_when_read(made: Round) -> None:
    # Nothing changed: every return is taken from the ledger, moderations read back with the moderation's layout.
    evidence = gather_folder(made.folder, ledger_path=made.out / "ledger.sqlite3", registry=REGISTRY, now=NOW)
    again = evidence.collation
    first = made.result.evidence.collation if made.result.evidence else None
    assert first is not None
    assert [(p.file, p.audit_file, p.judgements) for p in again.moderations] == [
        (p.file, p.audit_file, p.judgements) for p in first.moderations]
    assert sorted(str(m.audit.text(Role.OVERALL_GRADE)) for m in again.merged) == sorted(MODERATOR_GRADES)


def test_generate_moderate_writes_the_moderation_of_a_valid_return_only(made: Round, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["generate", "--moderate", str(made.folder / "audit-01.xlsx"),
                                      "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    written = Path(result.stdout.strip())
    assert written.parent == tmp_path and written.name.startswith("moderation_")
    report = validate_file(written, registry=REGISTRY)
    assert report.audit is not None and report.audit.provenance.audit_instance_id == \
        made.audits[0].provenance.instance_id
    # The moderator has not started: only their inputs are missing.
    assert {str(p.field).split(".")[1] for p in report.errors} == {"moderation_grade", "moderation_agree", "moderator",
                                                                   "moderated_on"}
    again = CliRunner().invoke(app, ["generate", "--moderate", str(made.folder / "audit-01.xlsx"),
                                     "--out", str(tmp_path)])
    assert again.exit_code == 1 and "already exists" in again.output
    bad = returns.valid_return(tmp_path / "bad.xlsx", changes={"assessment_grade": None})
    refused = CliRunner().invoke(app, ["generate", "--moderate", str(bad), "--out", str(tmp_path / "x")])
    assert refused.exit_code == 1
    assert "bad.xlsx is not a valid return" in refused.output and "Only a valid audit can be moderated" in \
        refused.output
    moderation = CliRunner().invoke(app, ["generate", "--moderate", str(written), "--out", str(tmp_path / "y")])
    assert moderation.exit_code == 1 and "is a moderation already" in moderation.output


@pytest.mark.parametrize("name", ["deep_dive.yaml", "deep_dive-2.0.0.yaml", "supervision_audit.yaml"])
def test_every_bundled_spec_makes_a_moderation_spec_that_lints_clean(name: str) -> None:
    spec = load_spec(specs_dir() / name)
    made = moderation_spec(spec)
    assert lint(made) == []
    layout = build_layout(made)
    assert layout.section("moderation").sheet == "Moderation"
    # Every judged section carries the moderator's three inputs.
    judged = [s.id for s in spec.sections if s.kind == "judged"]
    assert all(f"{sid}_moderation_agree" in layout.by_name for sid in judged)


def test_a_spec_whose_audits_are_not_moderated_says_so() -> None:
    spec = returns.spec()
    plain = Spec.model_validate({**{k: getattr(spec, k) for k in Spec.model_fields}, "moderation": None})
    with pytest.raises(ValueError, match="not moderated"):
        moderation_spec(plain)
    assert lint(plain) == []


def test_a_moderations_feedback_goes_to_the_moderator(tmp_path: Path) -> None:
    audit, report = _unreasoned(tmp_path)
    [note] = feedback_notes([report], registry=REGISTRY, checked=NOW.date())
    assert MODERATOR in note.text and audit.text(Role.AUDITOR) not in note.text


def test_a_moderation_whose_kind_was_altered_is_refused(tmp_path: Path) -> None:
    path = returns.valid_return(tmp_path / "audit.xlsx")
    audit = validate_file(path, registry=REGISTRY).audit
    assert audit is not None
    made = moderation_return(tmp_path / "m.xlsx", audit, moderator_answers(returns.spec(), audit, G))
    # One carrier changed: two still agree, so it is still a moderation.
    returns.tamper(made, {"document properties": "audit"}, key="kind")
    assert validate_file(made, registry=REGISTRY).audit is not None
    # Two changed, each differently: no two carriers agree on what it is.
    returns.tamper(made, {"metadata sheet": "something else"}, key="kind")
    report = validate_file(made, registry=REGISTRY)
    assert [(p.code, p.sheet) for p in report.errors] == [("provenance-conflict", "Metadata")]
    assert report.audit is None


def test_the_round_report_says_its_figures_count_the_moderated_grades(made: Round) -> None:
    assert made.result.evidence is not None
    page = render(made.result.evidence, generated_at=NOW)
    intro = page[page.index('<p class="note">Round report'):]
    intro = intro[:intro.index("</p>")]
    assert intro.endswith("counts only. 10 of the audits were moderated: the figures count the moderator's grades "
                          "for them (the master's Moderation tab has the auditors' and the agreement)."), intro
