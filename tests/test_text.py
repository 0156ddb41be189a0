"""The text-processing pipeline: tokens, variants, lemmas, glossary, phrases, stop words."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from discourselab import CorpusError, TextPipeline
from discourselab.text import Settings, count_words, normalize_typography, word_codes, word_tokens


@pytest.fixture(scope="module")
def pipe():
    return TextPipeline()


def test_typography_folded():
    assert normalize_typography("“people’s” ‘order’ city–district") == "\"people's\" 'order' city district"
    assert word_tokens("“People’s” city–district, sub‑district") == ["people's", "city", "district", "sub-district"]
    assert count_words("It’s 56% of 1,730 — grass-roots") == 3


def test_word_codes_are_the_words_numbered_a_slice_at_a_time(monkeypatch):
    import discourselab.text as text_module

    text = "“People’s” city–district,\nsub‑district  people's CITY\tdistrict ünïcode-words 42 end"
    slices = []
    tokens = text_module.word_tokens
    monkeypatch.setattr(text_module, "word_tokens", lambda part: slices.append(part) or tokens(part))
    for size in (1, 5, 12, 1000):
        slices.clear()
        codes = {}
        found = word_codes(text, codes, size=size)
        assert found.dtype == np.int32
        words = list(codes)  # in the order first seen: a word's code is its place
        assert [words[c] for c in found] == tokens(text)
        assert "".join(slices) == text  # every character in one slice
        for part in slices[:-1]:  # each cut just after the first white space from `size` characters on
            assert part[-1].isspace() and not any(c.isspace() for c in part[size:-1])
        assert (len(slices) == 1) == (size == 1000)
    again = word_codes("district people's new", codes)  # the same dict: the same codes, new words after
    assert again.tolist() == [codes["district"], codes["people's"], len(codes) - 1]
    assert word_codes("", {}).tolist() == [] and word_codes("42 --", {}).dtype == np.int32


def test_count_words_is_the_word_patterns_count_on_any_text():
    # ASCII text takes a faster pattern than the Unicode one: the same count, also with typography and other letters
    import random

    from discourselab.text import _WORD

    draw = random.Random(0)
    alphabet = "abZ 9.,'-%\n_é’—ß"
    for _ in range(5000):
        text = "".join(draw.choice(alphabet) for _ in range(draw.randint(0, 30)))
        assert count_words(text) == len(_WORD.findall(normalize_typography(text))), repr(text)


def test_quotes_and_possessives(pipe):
    assert pipe.terms("the people’s “order”") == pipe.terms("the people's \"order\"") == ["people", "order"]


def test_numbers_kept_out_by_default(pipe):
    tokens = pipe.analyze("In 2017, 56% of 1,730 members")
    assert [(t[0], t[1]) for t in tokens if t[0][0].isdigit()] == [("2017", None), ("56%", None), ("1,730", None)]
    assert TextPipeline(keep_numbers=True).terms("56% of members") == ["56%", "member"]


def test_spelling_variants_folded(pipe):
    assert pipe.terms("grass-roots") == pipe.terms("grassroots") == ["grassroots"]
    assert pipe.terms("Party-building") == pipe.terms("Party building") == ["party building"]
    assert pipe.terms("Party building-led governance") == ["party building", "lead", "governance"]


def test_lemmas_offline(pipe):
    assert pipe.terms("organizations committees cities") == ["organization", "committee", "city"]


def test_glossary_on_and_off(pipe):
    text = "primary-level Party organizations in the streets serve the masses and the mass"
    assert pipe.terms(text) == ["grassroots", "party organization", "sub-district", "serve", "masses", "masses"]
    plain = TextPipeline(use_glossary=False).terms(text)
    assert plain == ["primary-level", "party organization", "street", "serve", "masses", "mass"]


def test_phrases_merge_and_keep_surface(pipe):
    text = "Big data helps social governance"
    tokens = pipe.analyze(text)
    assert tokens[0] == ("Big data", "big data", 2, 0, 8)
    assert tokens[-1] == ("social governance", "social governance", 2, 15, 32)
    assert sum(t[2] for t in tokens) == 5  # big data helps social governance


def test_offsets_point_into_the_original_text(pipe):
    text = "The “people’s” city–district"
    for token, _, _, start, end in pipe.analyze(text):
        assert text[start:end] == token
    assert [t[0] for t in pipe.analyze(text)] == ["The", "people’s", "city", "district"]


def test_stop_words(pipe):
    assert pipe.terms("First, we must also do the work of the Party") == ["work", "party"]
    assert "the" in pipe.stopwords


def test_editable_lists(tmp_path):
    stop = tmp_path / "stop.txt"
    stop.write_text("# comment\ngovernance\n")
    phrases = tmp_path / "phrases.txt"
    phrases.write_text("urban renewal\n")
    pipe = TextPipeline(stopword_files=(str(stop),), phrase_file=str(phrases))
    assert pipe.terms("urban renewal and governance") == ["urban renewal", "and"]


def test_bad_list_named(tmp_path):
    glossary = tmp_path / "glossary.csv"
    glossary.write_text("wrong,header\na,b\n")
    with pytest.raises(CorpusError, match="glossary.csv must have the columns 'variant' and 'concept'"):
        TextPipeline(glossary_file=str(glossary))
    with pytest.raises(CorpusError, match="word list not found"):
        TextPipeline(stopword_files=(str(tmp_path / "none.txt"),))


def test_token_table_positions(pipe):
    paragraphs = pd.DataFrame({"doc_id": ["d", "d"], "paragraph_id": ["d:1", "d:2"],
                               "text": ["Party building matters.", "The masses, too."]})
    table = pipe.token_table(paragraphs)
    assert table.columns.tolist() == ["doc_id", "paragraph_id", "position", "token", "term", "words", "start", "end"]
    assert table["position"].tolist() == [0, 1, 2, 3, 4]
    assert table["term"].tolist()[:2] == ["party building", "matter"]
    assert table["term"].isna().tolist() == [False, False, True, False, True]


def test_fingerprint_follows_word_lists(tmp_path):
    stop = tmp_path / "stop.txt"
    stop.write_text("a\n")
    before = TextPipeline(stopword_files=(str(stop),)).settings.fingerprint()
    stop.write_text("a\nb\n")
    assert TextPipeline(stopword_files=(str(stop),)).settings.fingerprint() != before


def test_fingerprint_is_of_the_word_lists_contents_not_their_paths(tmp_path):
    default = Settings()
    moved = tmp_path / "moved"
    moved.mkdir()
    copies = {}
    for name in ("phrase_file", "glossary_file", "spelling_file", "lemma_file"):
        copies[name] = str(moved / Path(getattr(default, name)).name)
        Path(copies[name]).write_bytes(Path(getattr(default, name)).read_bytes())
    stopwords = []
    for number, path in enumerate(default.stopword_files):
        stopwords.append(str(moved / f"stop{number}.txt"))
        Path(stopwords[-1]).write_bytes(Path(path).read_bytes())
    # the same lists at another path (a project cloned elsewhere): the same fingerprint, so the cache serves
    assert Settings(stopword_files=tuple(stopwords), **copies).fingerprint() == default.fingerprint()
    # a list in another role, or another order of the stop word lists, is another pipeline
    swapped = {**copies, "glossary_file": copies["spelling_file"], "spelling_file": copies["glossary_file"]}
    assert Settings(stopword_files=tuple(stopwords), **swapped).fingerprint() != default.fingerprint()
    assert Settings(stopword_files=tuple(stopwords[::-1]), **copies).fingerprint() != default.fingerprint()
    assert Settings(glossary_file=None).fingerprint() != default.fingerprint()


@pytest.mark.parametrize("changes", [{}, {"use_glossary": False}, {"lemmatize": False}, {"remove_stopwords": False},
                                     {"keep_numbers": True}])
def test_fast_terms_equal_the_full_analysis(changes):
    # terms() takes a faster path than analyze(); on the whole seed corpus both must give the same terms
    from conftest import SEED_MANIFEST
    from discourselab import load_corpus

    pipe = TextPipeline(**changes)
    texts = load_corpus(SEED_MANIFEST).paragraphs["text"].tolist()
    texts += ["Café “Big-data” 3.5% grass roots—the masses' Party building, urban social governance."]
    for text in texts:
        assert pipe.terms(text) == [t[1] for t in pipe.analyze(text) if t[1] is not None]


def test_count_texts():
    counts, vocabulary = TextPipeline().count_texts(["Party building serves the masses.", "The masses, the masses."])
    table = pd.DataFrame(counts.toarray(), columns=vocabulary)
    assert table.loc[0, "party building"] == 1 and table.loc[1, "masses"] == 2
    assert table.loc[0, "masses"] == 1 and "the" not in table


#: Texts that take every branch of the arrays' path: expressions (one at a text's end, one whose next word
#: begins the next text), a token of two forms ("building-led"), numbers, typography, empty and stop-word texts.
HARD_TEXTS = ["Party building-led governance of the grass-roots Party organizations, 56% of 1,200 members.",
              "The people’s “rule of law” in the sub-district: Party building, Party-building and self-governing.",
              "Zhōu’s neighbourhood committees’ work; the Party's committee, 2019 and 3.5 million residents.",
              "", "the of and", "Party", "building new urban social governance", "Grass-roots Party building",
              "big data", "Big data and urban social governance; party building-led big data"]


@pytest.mark.parametrize("changes", [{}, {"use_glossary": False}, {"lemmatize": False}, {"remove_stopwords": False},
                                     {"keep_numbers": True}])
def test_encoded_texts_are_what_counted_gives_each_text(changes):
    # the count table's arrays' path, on many texts at once, against counted() one text at a time
    from conftest import SEED_MANIFEST
    from discourselab import load_corpus

    texts = HARD_TEXTS + load_corpus(SEED_MANIFEST).paragraphs["text"].tolist() + HARD_TEXTS[::-1]
    pipe, reference = TextPipeline(**changes), TextPipeline(**changes)
    term, words, text = pipe._encode(texts)
    names = pipe._vocabulary.terms + [None]  # number -1: no term
    assert (np.diff(text) >= 0).all()
    for i, one in enumerate(texts):
        mine = text == i
        assert ([names[t] for t in term[mine]], words[mine].tolist()) == reference.counted(one), one
    again = pipe._encode(texts[:3])  # learned tokens are looked up, not learned again
    assert [a.tolist() for a in again] == [a[text < 3].tolist() for a in (term, words, text)]


@pytest.mark.parametrize("changes", [{}, {"use_glossary": False}, {"keep_numbers": True}])
def test_count_texts_equals_count_vectorizer_on_terms(changes):
    from conftest import SEED_MANIFEST
    from discourselab import load_corpus
    from sklearn.feature_extraction.text import CountVectorizer

    texts = HARD_TEXTS + load_corpus(SEED_MANIFEST).paragraphs["text"].tolist()
    vectorizer = CountVectorizer(analyzer=TextPipeline(**changes).terms)
    expected = vectorizer.fit_transform(texts)
    pipe = TextPipeline(**changes)
    counts, vocabulary = pipe.count_texts(texts)
    assert list(vocabulary) == list(vectorizer.get_feature_names_out())
    assert counts.shape == expected.shape and counts.dtype == expected.dtype and (counts != expected).nnz == 0
    # the same pipeline again, on fewer texts: only the terms of those texts
    counts, vocabulary = pipe.count_texts(texts[:2])
    expected = vectorizer.fit_transform(texts[:2])
    assert list(vocabulary) == list(vectorizer.get_feature_names_out()) and (counts != expected).nnz == 0
    counts, vocabulary = pipe.count_texts([])
    assert counts.shape == (0, 0) and len(vocabulary) == 0


def test_texts_split_into_parts_of_about_equal_length():
    from discourselab.text import _even_parts

    assert _even_parts([100] + [1] * 100, 2) == [0, 1, 101]  # one long text: a part of its own
    assert _even_parts([1] * 10, 2) == [0, 5, 10]
    assert _even_parts([1] * 10, 3) == [0, 4, 7, 10]
    assert _even_parts([5], 2) == [0, 1] and _even_parts([], 2) == [0]


def test_count_texts_in_parallel_gives_the_same_counts(monkeypatch):
    import discourselab.text as text_module
    from conftest import SEED_MANIFEST
    from discourselab import load_corpus

    texts = load_corpus(SEED_MANIFEST).paragraphs["text"].tolist()
    monkeypatch.setattr(text_module, "PARALLEL_TEXTS", 10)
    single, terms = TextPipeline().count_texts(texts)
    parallel, parallel_terms = TextPipeline().count_texts(texts, n_jobs=2)
    assert list(terms) == list(parallel_terms)
    assert (single != parallel).nnz == 0 and single.shape == parallel.shape


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_count_by_sums_each_labels_texts(n_jobs):
    from conftest import SEED_MANIFEST
    from discourselab import load_corpus

    paragraphs = load_corpus(SEED_MANIFEST).paragraphs
    per_text, terms = TextPipeline().count_texts(paragraphs["text"])
    expected = pd.DataFrame(per_text.toarray(), columns=terms).groupby(paragraphs["doc_id"].to_numpy(), sort=False).sum()
    # batches of 50 paragraphs: several batches, so n_jobs=2 counts them in two worker processes
    pairs = zip(paragraphs["doc_id"], paragraphs["text"])  # a one-pass stream, not a list
    counts, labels, vocabulary = TextPipeline().count_by(pairs, n_jobs=n_jobs, batch=50)
    assert labels == list(dict.fromkeys(paragraphs["doc_id"]))  # in order of first appearance
    assert list(vocabulary) == list(terms)
    assert (counts.toarray() == expected.loc[labels].to_numpy()).all()


def test_count_by_of_nothing():
    counts, labels, vocabulary = TextPipeline().count_by([])
    assert counts.shape == (0, 0) and labels == [] and len(vocabulary) == 0


def test_token_table_holds_what_analyze_gives(pipe):
    # repeated new words within one paragraph, stop words, numbers and a second paragraph reusing them
    texts = ["The masses and the masses’ own 12% share of the big data", "Big data for the masses, again the"]
    paragraphs = pd.DataFrame({"doc_id": ["d", "d"], "paragraph_id": ["d:1", "d:2"], "text": texts})
    table = pipe.token_table(paragraphs)
    expected = [token for text in texts for token in pipe.analyze(text)]
    assert table["token"].tolist() == [t[0] for t in expected]
    assert [None if pd.isna(t) else t for t in table["term"]] == [t[1] for t in expected]
    assert table[["words", "start", "end"]].to_numpy().tolist() == [list(t[2:]) for t in expected]
    assert list(table["term"].cat.categories) == sorted({t[1] for t in expected if t[1]})


@pytest.mark.parametrize("changes", [{}, {"use_glossary": False}, {"lemmatize": False}, {"remove_stopwords": False},
                                     {"keep_numbers": True}])
def test_counted_is_analyze_without_surfaces(changes):
    # the count table's fast path gives every token's term and running words as analyze does: split forms
    # ("building-led"), expressions with a stop word inside, possessives, numbers, typography, non-ASCII words
    texts = ["Party building-led governance of the grass-roots Party organizations, 56% of 1,200 members.",
             "The people’s “rule of law” in the sub-district: Party building, Party-building and self-governing.",
             "Zhōu’s neighbourhood committees’ work; the Party's committee, 2019 and 3.5 million residents.",
             "", "the of and", "Party"]
    pipe = TextPipeline(Settings(**changes))
    for text in texts:
        tokens = pipe.analyze(text)
        assert pipe.counted(text) == ([t[1] for t in tokens], [t[2] for t in tokens]), text
    if not pipe.settings.keep_numbers:  # (with numbers kept, counted is analyze)
        assert any(len(pipe._fast[raw][0]) > 1 for raw in pipe._fast)  # a token with two forms was among them
