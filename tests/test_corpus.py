"""Loading a corpus: pieces, paragraphs and an audit that loses nothing; clear errors."""

from __future__ import annotations

import pandas as pd
import pytest

from conftest import SEED_MANIFEST, edit_manifest
from discourselab import CorpusError, load_corpus, write_manifest_template
from discourselab.corpus import iter_paragraphs, read_lines
from discourselab.text import count_words


def assert_nothing_lost(corpus):
    """Every raw line of every file is in exactly one paragraph or in the audit."""
    base = corpus.manifest_path.parent
    for file in corpus.pieces["file"].unique():
        n_lines = len(read_lines(base / file, "utf-8", file))
        kept = corpus.paragraphs.loc[corpus.paragraphs["file"] == file, "line"].tolist()
        left = corpus.audit.loc[corpus.audit["file"] == file, "line"].tolist()
        assert sorted(kept + left) == list(range(1, n_lines + 1)), file


def test_mini_pieces_and_paragraphs(mini_manifest):
    corpus = load_corpus(mini_manifest)
    assert corpus.pieces["doc_id"].tolist() == ["p1", "p2", "p3", "p4"]
    assert corpus.pieces["paragraphs"].tolist() == [2, 2, 2, 2]
    p1 = corpus.paragraphs[corpus.paragraphs["doc_id"] == "p1"]
    assert p1["line"].tolist() == [4, 6]  # line 5 holds a single space: blank
    assert p1["paragraph_id"].tolist() == ["p1:1", "p1:2"]
    texts = dict(corpus.piece_texts())
    assert list(texts) == ["p1", "p2", "p3", "p4"]
    assert texts["p4"].startswith("Social governance needs theory")
    assert texts["p1"] == "\n\n".join(p1["text"])
    assert corpus.pieces["words"].tolist() == [count_words(t) for t in texts.values()]
    assert "text" not in corpus.pieces and corpus.audit_lines == len(corpus.audit)
    assert corpus.metadata_columns == ["author", "affiliation", "role", "venue", "date", "title"]


def test_mini_audit_reasons(mini_manifest):
    audit = load_corpus(mini_manifest).audit.set_index(["file", "line"])["reason"]
    assert audit[("texts/a.txt", 1)] == "web header"
    assert audit[("texts/a.txt", 2)] == "title line"
    assert audit[("texts/a.txt", 3)] == "byline"
    assert audit[("texts/a.txt", 5)] == "blank line"
    assert audit[("texts/a.txt", 7)] == "author's note"
    assert [audit[("texts/a.txt", n)] for n in (8, 9, 10)] == ["web footer"] * 3
    assert audit[("texts/b.txt", 1)] == "page header"
    assert audit[("texts/b.txt", 8)] == "byline"
    assert audit[("texts/c.txt", 1)] == "byline"


def test_names_of_a_files_pieces_titles_first_in_manifest_order():
    # which reason a line outside the pieces gets depends on this order: the first name it holds wins
    from discourselab.corpus import _names, _piece_names

    manifest = pd.DataFrame({"doc_id": ["a", "b", "c"], "title": ["Title A", "", "Title C"],
                             "author": ["Ann Lee; Bo Wu", "Cy Ma", " ; Di Xu"]})
    names = _piece_names(manifest)
    assert _names(names, ["c", "a"]) == [("title line", "Title A"), ("title line", "Title C"), ("byline", "Ann Lee"),
                                         ("byline", "Bo Wu"), ("byline", "Di Xu")]
    assert _names(names, ["b"]) == [("byline", "Cy Ma")]


@pytest.mark.parametrize("manifest", ["mini", "seed"])
def test_nothing_lost(manifest, mini_manifest):
    corpus = load_corpus(mini_manifest if manifest == "mini" else SEED_MANIFEST)
    assert_nothing_lost(corpus)


def test_seed_corpus_shape():
    corpus = load_corpus(SEED_MANIFEST)
    assert len(corpus.pieces) == 11
    assert corpus.pieces["file"].nunique() == 5
    # no web footer, header or Chinese label reaches a paragraph
    text = " ".join(corpus.paragraphs["text"])
    for junk in ("Sign in", "Created On", "FAQ", "关于作者", "Application Status", "(The author is"):
        assert junk not in text


