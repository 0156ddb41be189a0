"""MATTR against values computed by hand."""

import math
import random

import numpy as np
import pandas as pd
import pytest

from discourselab import mattr, measure_diversity
from discourselab.text import word_tokens


def test_mattr_by_hand():
    # windows of 3 over a b a b c: {a,b}=2/3, {a,b}=2/3, {a,b,c}=3/3 -> mean (2+2+3)/9 = 7/9
    assert mattr(list("ababc"), window=3) == pytest.approx(7 / 9)


def test_mattr_constant_and_all_different():
    assert mattr(["x"] * 20, window=5) == pytest.approx(1 / 5)
    assert mattr([str(i) for i in range(20)], window=5) == pytest.approx(1.0)


def test_mattr_equals_the_definition_on_random_texts():
    # the definition itself: the type/token ratio of every window, averaged
    rng = random.Random(3)
    for n, window, types in [(60, 5, 4), (200, 50, 30), (51, 50, 10), (120, 7, 200)]:
        tokens = [str(rng.randrange(types)) for _ in range(n)]
        ratios = [len(set(tokens[s:s + window])) / window for s in range(n - window + 1)]
        assert mattr(tokens, window) == pytest.approx(sum(ratios) / len(ratios))


def test_mattr_short_text_falls_back_to_ttr():
    assert mattr(list("aab"), window=50) == pytest.approx(2 / 3)
    assert math.isnan(mattr([], window=5))


def test_measure_diversity_columns():
    pieces = pd.DataFrame({"doc_id": ["x", "y"], "text": ["The cat saw the cat.", "One two three four"]})
    table = measure_diversity(pieces, window=3)
    assert table.columns.tolist() == ["doc_id", "tokens", "types", "ttr", "mattr", "window", "short"]
    # x: the cat saw the cat -> 5 tokens, 3 types; windows {the,cat,saw}=1, {cat,saw,the}=1, {saw,the,cat}=1
    assert table.loc[0, ["tokens", "types"]].tolist() == [5, 3]
    assert table.loc[0, "ttr"] == pytest.approx(3 / 5)
    assert table.loc[0, "mattr"] == pytest.approx(1.0)
    pd.testing.assert_frame_equal(measure_diversity(zip(pieces["doc_id"], pieces["text"]), window=3), table)


def test_mattr_of_codes_is_mattr_of_the_words():
    # measure_diversity gives mattr the words' codes (any integers, one per word) instead of the strings
    rng = random.Random(5)
    for n, window in [(300, 50), (40, 50), (120, 7)]:
        words = [rng.choice(["a", "b", "people", "city", "the", "order"]) for _ in range(n)]
        code_of = {w: c for c, w in zip(rng.sample(range(10**6), 6), sorted(set(words)))}
        codes = np.array([code_of[w] for w in words], dtype=np.int32)
        assert mattr(codes, window) == mattr(words, window)


def test_measure_diversity_is_that_of_the_word_tokens():
    rng = random.Random(8)
    vocabulary = ["people's", "City", "district", "sub‑district", "Order", "the", "42", "—", "grass-roots"]
    texts = [(f"p{i}", " ".join(rng.choice(vocabulary) for _ in range(n))) for i, n in enumerate([0, 3, 60, 500])]
    table = measure_diversity(texts, window=20).set_index("doc_id")
    for doc_id, text in texts:
        words = word_tokens(text)
        row = table.loc[doc_id]
        assert (row["tokens"], row["types"], row["short"]) == (len(words), len(set(words)), len(words) <= 20)
        if words:
            assert row["ttr"] == len(set(words)) / len(words) and row["mattr"] == mattr(words, 20)
        else:
            assert math.isnan(row["ttr"]) and math.isnan(row["mattr"])


def test_mattr_a_block_of_positions_at_a_time_is_mattr(monkeypatch):
    import discourselab.diversity as diversity

    rng = random.Random(9)
    for n, window, types in [(200, 50, 30), (120, 7, 200), (300, 5, 4)]:
        tokens = [str(rng.randrange(types)) for _ in range(n)]
        ratios = [len(set(tokens[s:s + window])) / window for s in range(n - window + 1)]
        codes = pd.factorize(pd.Series(tokens))[0].astype(np.int32)
        for block in (1, 7, 64, 1 << 16):  # a type's last position carried from block to block
            monkeypatch.setattr(diversity, "MATTR_BLOCK", block)
            assert mattr(tokens, window) == pytest.approx(sum(ratios) / len(ratios))
            assert mattr(codes, window) == mattr(tokens, window)
            # integers that are not small codes (negative, or far apart) are numbered afresh
            assert mattr(codes.astype(np.int64) * 10**12 - 5, window) == mattr(tokens, window)
