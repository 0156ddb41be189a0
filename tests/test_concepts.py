"""The optional concepts file."""

import pytest

from discourselab import CorpusError
from discourselab.concepts import read_concepts


def test_read_concepts(tmp_path):
    path = tmp_path / "concepts.txt"
    path.write_text("# comment\nThe people: people, masses , resident\n\nTech: big data\n")
    assert read_concepts(path) == {"The people": ["people", "masses", "resident"], "Tech": ["big data"]}
    assert read_concepts(tmp_path / "none.txt") == {}


def test_bad_concepts_line_named(tmp_path):
    path = tmp_path / "concepts.txt"
    path.write_text("Fine: a\nno colon here\n")
    with pytest.raises(CorpusError, match="concepts.txt, line 2"):
        read_concepts(path)
