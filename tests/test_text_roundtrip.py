"""Any text an auditor can type into a text input comes back unchanged: writer -> file -> reader -> audit."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditbook.returns.provenance import SpecRegistry
from auditbook.returns.validate import validate_file
from auditbook.spec import Spec
from tests.returns import make_return, profile_only_spec, spec, valid_return, where

# What a cell can hold: the characters XML 1.0 allows (no surrogates, no control characters but tab,
# line feed and carriage return, not U+FFFE/U+FFFF).
TYPABLE = st.characters(exclude_categories=("Cs", "Cc"), include_characters="\t\n\r",
                        exclude_characters="\ufffe\uffff")
# Excel stores a character XML cannot carry as _xHHHH_, and so escapes typed text that already looks like
# that (_x0041_ is saved as _x005F_x0041_). Text of that shape is left out here; see the examples below.
EXCEL_ESCAPE = re.compile(r"_x[0-9A-Fa-f]{4}_")


def typable_text(max_size: int) -> st.SearchStrategy[str]:
    """Text an auditor can type: not blank (a blank cell is an empty answer) and no _xHHHH_ look-alikes."""
    return st.text(TYPABLE, min_size=1, max_size=max_size).filter(
        lambda s: bool(s.strip()) and not EXCEL_ESCAPE.search(s))


class Small:
    """The bundled spec cut to its case profile (the same inputs, a tenth of the build time), and where to build."""

    def __init__(self, folder: Path, spec: Spec) -> None:
        self.folder = folder
        self.spec = spec
        self.registry = SpecRegistry.of(spec)
        layout = self.registry.layout(spec)
        self.cells = {where(n, layout) for n in ("profile_story", "profile_worker")}

    def __repr__(self) -> str:
        # Hypothesis prints the arguments of a failing example; the whole spec would bury them.
        return f"Small({self.spec.id!r})"


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Small:
    return Small(tmp_path_factory.mktemp("text"), profile_only_spec())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(story=typable_text(500), worker=typable_text(120))
def test_typed_text_comes_back_unchanged(small: Small, story: str, worker: str) -> None:
    path = make_return(small.folder / "return.xlsx", {"profile_story": story, "profile_worker": worker}, of=small.spec)
    report = validate_file(path, registry=small.registry)
    assert report.audit is not None, report.problems
    assert (report.audit.answer("profile", "story"), report.audit.answer("profile", "worker")) == (story, worker)
    # The other inputs are empty (required-missing), but nothing may be wrong with these two.
    assert [p for p in report.problems if (p.sheet, p.cell) in small.cells] == []


@pytest.mark.parametrize("text", [
    "Line one\nLine two",
    "Pasted from Windows\r\nwith a carriage return",
    "  leading and trailing spaces  ",
    "\tindented",
    "=SUM(A1:A3) typed as text",
    "<!DOCTYPE x><b>not markup</b> & ]]>",
    '"quoted" and \'apostrophes\'',
    "Zoë, Łukasz, 李雷, عائشة, 😀",
    "_x0041_ typed literally",
    "x" * 4000,
], ids=["newline", "crlf", "spaces", "tab", "formula-like", "markup", "quotes", "unicode", "escape-lookalike",
        "at-max-length"])
def test_hard_texts_come_back_unchanged_in_the_full_workbook(tmp_path: Path, text: str) -> None:
    path = valid_return(tmp_path / "r.xlsx", changes={"profile_story": text, "profile_worker": text[:200]})
    report = validate_file(path, registry=SpecRegistry.of(spec()))
    assert report.problems == []
    assert report.audit is not None
    assert (report.audit.answer("profile", "story"), report.audit.answer("profile", "worker")) == (text, text[:200])
