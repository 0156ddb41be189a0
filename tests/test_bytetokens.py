"""The tokens of ASCII text found on its bytes, and numbered by their packed bytes: the same as the regular expression's."""

from __future__ import annotations

import random

import numpy as np
import pytest

from discourselab import TextPipeline
from discourselab.bytetokens import KEY_BYTES, KeyTable, ascii_spans, packed
from discourselab.text import _ASCII_TOKEN


def spans(text: str) -> list[tuple[int, int]]:
    starts, ends = ascii_spans(np.frombuffer(text.encode("ascii"), dtype=np.uint8))
    return list(zip(starts.tolist(), ends.tolist()))


@pytest.mark.parametrize("text", ["", "a", "9", "%", "don't", "e-mail", "a'-b", "a--b", "'a'", "-a-", "1.5%", "1%2",
                                  "1%%", "1.%", "1..2", "1,000.5", "a1b2", "x.y", "3-4", "a'1", "1.a", "end.\n1,2,",
                                  "it's 56% of 1,730 party-building-led"])
def test_spans_are_the_regular_expressions(text):
    assert spans(text) == [m.span() for m in _ASCII_TOKEN.finditer(text)]


def test_spans_of_random_text_are_the_regular_expressions():
    # every character that begins, joins or ends a token, in random strings; upper case is not a letter here
    draw = random.Random(0)
    alphabet = "ab z09.,'-%\n\tA!"
    for _ in range(20000):
        text = "".join(draw.choice(alphabet) for _ in range(draw.randint(0, 30)))
        assert spans(text) == [m.span() for m in _ASCII_TOKEN.finditer(text)], repr(text)


def test_packed_bytes():
    tokens = ["a", "ab", "abcdefgh", "abcdefghi", "abcdefghijklmnop", "abcdefghijklmnopq"]
    data = " ".join(tokens).encode("ascii")
    starts, ends = ascii_spans(np.frombuffer(data, dtype=np.uint8))
    low, high = packed(data, starts, ends)
    for token, lo, hi in zip(tokens, low.tolist(), high.tolist()):
        raw = token.encode("ascii")
        assert lo == int.from_bytes(raw[:8], "big")
        assert hi == int.from_bytes(raw[8:KEY_BYTES], "big")


def test_packing_is_one_to_one_up_to_key_bytes():
    draw = random.Random(1)
    tokens = sorted({"".join(draw.choice("ab") for _ in range(draw.randint(1, KEY_BYTES))) for _ in range(5000)})
    data = " ".join(tokens).encode("ascii")
    starts, ends = ascii_spans(np.frombuffer(data, dtype=np.uint8))
    low, high = packed(data, starts, ends)
    assert len(set(zip(low.tolist(), high.tolist()))) == len(tokens)


def test_table_finds_held_tokens_only():
    data = b"party building party buildingsandmorewords party buildingsandmorewordz"
    starts, ends = ascii_spans(np.frombuffer(data, dtype=np.uint8))
    low, high = packed(data, starts, ends)
    lengths = ends - starts
    table = KeyTable()
    assert table.find(low, high, lengths).tolist() == [-1] * 6
    table.add(low[:2], high[:2], np.array([7, 8]))
    assert table.find(low, high, lengths).tolist() == [7, 8, 7, -1, 7, -1]
    # a long token shares its first 16 bytes with another: never found by them
    table.add(low[3:4], high[3:4], np.array([9]))
    assert table.find(low, high, lengths).tolist() == [7, 8, 7, -1, 7, -1]


def test_table_leaves_out_a_key_held_for_other_bytes(monkeypatch):
    monkeypatch.setattr(KeyTable, "key", staticmethod(lambda low, high: np.zeros(len(low), dtype=np.uint64)))
    data = b"one two"
    starts, ends = ascii_spans(np.frombuffer(data, dtype=np.uint8))
    low, high = packed(data, starts, ends)
    table = KeyTable()
    table.add(low, high, np.array([1, 2]))
    assert len(table) == 1
    table.add(low[1:], high[1:], np.array([2]))  # and in a later chunk
    assert len(table) == 1
    assert table.find(low, high, ends - starts).tolist() == [1, -1]


#: ASCII, typography that folds to ASCII, text that stays non-ASCII, long words, empty texts and line breaks.
TEXTS = ["Party building-led governance, 56% of 1,200 members.", "", "The people’s “rule of law” — sub‑district",
         "Café naïve Zhōu’s neighbourhood; institutionalization internationalization", "the\nof and", "上海 社区 party",
         "Institutionalization of grass-roots self-governance", "1.5%, 2,000", "", "naïve café and the café"]


def sequential(pipe: TextPipeline, texts: list[str]) -> tuple[list[int], list[int]]:
    """What _token_numbers must give: each raw token numbered by its string, one text after another."""
    raws = [pipe._raw_tokens(text) for text in texts]
    return [pipe._vocabulary.index[raw] for tokens in raws for raw in tokens], [len(tokens) for tokens in raws]


@pytest.mark.parametrize("collide", [False, True])
def test_token_numbers_are_the_strings_numbers(collide, monkeypatch):
    # on every kind of text, and in chunks (the second one found in the table): the same numbers, learned in the
    # same order, as numbering each token's string in turn; also when every key collides
    from conftest import SEED_MANIFEST
    from discourselab import load_corpus

    if collide:
        monkeypatch.setattr(KeyTable, "key", staticmethod(lambda low, high: (low & np.uint64(3))))
    texts = TEXTS + load_corpus(SEED_MANIFEST).paragraphs["text"].tolist()[:40] + TEXTS[::-1]
    pipe, reference = TextPipeline(), TextPipeline()
    for chunk in (texts[:12], texts[12:], texts):
        numbers, lengths = pipe._token_numbers(chunk)
        expected, expected_lengths = sequential(reference, chunk)
        assert numbers.dtype == np.int32 and lengths.tolist() == expected_lengths
        assert numbers.tolist() == expected
    assert list(pipe._vocabulary.index) == list(reference._vocabulary.index)
    assert 0 < len(pipe._vocabulary.table) < len(pipe._vocabulary.index)  # long and non-ASCII tokens are not held


@pytest.mark.parametrize("texts", [[], [""], ["上海 社区", "café"], ["上海", "", "the party"], ["the party", "上海"]])
def test_token_numbers_of_few_texts(texts):
    numbers, lengths = TextPipeline()._token_numbers(texts)
    expected, expected_lengths = sequential(TextPipeline(), texts)
    assert numbers.tolist() == expected and lengths.tolist() == expected_lengths
