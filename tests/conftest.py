"""Shared fixtures: the bundled spec and its layout (loaded once), and an empty output folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditbook.spec import Spec, default_spec_path, load_spec
from auditbook.workbook.layout import Layout, build_layout


@pytest.fixture(scope="session")
def spec() -> Spec:
    """The bundled Deep Dive spec."""
    return load_spec(default_spec_path())


@pytest.fixture(scope="session")
def layout(spec: Spec) -> Layout:
    """Where every input, list and flag of the bundled spec's workbook lives."""
    return build_layout(spec)


@pytest.fixture
def tmp_out(tmp_path: Path) -> Path:
    """An empty folder to write workbooks into."""
    out = tmp_path / "out"
    out.mkdir()
    return out
