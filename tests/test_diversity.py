"""MATTR against values computed by hand."""

import math
import random

import pandas as pd
import pytest

from discourselab import mattr, measure_diversity


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
