"""Specs found valid are kept in the collator's data folder and read back the same, never when their file changed."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from auditbook.spec.load import KEPT_DAYS, SPEC_CACHE, known_specs, load_spec, specs_dir
from auditbook.userdata import ENV


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data folder of this test's own, empty."""
    folder = tmp_path / "data"
    monkeypatch.setenv(ENV, str(folder))
    return folder


def _kept(data: Path) -> list[Path]:
    return sorted((data / SPEC_CACHE).glob("*.json"))


def test_a_kept_spec_is_read_back_the_same_as_loaded(data: Path) -> None:
    loaded = {s.sha256: s for s in (load_spec(p) for p in sorted(specs_dir().glob("*.yaml")))}
    first = known_specs()
    assert len(_kept(data)) == len(loaded)
    again = known_specs()
    assert sorted(again) == sorted(first) == sorted(loaded)
    for sha, spec in again.items():
        assert spec == loaded[sha]
        assert spec.model_dump() == loaded[sha].model_dump()
        assert spec.lists == loaded[sha].lists


def test_a_changed_spec_file_is_loaded_afresh(data: Path, tmp_path: Path) -> None:
    extra = tmp_path / "specs"
    extra.mkdir()
    shutil.copy(specs_dir() / "supervision_audit.yaml", extra / "mine.yaml")
    before = known_specs((extra,))
    text = (extra / "mine.yaml").read_text(encoding="utf-8")
    (extra / "mine.yaml").write_text(text.replace('version: "1.1.0"', 'version: "1.2.0"'), encoding="utf-8")
    after = known_specs((extra,))
    assert [s.version for s in after.values() if s.id == "supervision_audit"] == ["1.1.0", "1.2.0"]
    assert set(after) - set(before) == {load_spec(extra / "mine.yaml").sha256}


@pytest.mark.parametrize("damage", ["not json", "sha", "spec"])
def test_a_damaged_kept_spec_is_loaded_afresh_and_kept_again(data: Path, damage: str) -> None:
    first = known_specs()
    for path in _kept(data):
        stored = json.loads(path.read_text(encoding="utf-8"))
        if damage == "not json":
            path.write_text("{", encoding="utf-8")
            continue
        if damage == "sha":
            stored["sha256"] = "0" * 64
        else:
            stored["spec"]["title"] = "Altered"  # still valid, but not the spec that was kept
        path.write_text(json.dumps(stored), encoding="utf-8")
    again = known_specs()
    assert again == first
    assert all(s.title != "Altered" for s in again.values())
    assert all(json.loads(p.read_text(encoding="utf-8"))["sha256"] in first for p in _kept(data))


def test_an_invalid_spec_is_never_kept(data: Path, tmp_path: Path) -> None:
    extra = tmp_path / "bad.yaml"
    extra.write_text("id: bad\n", encoding="utf-8")
    found = known_specs((extra,))
    assert all(s.id != "bad" for s in found.values())
    assert len(_kept(data)) == len(list(specs_dir().glob("*.yaml")))


def test_kept_specs_not_written_for_a_month_go_when_a_spec_is_kept(data: Path, tmp_path: Path) -> None:
    known_specs()
    folder = data / SPEC_CACHE
    # What an older auditbook or an edited spec kept: never read again, as its name says the code and the file.
    stale, recent = folder / f"{'a' * 64}.json", folder / f"{'b' * 64}.json"
    for path in (stale, recent):
        path.write_text("{}", encoding="utf-8")
    old = time.time() - (KEPT_DAYS + 1) * 86400
    os.utime(stale, (old, old))
    known_specs()  # reads back what it kept: writes nothing, removes nothing
    assert stale.exists()
    extra = tmp_path / "mine.yaml"
    text = (specs_dir() / "supervision_audit.yaml").read_text(encoding="utf-8")
    extra.write_text(text.replace('version: "1.1.0"', 'version: "1.2.0"'), encoding="utf-8")
    known_specs((extra,))  # keeps one more spec
    assert not stale.exists()
    assert recent.exists()
    assert len(_kept(data)) == len(list(specs_dir().glob("*.yaml"))) + 2  # the bundled, mine and the recent one
