"""Shared plumbing: problem codes typed as the catalogue's Code, and the per-user ledger key made safely."""

from __future__ import annotations

import os
import typing
from pathlib import Path

import pytest

from auditbook import userdata
from auditbook.errors import UnreadableFileError
from auditbook.problems import Code, Problem
from auditbook.returns.coerce import Bad


@pytest.mark.parametrize("holder", [Problem, Bad])
def test_problem_codes_are_typed_as_the_catalogue(holder: type) -> None:
    assert typing.get_type_hints(holder)["code"] is Code
    assert typing.get_type_hints(UnreadableFileError.__init__)["code"] is Code


def test_a_stored_problem_reads_back_with_its_code() -> None:
    problem = Problem("warning", Code.LATE, "completed after the due date.", "Case profile", "C27")
    again = Problem.from_dict(problem.as_dict())
    assert (again, type(again.code)) == (problem, Code)


def test_the_ledger_key_is_made_once_and_kept(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(userdata.ENV, str(tmp_path))
    key = userdata.ledger_key()
    assert len(key) == userdata.KEY_BYTES
    assert userdata.ledger_key() == key == (tmp_path / "ledger.key").read_bytes()
    if os.name == "posix":
        assert (tmp_path / "ledger.key").stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ledger.key"]


def test_a_key_being_written_is_never_lost(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Another process asks for the key while this one is writing it: both end up with the one in place (before,
    the other deleted the half-written file and made its own, and this one kept a key no file held)."""
    monkeypatch.setenv(userdata.ENV, str(tmp_path))
    real = os.fdopen
    meanwhile: list[bytes] = []

    def fdopen(fd: int, *args: typing.Any, **kwargs: typing.Any) -> typing.Any:
        if not meanwhile:
            meanwhile.append(b"")
            meanwhile[0] = userdata.ledger_key()  # the other process, while this one's key is not yet written
        return real(fd, *args, **kwargs)

    monkeypatch.setattr(os, "fdopen", fdopen)
    mine = userdata.ledger_key()
    assert mine == meanwhile[0] == (tmp_path / "ledger.key").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ledger.key"]


def test_a_short_key_left_by_a_crash_is_replaced(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(userdata.ENV, str(tmp_path))
    (tmp_path / "ledger.key").write_bytes(b"short")
    key = userdata.ledger_key()
    assert len(key) == userdata.KEY_BYTES and (tmp_path / "ledger.key").read_bytes() == key
