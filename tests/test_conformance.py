"""Issue 19: the workbooks auditbook writes are ones Excel will not refuse: no Zip64 field where none is needed."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tests.conformance.outputs import Outputs
from tests.conformance.package import ZIP64_EXTRA, zip_members


@pytest.fixture(scope="session")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Outputs:
    """One workbook of every kind, written when first asked for (the whole set takes a few seconds)."""
    return Outputs(tmp_path_factory.mktemp("conformance"))


# -- Zip64 ---------------------------------------------------------------------------------------------------


def test_master_packs_and_export_carry_no_zip64_field(outputs: Outputs) -> None:
    made = outputs.collected
    for path in (made.master, *made.packs, made.export):
        members = zip_members(path.read_bytes())
        assert len(members) > 10, path
        assert [m.name for m in members if ZIP64_EXTRA in (*m.local_extra, *m.central_extra)] == [], path


def test_the_zip_reader_sees_a_zip64_field_in_a_local_header(tmp_path: Path) -> None:
    # What FastRows.finish wrote before issue 19: force_zip64 puts the field in the local header only.
    path = tmp_path / "forced.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("plain.xml", b"<a/>")
        with zf.open("forced.xml", "w", force_zip64=True) as fh:
            fh.write(b"<b/>")
    assert [(m.name, m.local_extra, m.central_extra) for m in zip_members(path.read_bytes())] == [
        ("plain.xml", (), ()), ("forced.xml", (ZIP64_EXTRA,), ())]
