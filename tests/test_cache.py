"""The token-table cache: reused when nothing changed, rebuilt when a text or a word list changes."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from discourselab import cache
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