def test_bom_crlf_and_declared_encoding(mini_copy):
    texts = mini_copy.parent / "texts"
    raw = (texts / "c.txt").read_bytes()
    (texts / "c.txt").write_bytes(b"\xef\xbb\xbf" + raw.replace(b"\n", b"\r\n"))
    corpus = load_corpus(mini_copy)
    assert corpus.paragraphs[corpus.paragraphs["doc_id"] == "p4"]["text"].iloc[0].startswith("Social")
    (texts / "c.txt").write_bytes("Cy Scholar\nSocial governance needs café.\n".encode("latin-1"))
    edit_manifest(mini_copy, 3, encoding="latin-1")
    corpus = load_corpus(mini_copy)
    assert "café" in dict(corpus.piece_texts())["p4"]


# --- bad input: one clear message naming the manifest line and the file -------------------

def _error(manifest) -> str:
    with pytest.raises(CorpusError) as info:
        load_corpus(manifest)
    return str(info.value)


def test_missing_required_column(mini_copy):
    table = pd.read_csv(mini_copy, dtype=str, keep_default_na=False).drop(columns="author")
    table.to_csv(mini_copy, index=False)
    assert "missing required column(s): author" in _error(mini_copy)


def test_duplicate_doc_id(mini_copy):
    message = _error(edit_manifest(mini_copy, 2, doc_id="p1"))
    assert "duplicate doc_id 'p1'" in message and "lines 2, 4" in message


def test_missing_file(mini_copy):
    message = _error(edit_manifest(mini_copy, 1, path="texts/nope.txt"))
    assert "line 3 (doc_id 'p2')" in message and "texts/nope.txt" in message and "does not exist" in message


def test_path_outside_manifest_folder(mini_copy):
    outside = mini_copy.parent.parent / "outside.txt"
    outside.write_text("text\n")
    message = _error(edit_manifest(mini_copy, 0, path="../outside.txt"))
    assert "line 2 (doc_id 'p1')" in message and "outside the manifest's folder" in message


def test_start_marker_not_found(mini_copy):
    message = _error(edit_manifest(mini_copy, 0, start="No such line"))
    assert "line 2 (doc_id 'p1')" in message and "start marker 'No such line' not found" in message


def test_marker_found_twice(mini_copy):
    message = _error(edit_manifest(mini_copy, 2, start="Piece"))
    assert "line 4 (doc_id 'p3')" in message and "found 2 times (lines 2, 7)" in message


def test_overlapping_pieces(mini_copy):
    message = _error(edit_manifest(mini_copy, 1, end="The street office"))
    assert "overlaps piece" in message and "texts/b.txt" in message


def test_bad_encoding(mini_copy):
    (mini_copy.parent / "texts" / "c.txt").write_bytes(b"Cy Scholar\nGovernance \xff\xfe here\n")
    message = _error(mini_copy)
    assert "line 5 (doc_id 'p4')" in message and "c.txt" in message and "not valid utf-8 (line 2" in message


def test_empty_piece(mini_copy):
    (mini_copy.parent / "texts" / "c.txt").write_text("\n\n")
    message = _error(edit_manifest(mini_copy, 3, start=""))
    assert "line 5 (doc_id 'p4')" in message and "is empty" in message


def test_malformed_rules_file(mini_copy):
    (mini_copy.parent / "exclusions.csv").write_text("file,pattern,reason\n*,([unclosed,bad\n")
    message = _error(mini_copy)
    assert "exclusions.csv, line 2" in message and "bad regular expression" in message


def test_missing_manifest(tmp_path):
    assert "manifest not found" in _error(tmp_path / "none.csv")


def test_manifest_template(tmp_path):
    folder = tmp_path / "texts"
    folder.mkdir()
    (folder / "one.txt").write_text("First title\nBody text of one.\n")
    (folder / "two.txt").write_text("\nSecond title\nBody two.\n")
    manifest = write_manifest_template(folder)
    corpus = load_corpus(manifest)
    assert corpus.pieces["doc_id"].tolist() == ["one", "two"]
    assert corpus.pieces["title"].tolist() == ["First title", "Second title"]
    assert corpus.pieces["author"].tolist() == ["one", "two"]
    with pytest.raises(CorpusError, match="exists already"):
        write_manifest_template(folder)


@pytest.mark.parametrize("manifest_name", ["mini", "seed"])
def test_iter_paragraphs_streams_the_paragraphs_load_corpus_gives(manifest_name, mini_manifest):
    manifest = mini_manifest if manifest_name == "mini" else SEED_MANIFEST
    streamed = list(iter_paragraphs(manifest))
    loaded = load_corpus(manifest).paragraphs
    assert streamed == list(zip(loaded["doc_id"], loaded["text"]))


def test_iter_paragraphs_stops_where_load_corpus_does(mini_copy):
    (mini_copy.parent / "texts" / "c.txt").write_bytes(b"Cy Scholar\nGovernance \xff\xfe here\n")
    with pytest.raises(CorpusError) as streamed:
        list(iter_paragraphs(mini_copy))
    assert str(streamed.value) == _error(mini_copy)


