"""Local settings (auditbook.toml): the example loads, bad files are refused with the line and key, and the
settings change the Start sheet, the round an audit is in (generate, allocate, collect) and the threshold.

Everything here is synthetic: authorities are "Example ...", people are roles.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner, Result

from auditbook.cli import app
from auditbook.collection.collect import Options, collect
from auditbook.local import LocalDetails, Round, RoundCalendar
from auditbook.returns.provenance import SpecRegistry
from auditbook.settings import (
    DEFAULTS,
    SettingsError,
    example_settings,
    find_settings,
    load_settings,
    parse_share,
)
from auditbook.spec import Spec
from auditbook.spec.layout import Layout
from auditbook.spec.roles import Role
from auditbook.workbook.synthetic import synthetic_answers
from auditbook.workbook.writer import build_workbook

EXAMPLE = Path(__file__).parents[1] / "src" / "auditbook" / "auditbook.example.toml"
CALENDAR = RoundCalendar((Round("round 1", (4, 5, 6, 7)), Round("round 2", (8, 9, 10, 11)),
                          Round("round 3", (12, 1, 2, 3))), naming="{year} {round}")


def invoke(*args: object) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args])


def write(folder: Path, text: str, name: str = "auditbook.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# -- the file --------------------------------------------------------------------------------------


def test_the_example_is_the_one_shipped_and_loads_into_plain_values(tmp_path: Path) -> None:
    assert EXAMPLE.read_text(encoding="utf-8") == example_settings()
    loaded = load_settings(write(tmp_path, example_settings()))
    assert loaded.local == LocalDetails(
        authority="Example Borough Council, Children's Services",
        send_to=("The team manager for the case, with your feedback and the agreed actions",
                 "The Quality Assurance team, for the Self-Assessment Group (deep-dive-returns@example.invalid)"),
        save_to=r"\\example-server\children\quality-assurance\deep-dive\returns",
        rounds=CALENDAR,
    )
    assert loaded.threshold == pytest.approx(0.3)


@pytest.mark.parametrize(("month", "expected"), [
    ("2026-04", "2026 round 1"), ("2026-07", "2026 round 1"), ("2026-11", "2026 round 2"),
    ("2026-12", "2026 round 3"), ("2027-02", "2026 round 3"), ("2027-03", "2026 round 3"), ("2027-04", "2027 round 1"),
])
def test_the_round_follows_from_the_audit_month_and_a_round_keeps_the_year_it_starts_in(month: str,
                                                                                         expected: str) -> None:
    assert CALENDAR.round_of(month) == expected


def test_a_month_in_no_round_has_none_and_no_calendar_names_nothing() -> None:
    assert RoundCalendar((Round("spring", (3, 4)),)).round_of("2026-11") is None
    assert DEFAULTS.calendar.round_of("2026-11") is None
    assert RoundCalendar((Round("Q4", (10, 11, 12)),), naming="{round} {year}").round_of("2026-11") == "Q4 2026"


@pytest.mark.parametrize(("given", "share"), [(30, 0.3), ("30", 0.3), ("30%", 0.3), (" 30 % ", 0.3), (0.3, 0.3),
                                             ("0.3", 0.3), ("12.5%", 0.125), (100, 1.0), ("1", 1.0)])
def test_a_share_is_read_from_a_percentage_or_a_fraction(given: object, share: float) -> None:
    assert parse_share(given) == pytest.approx(share)


@pytest.mark.parametrize("given", ["abc", "0", "0%", "-5", "101%", "300", ""])
def test_a_share_that_is_no_percentage_is_refused_saying_how_to_write_it(given: str) -> None:
    with pytest.raises(ValueError, match="30"):
        parse_share(given)


#: One defect each: (what to replace in the example, by what, the line and key the message must name).
DEFECTS = [
    ('"February"', '"Febuary"',
     r"line 27, column 3: rounds\.calendar\[2\]\.months: \"Febuary\" is not a month\. Write its name"),
    ('"May", "June"', '"June", "May"', r"line 25, column 3: rounds\.calendar\[0\]: .*must follow each other"),
    ('"August", "September"', '"July", "August", "September"',
     r"line 20, column 1: rounds: July is in both round 1 and round 2"),
    ('naming = "{year} {round}"', 'naming = "{year}"', r"line 23, column 1: rounds\.naming: .*\{round\}"),
    ('recurring_threshold = "30%"', 'recurring_threshold = "300%"',
     r"line 34, column 1: themes\.recurring_threshold: \"300%\" is not a share of audits"),
    ("[themes]", "[themes]\ncolour = \"red\"", r"line 31, column 1: themes\.colour: unknown setting \"colour\"\. "
                                               r"The keys here are recurring_threshold"),
    ("[authority]", "[authorty]", r"line 7, column 1: authorty: unknown setting \"authorty\"\. Did you mean "
                                  r"\"authority\"\? The keys here are authority, returns, rounds, themes"),
    ("save_to = '", "save_to = ", r"not valid TOML: .*\(at line 18"),
]


@pytest.mark.parametrize(("old", "new", "message"), DEFECTS, ids=[d[2][:30] for d in DEFECTS])
def test_a_bad_settings_file_is_refused_naming_the_file_line_and_key(tmp_path: Path, old: str, new: str,
                                                                     message: str) -> None:
    text = example_settings()
    assert old in text
    path = write(tmp_path, text.replace(old, new, 1))
    with pytest.raises(SettingsError, match=message) as refused:
        load_settings(path)
    assert str(refused.value).startswith(str(path))


def test_the_settings_problems_are_data_with_their_code_key_and_place(tmp_path: Path) -> None:
    path = write(tmp_path, example_settings().replace('"February"', '"Febuary"').replace("[authority]", "[authorty]"))
    with pytest.raises(SettingsError) as refused:
        load_settings(path)
    assert str(refused.value).splitlines()[0] == f"{path}: the settings are not valid (2 problems):"
    assert [(p.code, p.key.text, p.line, p.column, p.fix) for p in refused.value.problems] == [
        ("settings-not-a-month", "rounds.calendar[2].months", 27, 3, "Write its name (February) or its number (2)."),
        ("settings-unknown-key", "authorty", 7, 1, "The keys here are authority, returns, rounds, themes."),
    ]


def test_settings_are_found_in_the_working_folder_or_given(tmp_path: Path) -> None:
    assert find_settings(None, folder=tmp_path) is None
    here = write(tmp_path, "")
    assert find_settings(None, folder=tmp_path) == here
    other = write(tmp_path, "", "other.toml")
    assert find_settings(other, folder=tmp_path) == other
    with pytest.raises(SettingsError, match="no such settings file"):
        find_settings(tmp_path / "missing.toml")
    assert load_settings(here) == DEFAULTS


# -- what they change ------------------------------------------------------------------------------


def test_generate_shows_the_authority_on_the_start_sheet_and_derives_the_round(tmp_path: Path,
                                                                               monkeypatch: pytest.MonkeyPatch,
                                                                               layout: Layout) -> None:
    write(tmp_path, example_settings())
    monkeypatch.chdir(tmp_path)
    result = invoke("generate", "--case-ref", "SYN-0301", "--team", "Team Alpha", "--auditor", "Example Auditor",
                    "--month", "2027-02", "--out", "out.xlsx")
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(tmp_path / "out.xlsx")
    start = [str(c.value) for c in book["Start"]["B"] if c.value]
    assert start[0].startswith("Example Borough Council, Children's Services. This workbook")
    assert "The Quality Assurance team, for the Self-Assessment Group (deep-dive-returns@example.invalid)" in start
    assert r"\\example-server\children\quality-assurance\deep-dive\returns" in start
    assert "round 3: December, January, February, March" in start
    round_input = layout.role_input(Role.ROUND)
    assert round_input is not None
    assert book[round_input.sheet][round_input.cell].value == "2026 round 3"


def test_without_settings_the_start_sheet_keeps_the_spec_wording(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 spec: Spec) -> None:
    monkeypatch.chdir(tmp_path)
    assert invoke("generate", "--month", "2027-02", "--out", "out.xlsx").exit_code == 0
    start = [str(c.value) for c in openpyxl.load_workbook(tmp_path / "out.xlsx")["Start"]["B"] if c.value]
    assert start[0].startswith(f"{spec.organisation}. This workbook")
    assert " ".join(spec.send_to.split()) in start


def test_a_bad_settings_file_stops_generate_with_its_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, example_settings().replace('"March"', '"Marhc"'))
    monkeypatch.chdir(tmp_path)
    result = invoke("generate", "--out", "out.xlsx")
    assert result.exit_code == 2
    assert "line 27, column 3: rounds.calendar[2].months: \"Marhc\" is not a month" in result.stderr
    assert not (tmp_path / "out.xlsx").exists()


def test_the_settings_command_says_what_it_read_and_from_where(tmp_path: Path) -> None:
    path = write(tmp_path, example_settings(), "local.toml")
    result = invoke("settings", "--settings", path)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:2] == [f"Settings: {path}",
                                              "  Authority: Example Borough Council, Children's Services"]
    assert "  Recurring theme threshold: 30%" in result.stdout
    assert invoke("settings", "--example").stdout == example_settings()


def _returns_without_rounds(spec: Spec, layout: Layout, folder: Path) -> None:
    round_input = layout.role_input(Role.ROUND)
    assert round_input is not None
    for i, month in enumerate(("2026-05", "2026-11", "2027-02"), start=1):
        answers = synthetic_answers(layout, seed=i, index=300 + i, month=month)
        answers.pop(round_input.name, None)
        build_workbook(spec, out=folder / f"SYN-{300 + i}.xlsx", prefill=answers)


def test_collect_puts_a_return_without_a_round_in_the_calendar_round(tmp_path: Path, spec: Spec,
                                                                     layout: Layout) -> None:
    folder = tmp_path / "returns"
    folder.mkdir()
    _returns_without_rounds(spec, layout, folder)
    registry = SpecRegistry.of(spec)
    plain = collect(folder, out=tmp_path / "a.xlsx", registry=registry)
    assert sorted(m["round"] for m in plain.merged) == ["2026-05", "2026-11", "2027-02"]
    derived = collect(folder, out=tmp_path / "b.xlsx", registry=registry, rounds=CALENDAR)
    assert sorted(m["round"] for m in derived.merged) == ["2026 round 1", "2026 round 2", "2026 round 3"]
    only = collect(folder, out=tmp_path / "c.xlsx", registry=registry, rounds=CALENDAR, round_name="2026 round 3")
    assert [m["case_ref"] for m in only.merged] == ["SYN-0303"]


def test_collect_takes_the_threshold_from_the_settings_unless_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                    spec: Spec, layout: Layout) -> None:
    from auditbook.cli import collecting as cli

    folder = tmp_path / "returns"
    folder.mkdir()
    _returns_without_rounds(spec, layout, folder)
    seen: list[tuple[float, RoundCalendar | None]] = []
    real = cli.run_collect

    def spy(folder: Path, opts: Options, **kw: object) -> object:
        seen.append((opts.threshold, opts.rounds))
        return real(folder, opts, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(cli, "run_collect", spy)
    write(tmp_path, example_settings().replace('"30%"', "45"))
    monkeypatch.chdir(tmp_path)
    assert invoke("collect", folder, "--out", tmp_path / "m.xlsx").exit_code == 0
    assert invoke("collect", folder, "--out", tmp_path / "m.xlsx", "--threshold", "20%").exit_code == 0
    assert [(round(t, 2), r) for t, r in seen] == [(0.45, CALENDAR), (0.2, CALENDAR)]
