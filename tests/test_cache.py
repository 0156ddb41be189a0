"""The token-table cache: reused when nothing changed, rebuilt when a text or a word list changes."""

from __future__ import annotations

import hashlib
import shutil
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from discourselab import CorpusError, cache
from discourselab.study import open_study
from discourselab.text import Settings


@pytest.fixture
def cache_folder(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv(cache.ENV, str(folder))
    return folder


def test_built_once_then_read(cache_folder):
    calls = []

    def build():
        calls.append(1)
        return pd.DataFrame({"a": [1, 2]})

    first = cache.cached_table("demo", "k" * 64, build)
    second = cache.cached_table("demo", "k" * 64, build)
    assert len(calls) == 1
    pd.testing.assert_frame_equal(first, second)
    assert [p.name for p in cache_folder.iterdir()] == [f"demo-{'k' * 32}.pkl"]


def test_digest_hashes_each_arrays_bytes_in_place():
    arrays = [np.arange(10, dtype=np.int32).reshape(2, 5), np.arange(12.0).reshape(3, 4)[:, ::2],
              np.zeros((0, 3)), np.array(["2020-01-01", "2021-06-30"], dtype="datetime64[D]"), np.array([True, False])]
    expected = hashlib.sha256()
    for array in arrays:  # each part: its length in 8 little-endian bytes, then its bytes in C order
        data = np.ascontiguousarray(array).tobytes()
        expected.update(len(data).to_bytes(8, "little") + data)
    assert cache.digest(*arrays) == expected.hexdigest()
    assert cache.digest(np.arange(3, dtype=np.int64)) != cache.digest(np.arange(3, dtype=np.int32))

    large = np.ones(1 << 20)  # 8 MB: read where it is, not copied
    tracemalloc.start()
    try:
        cache.digest(large)
        assert tracemalloc.get_traced_memory()[1] < 1 << 20
    finally:
        tracemalloc.stop()


def test_off(monkeypatch):
    monkeypatch.setenv(cache.ENV, "off")
    calls = []
    for _ in range(2):
        cache.cached_table("demo", "x" * 64, lambda: calls.append(1) or pd.DataFrame())
    assert len(calls) == 2 and cache.cache_dir() is None


def test_old_entries_pruned(cache_folder):
    for i in range(cache.KEEP + 3):
        cache.cached_table("demo", f"{i:02d}" + "0" * 62, lambda: pd.DataFrame({"i": [i]}))
    assert len(list(cache_folder.glob("demo-*.pkl"))) == cache.KEEP


def test_key_follows_texts_and_word_lists(tmp_path):
    paragraphs = pd.DataFrame({"doc_id": ["a"], "paragraph_id": ["a-1"], "text": ["Grassroots governance."]})
    glossary = tmp_path / "glossary.csv"
    shutil.copy(Settings().glossary_file, glossary)
    settings = Settings(glossary_file=str(glossary))
    key = cache.content_key(paragraphs, settings.fingerprint())
    assert key == cache.content_key(paragraphs.copy(), Settings(glossary_file=str(glossary)).fingerprint())
    assert key != cache.content_key(paragraphs.assign(text="Grass-roots governance."), settings.fingerprint())
    with glossary.open("a", encoding="utf-8") as handle:
        handle.write("neighbourhood,community,added in a test\n")
    assert key != cache.content_key(paragraphs, settings.fingerprint())


def test_study_tokens_come_from_the_cache(cache_folder, mini_manifest):
    first = open_study(mini_manifest).tokens
    entries = list(cache_folder.glob("tokens-*.pkl"))
    assert len(entries) == 1
    modified = entries[0].stat().st_mtime_ns
    again = open_study(mini_manifest).tokens
    pd.testing.assert_frame_equal(first, again)
    assert entries[0].stat().st_mtime_ns == modified  # read, not rewritten
    open_study(mini_manifest, use_glossary=False).tokens
    assert len(list(cache_folder.glob("tokens-*.pkl"))) == 2  # other settings, other entry


def test_entries_made_by_other_code_are_rebuilt(cache_folder, monkeypatch):
    calls = []
    cache.cached_table("demo", "c" * 64, lambda: calls.append(1) or pd.DataFrame({"v": [1]}))
    monkeypatch.setattr(cache, "code_fingerprint", lambda: "another version of the package")
    again = cache.cached_table("demo", "c" * 64, lambda: calls.append(1) or pd.DataFrame({"v": [2]}))
    assert len(calls) == 2 and again["v"].tolist() == [2]
    assert len(list(cache_folder.glob("demo-*.pkl"))) == 1  # replaced, not kept beside


def test_damaged_entry_is_rebuilt(cache_folder):
    cache.cached_table("demo", "d" * 64, lambda: pd.DataFrame({"v": [1]}))
    (cache_folder / f"demo-{'d' * 32}.pkl").write_bytes(b"not a pickle")
    assert cache.cached_table("demo", "d" * 64, lambda: pd.DataFrame({"v": [3]}))["v"].tolist() == [3]


def test_parts_are_stored_together_and_read_one_at_a_time(cache_folder, monkeypatch):
    made = []

    def parts():
        for i in range(3):
            made.append(i)
            yield pd.DataFrame({"v": [i] * (i + 1)})

    assert cache.stored_parts("demo", "p" * 64) is None
    assert cache.store_parts("demo", "p" * 64, parts()) == 3
    assert [p.name for p in cache_folder.iterdir()] == [f"demo-{'p' * 32}.pkl"]  # one entry, not one per part
    assert cache.stored_parts("demo", "p" * 64) == 3
    assert [cache.cached_part("demo", "p" * 64, i)["v"].tolist() for i in (2, 0, 1)] == [[2, 2, 2], [0], [1, 1]]
    assert cache.cached_part("demo", "p" * 64, 3) is None and cache.cached_part("demo", "q" * 64, 0) is None
    assert cache.store_parts("demo", "e" * 64, iter([])) == 0 and cache.cached_part("demo", "e" * 64, 0) is None
    assert cache.stored_parts("demo", "e" * 64) == 0
    with monkeypatch.context() as patch:  # stored by other code: not served
        patch.setattr(cache, "code_fingerprint", lambda: "another version of the package")
        assert cache.cached_part("demo", "p" * 64, 0) is None and cache.stored_parts("demo", "p" * 64) is None
    entry = cache_folder / f"demo-{'p' * 32}.pkl"
    entry.write_bytes(entry.read_bytes()[:-3])  # cut short: damaged
    assert cache.cached_part("demo", "p" * 64, 0) is None and cache.stored_parts("demo", "p" * 64) is None
    monkeypatch.setenv(cache.ENV, "off")
    made.clear()
    assert cache.store_parts("demo", "p" * 64, parts()) == 3 and made == [0, 1, 2]
    assert cache.cached_part("demo", "p" * 64, 0) is None


def test_a_cached_corpus_reads_its_paragraphs_a_part_at_a_time(cache_folder, mini_copy, monkeypatch):
    import discourselab.corpus as corpus_module

    monkeypatch.setattr(corpus_module, "PART_ROWS", 3)
    parsed = corpus_module.load_corpus(mini_copy)
    whole = parsed.paragraphs
    sizes = whole.groupby("doc_id", sort=False).size().tolist()
    corpus = corpus_module.load_corpus(mini_copy)
    assert corpus.paragraph_parts().sizes == parsed._store.sizes == corpus_module.part_sizes(whole["doc_id"], 3)
    assert len(corpus.paragraph_parts()) > 1 and sum(corpus.paragraph_parts().sizes) == len(whole)
    read = []
    reader = cache.cached_part  # each part read, in the order read
    monkeypatch.setattr(cache, "cached_part", lambda *args: read.append(args[2]) or reader(*args))
    parts = []
    for part in corpus.paragraph_parts():
        assert not corpus._store.holds("paragraphs")  # one part at a time, nothing kept
        assert part["doc_id"].nunique() == len(set(part["doc_id"]) - {d for p in parts for d in p["doc_id"]})
        parts.append(part)
    assert read == list(range(len(parts)))
    pd.testing.assert_frame_equal(pd.concat(parts), whole)  # whole pieces, in order, with their rows' index
    assert [len(p) for p in parts] == list(corpus.paragraph_parts().sizes) and sizes
    assert dict(corpus.piece_texts()) == dict(parsed.piece_texts())
    # a part the cache has lost: the corpus is parsed again, and the rest comes from what it made
    read.clear()
    (cache_folder / f"paragraphs-{corpus._store.key[:32]}.pkl").unlink()
    pd.testing.assert_frame_equal(pd.concat(list(corpus.paragraph_parts())), whole)
    assert read == [0] and corpus._store.holds("paragraphs")
    corpus.release()
    pd.testing.assert_frame_equal(pd.concat(list(corpus.paragraph_parts())), whole)  # stored again
    assert not corpus._store.holds("paragraphs")


def test_a_study_counts_into_parts_and_reads_them_one_at_a_time(cache_folder, mini_copy, monkeypatch):
    import discourselab.study as study_module
    from discourselab.text import TextPipeline, join_count_parts

    monkeypatch.setattr(study_module, "COUNT_PART_ROWS", 10)
    corpus = open_study(mini_copy).corpus
    whole, pairs = TextPipeline().count_table(corpus.paragraphs)
    sizes = study_module.part_sizes(whole["doc_id"], 10)
    assert len(sizes) > 2 and sum(sizes) == len(whole)
    counted = []
    count_parts = TextPipeline.count_parts
    monkeypatch.setattr(TextPipeline, "count_parts", lambda *args, **kw: counted.append(1) or count_parts(*args, **kw))
    read = []
    reader = cache.cached_part  # each part read, in the order read
    monkeypatch.setattr(cache, "cached_part",
                        lambda *args: (args[0] == "count-parts" and read.append(args[2])) or reader(*args))
    study = open_study(mini_copy)
    assert cache.stored_parts("count-parts", study.key) is None  # made on first need
    parts = []
    for part in study.count_parts():  # counted into parts, stored, then read back one at a time
        assert "counts" not in study.__dict__ and study._held is None  # never all held
        assert not set(part["doc_id"]) & {d for p in parts for d in p["doc_id"]}  # whole pieces
        assert sorted(part["paragraph_id"].cat.categories) == sorted(part["paragraph_id"].unique())
        parts.append(part)
    assert counted == [1] and read == list(range(len(sizes))) and [len(p) for p in parts] == list(sizes)
    assert cache.stored_parts("count-parts", study.key) == len(sizes)
    pd.testing.assert_frame_equal(join_count_parts(parts), whole)  # in order, with the index
    assert all(p[c].cat.categories.equals(whole[c].cat.categories) for p in parts for c in ("doc_id", "term"))
    pd.testing.assert_frame_equal(study.pairs, pairs)  # made with them
    # another study reads the parts and the pairs without counting
    again = open_study(mini_copy)
    read.clear()
    pd.testing.assert_frame_equal(again.pairs, pairs)
    pd.testing.assert_frame_equal(join_count_parts(again.count_parts()), whole)
    assert counted == [1] and read == list(range(len(sizes)))
    read.clear()
    pd.testing.assert_frame_equal(again.counts, whole)  # the parts joined, and held
    assert read == list(range(len(sizes))) and "counts" in again.__dict__
    assert [len(p) for p in again.count_parts()] == list(sizes) and read == list(range(len(sizes)))  # views of it
    # the pairs lost: counted again, with the parts
    (cache_folder / f"pairs-{study.key[:32]}.pkl").unlink()
    pd.testing.assert_frame_equal(open_study(mini_copy).pairs, pairs)
    assert counted == [1, 1] and cache.stored_parts("count-parts", study.key) == len(sizes)
    # lost after the first part: the rest comes from the texts counted again, held, and the parts are stored again
    read.clear()
    lost = cache_folder / f"count-parts-{study.key[:32]}.pkl"
    parts = []
    study.release()
    for part in study.count_parts():
        if not parts:
            lost.unlink()
        parts.append(part)
    pd.testing.assert_frame_equal(join_count_parts(parts), whole)
    assert read == [0, 1] and counted == [1, 1, 1] and study._held is not None and lost.is_file()
    study.release()
    assert study._held is None and len(list(study.count_parts())) == len(sizes)  # from the cache again
    read.clear()
    monkeypatch.setenv(cache.ENV, "off")  # no cache: counted once, and held
    plain = open_study(mini_copy)
    pd.testing.assert_frame_equal(join_count_parts(plain.count_parts()), whole)
    plain.release()
    pd.testing.assert_frame_equal(plain.pairs, pairs)
    assert [len(p) for p in plain.count_parts()] == list(sizes) and counted == [1, 1, 1, 1] and read == []


def test_parts_end_at_a_piece_end():
    from discourselab.corpus import part_sizes

    doc_ids = pd.Series(list("aaabbcddddde"))
    assert part_sizes(doc_ids, 3) == (3, 3, 5, 1)
    assert part_sizes(doc_ids, 4) == (5, 6, 1)
    assert part_sizes(doc_ids, 1) == (3, 2, 1, 5, 1)
    assert part_sizes(doc_ids, 100) == (12,)
    assert part_sizes(doc_ids.iloc[:0], 3) == ()
    assert part_sizes(doc_ids.astype("category"), 3) == (3, 3, 5, 1)


def test_corpus_comes_from_the_cache_until_a_file_changes(cache_folder, mini_copy, monkeypatch):
    import discourselab.corpus as corpus_module

    first = corpus_module.load_corpus(mini_copy)
    assert len(list(cache_folder.glob("corpus-*.pkl"))) == 1

    def fail(*args):
        raise AssertionError("parsed again")

    with monkeypatch.context() as patch:
        patch.setattr(corpus_module, "_load", fail)
        again = corpus_module.load_corpus(mini_copy)  # from the cache, not parsed
        # the paths are the caller's, also from another working folder
        patch.chdir(mini_copy.parent)
        here = corpus_module.load_corpus("corpus.csv")
    pd.testing.assert_frame_equal(first.paragraphs, again.paragraphs)
    pd.testing.assert_frame_equal(first.pieces, here.pieces)
    assert here.files[:2] == (Path("corpus.csv"), Path("exclusions.csv")) and here.files[2:] == first.files[2:]
    text = mini_copy.parent / "texts" / "c.txt"  # its piece runs to the end of the file
    text.write_text(text.read_text(encoding="utf-8") + "\nA paragraph added later.\n", encoding="utf-8")
    changed = corpus_module.load_corpus(mini_copy)
    assert changed.paragraphs["text"].str.contains("added later").any()


def test_cached_corpus_reads_its_texts_only_when_used(cache_folder, mini_copy, monkeypatch):
    import pickle

    import discourselab.corpus as corpus_module

    parsed = corpus_module.load_corpus(mini_copy)
    assert not parsed._store.holds("paragraphs")  # the parse streamed the paragraphs into the cache
    corpus = corpus_module.load_corpus(mini_copy)
    assert not corpus._store.holds("paragraphs") and not corpus._store.holds("audit")
    assert "text" not in corpus.pieces and corpus.audit_lines == len(parsed.audit)
    # a study finds its cached counts from the corpus's hash, without the texts
    study = open_study(mini_copy)
    study.counts
    assert not study.corpus._store.holds("paragraphs")  # read to count them, let go before the table was put together
    again = open_study(mini_copy)
    again.counts
    assert not again.corpus._store.holds("paragraphs")
    pd.testing.assert_frame_equal(corpus.paragraphs, parsed.paragraphs)
    pd.testing.assert_frame_equal(corpus.audit, parsed.audit)
    assert corpus._store.holds("paragraphs")
    assert not pickle.loads(pickle.dumps(corpus))._store.holds("paragraphs")  # the texts are not pickled
    chosen = corpus.paragraphs_of(["p1:2", "p3:1"])
    assert chosen["paragraph_id"].tolist() == ["p1:2", "p3:1"]
    corpus.release()
    assert not corpus._store.holds("paragraphs")
    corpus.paragraphs_of(["p1:2"])
    assert not corpus._store.holds("paragraphs")  # read for a few paragraphs, not kept
    # an entry the cache has lost is parsed again; if the files changed meanwhile, that is an error
    for entry in cache_folder.glob("paragraphs-*.pkl"):
        entry.unlink()
    pd.testing.assert_frame_equal(corpus.paragraphs, parsed.paragraphs)
    corpus.release()
    for entry in cache_folder.glob("paragraphs-*.pkl"):
        entry.unlink()
    text = mini_copy.parent / "texts" / "c.txt"
    text.write_text(text.read_text(encoding="utf-8") + "\nA paragraph added later.\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="changed after the corpus was loaded"):
        corpus.paragraphs


def test_a_study_lets_go_of_what_the_cache_can_give_again(cache_folder, mini_copy, monkeypatch):
    from discourselab.study import Study

    open_study(mini_copy).counts  # parsed and counted: the cache holds the texts and the counts
    study = open_study(mini_copy)
    counts, pairs = study.counts, study.pairs
    texts = dict(study.corpus.piece_texts())
    assert not study.corpus._store.holds("paragraphs")  # read for the pieces' texts, not kept
    study.corpus.paragraphs
    assert dict(study.corpus.piece_texts()) == texts and study.corpus._store.holds("paragraphs")  # held before: kept
    import discourselab.corpus as corpus_module

    trimmed = []
    monkeypatch.setattr(corpus_module, "trim_heap", lambda: trimmed.append(1))
    study.release()
    assert "counts" not in study.__dict__ and not study.corpus._store.holds("paragraphs")
    assert trimmed == [1]  # what it let go of goes back to the system
    monkeypatch.setattr(Study, "pipeline", property(lambda self: pytest.fail("counted the texts again")))
    pd.testing.assert_frame_equal(study.counts, counts)  # read back from the cache
    pd.testing.assert_frame_equal(study.pairs, pairs)


def test_without_a_cache_a_study_keeps_its_counts(mini_copy, monkeypatch):
    monkeypatch.setenv(cache.ENV, "off")
    study = open_study(mini_copy)
    counts = study.counts
    study.release()
    assert study.counts is counts


def test_a_corpus_is_parsed_into_the_cache_a_part_at_a_time(cache_folder, mini_copy, monkeypatch):
    import discourselab.corpus as corpus_module

    held = corpus_module._load(mini_copy, corpus_module.default_rules_path(mini_copy))
    monkeypatch.setattr(corpus_module, "PART_ROWS", 3)
    parsed = corpus_module.load_corpus(mini_copy)
    assert parsed._store.sizes == corpus_module.part_sizes(held.paragraphs["doc_id"], 3) == (4, 4)
    start = 0
    for number, size in enumerate(parsed._store.sizes):
        pd.testing.assert_frame_equal(cache.cached_part("paragraphs", parsed._store.key, number),
                                      held.paragraphs.iloc[start:start + size])
        start += size
    pd.testing.assert_frame_equal(parsed.audit, held.audit)
    pd.testing.assert_frame_equal(parsed.pieces, held.pieces)
    assert parsed.content_hash == held.content_hash and parsed.audit_lines == held.audit_lines


def test_a_parse_that_stops_on_a_later_file_leaves_nothing_in_the_cache(cache_folder, mini_copy, monkeypatch):
    import discourselab.corpus as corpus_module

    monkeypatch.setattr(corpus_module, "PART_ROWS", 1)  # a.txt's part is written before c.txt is read
    (mini_copy.parent / "texts" / "c.txt").write_bytes(b"Cy Scholar\nSocial governance needs \xff here\n")
    with pytest.raises(CorpusError, match=r"line 5 \(doc_id 'p4'\).*not valid utf-8"):
        corpus_module.load_corpus(mini_copy)
    assert not cache_folder.exists() or not list(cache_folder.iterdir())


def test_a_stored_array_is_read_a_range_at_a_time(cache_folder, monkeypatch):
    values = np.arange(23, dtype=np.float64) / 7
    cache.store_array("demo", "a" * 64, values, part=5)
    assert cache.stored_parts("demo", "a" * 64) == 5 + 1  # 5 parts of at most 5 values, then the header
    stored = cache.StoredArray.of("demo", "a" * 64)
    assert len(stored) == 23 and stored.shape == (23,)
    read = []
    real_part = cache.cached_part
    monkeypatch.setattr(cache, "cached_part", lambda kind, key, number: read.append(number) or real_part(kind, key, number))
    for start, stop in [(0, 23), (0, 5), (4, 6), (5, 10), (9, 21), (22, 23), (7, 7), (20, 99), (-3, None)]:
        read.clear()
        got = stored[start:stop]
        np.testing.assert_array_equal(got, values[start:stop])
        assert got.dtype == values.dtype
        assert read == sorted({i // 5 for i in range(23)[start:stop]})  # only the parts the range spans
    np.testing.assert_array_equal(np.asarray(stored), values)
    with pytest.raises(ValueError, match="step 1"):
        stored[::2]
    with pytest.raises(TypeError, match="slice"):
        stored[3]
    monkeypatch.setattr(cache, "cached_part", real_part)
    # given as chunks of any sizes, one at a time: the same parts and values
    chunks = iter([values[:3], values[3:4], values[4:4], values[4:17], values[17:]])
    cache.store_array("demo", "c" * 64, chunks, part=5)
    assert [cache.cached_part("demo", "c" * 64, i).tolist() for i in range(5)] == \
        [cache.cached_part("demo", "a" * 64, i).tolist() for i in range(5)]
    np.testing.assert_array_equal(cache.StoredArray.of("demo", "c" * 64)[2:19], values[2:19])
    with pytest.raises(ValueError, match="int64 chunk after float64"):
        cache.store_array("demo", "d" * 64, iter([values[:7], np.arange(3)]), part=5)
    assert cache.StoredArray.of("demo", "d" * 64) is None  # nothing stored, not half of it
    # empty, and int32
    cache.store_array("demo", "e" * 64, np.empty(0, dtype=np.int32))
    empty = cache.StoredArray.of("demo", "e" * 64)
    assert len(empty) == 0 and empty[:].dtype == np.int32 and empty[:].shape == (0,)
    assert cache.StoredArray.of("demo", "m" * 64) is None  # not stored
    with pytest.raises(ValueError, match="1-D"):
        cache.store_array("demo", "b" * 64, np.zeros((2, 2)))


def test_a_stored_array_made_again_when_a_part_is_lost(cache_folder, monkeypatch):
    values = np.arange(12, dtype=np.float64)
    cache.store_array("demo", "a" * 64, values, part=4)
    remade = []
    stored = cache.StoredArray.of("demo", "a" * 64, remake=lambda: remade.append(1) or values * 1)
    lost = cache.StoredArray.of("demo", "a" * 64)
    np.testing.assert_array_equal(stored[2:6], values[2:6])
    real_part = cache.cached_part
    monkeypatch.setattr(cache, "cached_part", lambda kind, key, number: None if number == 2 else
                        real_part(kind, key, number))
    np.testing.assert_array_equal(stored[1:11], values[1:11])  # part 2 lost: made again, once
    np.testing.assert_array_equal(stored[0:3], values[0:3])
    assert remade == [1]
    with pytest.raises(LookupError, match="lost"):
        lost[:]
    monkeypatch.setenv(cache.ENV, "off")
    cache.store_array("demo", "o" * 64, values)  # nothing stored, no error
    assert cache.StoredArray.of("demo", "o" * 64) is None


def test_a_table_of_a_few_pieces_frequencies_reads_the_count_parts_up_to_its_last_piece(cache_folder, mini_copy,
                                                                                         monkeypatch):
    import discourselab.study as study_module
    from discourselab.frequency import count_terms

    monkeypatch.setattr(study_module, "COUNT_PART_ROWS", 10)
    study = open_study(mini_copy)
    parts = list(study.count_parts())
    last_part = {doc: i for i, part in enumerate(parts) for doc in part["doc_id"].unique()}
    read = []
    reader = cache.cached_part
    monkeypatch.setattr(cache, "cached_part",
                        lambda *args: (args[0] == "count-parts" and read.append(args[2])) or reader(*args))
    tables = []
    for table in study.frequency_tables(by=["doc_id"], groups_per_table=1):
        tables.append(table)
        doc = table["group"].iat[0]
        assert max(read) == last_part[doc]  # read no further than the part that holds its piece
        read.clear()
    assert len(tables) == len(study.pieces) and max(last_part.values()) > 0
    whole = count_terms(study.counts, study.pieces, "doc_id")
    pd.testing.assert_frame_equal(pd.concat(tables, ignore_index=True), whole)