def test_iter_paragraphs_reports_an_empty_piece(mini_copy):
    (mini_copy.parent / "texts" / "c.txt").write_text("\n\n")
    edit_manifest(mini_copy, 3, start="")
    with pytest.raises(CorpusError, match="is empty"):
        list(iter_paragraphs(mini_copy))


# --- the paragraphs read a part at a time ----------------------------------------------------

def test_paragraph_parts_of_a_reading_are_the_whole_table_cut_into_pieces(mini_manifest):
    from discourselab.cache import content_key
    from discourselab.corpus import _Reading, part_sizes

    whole = load_corpus(mini_manifest)
    for rows in range(1, 10):
        reading = _Reading(mini_manifest, whole.files[1], part_rows=rows)  # files[1]: the rules
        parts = list(reading.parts())
        assert reading.sizes == part_sizes(whole.paragraphs["doc_id"], rows) == tuple(len(p) for p in parts)
        assert [p.index[0] for p in parts] == [sum(reading.sizes[:i]) for i in range(len(parts))]
        pd.testing.assert_frame_equal(pd.concat(parts), whole.paragraphs)
        assert reading.content_hash() == content_key(whole.paragraphs, "") == whole.content_hash
        pd.testing.assert_frame_equal(reading.audit_table(), whole.audit)
        pd.testing.assert_frame_equal(reading.corpus(whole._store).pieces, whole.pieces)


def test_a_reading_ends_a_part_at_the_piece_whose_texts_reach_the_characters(mini_manifest, monkeypatch):
    import discourselab.corpus as corpus_module

    whole = load_corpus(mini_manifest)
    lengths = whole.paragraphs.groupby("doc_id", sort=False)["text"].apply(lambda t: t.str.len().sum())
    budget = int(lengths.iloc[0]) + 1  # the first piece alone falls short of it
    monkeypatch.setattr(corpus_module, "PART_CHARACTERS", budget)
    reading = corpus_module._Reading(mini_manifest, whole.files[1], part_rows=10_000)
    parts = list(reading.parts())
    pd.testing.assert_frame_equal(pd.concat(parts), whole.paragraphs)
    assert len(parts) > 1 and reading.sizes == tuple(len(p) for p in parts)
    for part in parts[:-1]:  # whole pieces; each part's texts reach the budget only with its last piece
        last = part["doc_id"].iloc[-1]
        assert part["text"].str.len().sum() >= budget > part.loc[part["doc_id"] != last, "text"].str.len().sum()
        assert (whole.paragraphs["doc_id"] == last).sum() == (part["doc_id"] == last).sum()


def test_a_reading_yields_a_part_before_it_reads_the_later_files(mini_manifest, monkeypatch):
    import discourselab.corpus as corpus_module

    read = []
    monkeypatch.setattr(corpus_module, "read_lines",
                        lambda path, *args, read_lines=corpus_module.read_lines: read.append(path.name)
                        or read_lines(path, *args))
    parts = corpus_module._Reading(mini_manifest, None, part_rows=2).parts()
    first = next(parts)
    assert first["doc_id"].tolist() == ["p1", "p1"] and read == ["a.txt"]
    assert [part["doc_id"].iloc[0] for part in parts] == ["p2", "p3", "p4"] and read == ["a.txt", "b.txt", "c.txt"]


def test_pieces_of_one_file_apart_in_the_manifest_come_in_manifest_order(mini_copy, mini_manifest):
    plain = load_corpus(mini_manifest)
    table = pd.read_csv(mini_copy, dtype=str, keep_default_na=False)
    table.iloc[[1, 0, 2, 3]].to_csv(mini_copy, index=False)  # p2 (b.txt), p1 (a.txt), p3 (b.txt), p4 (c.txt)
    apart = load_corpus(mini_copy)
    order = ["p2", "p1", "p3", "p4"]
    expected = pd.concat([plain.paragraphs[plain.paragraphs["doc_id"] == d] for d in order], ignore_index=True)
    pd.testing.assert_frame_equal(apart.paragraphs, expected)
    pd.testing.assert_frame_equal(apart.pieces, plain.pieces.set_index("doc_id").loc[order].reset_index())
    pd.testing.assert_frame_equal(apart.audit, plain.audit)  # b.txt's lines once, though it is read twice
    assert [f.name for f in apart.files[2:]] == ["b.txt", "a.txt", "c.txt"]
    assert_nothing_lost(apart)
