"""A tiny fixture corpus and helpers to build broken ones."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

FIXTURES = Path(__file__).parent / "fixtures"
MINI = FIXTURES / "mini"
PROJECT = Path(__file__).resolve().parents[1]
SEED_MANIFEST = PROJECT / "data" / "corpus.csv"


@pytest.fixture
def mini_manifest() -> Path:
    """The fixture corpus: four pieces in three files, two roles."""
    return MINI / "corpus.csv"


@pytest.fixture
def mini_copy(tmp_path) -> Path:
    """A writable copy of the fixture corpus; returns its manifest."""
    target = tmp_path / "mini"
    shutil.copytree(MINI, target)
    return target / "corpus.csv"


def edit_manifest(manifest: Path, row: int | None = None, **values) -> Path:
    """Change cells of a manifest row (0-based data row) in place; row None edits the header-level table."""
    table = pd.read_csv(manifest, dtype=str, keep_default_na=False)
    for column, value in values.items():
        table.loc[row, column] = value
    table.to_csv(manifest, index=False)
    return manifest
