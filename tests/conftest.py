"""Shared fixtures: the bundled spec and its layout (loaded once), an empty output folder, and a throwaway user
data folder for every test."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from auditbook.spec import Spec, default_spec_path, load_spec
from auditbook.spec.layout import Layout, build_layout

# Ledgers and the ledger key go to a throwaway data folder, never the real home folder (subprocesses inherit it).
os.environ["AUDITBOOK_DATA_DIR"] = tempfile.mkdtemp(prefix="auditbook-test-data-")
atexit.register(shutil.rmtree, os.environ["AUDITBOOK_DATA_DIR"], ignore_errors=True)


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
