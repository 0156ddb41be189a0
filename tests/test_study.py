"""Study-level tables: the columns the issue names, for every grouping."""

from __future__ import annotations

import pandas as pd
import pytest

from discourselab.frequency import FREQUENCY_COLUMNS
from discourselab.keyness import KEYNESS_COLUMNS
from discourselab.study import open_study, variant_usage

REQUIRED_KEYNESS = ["by", "group", "reference", "term", "count_group", "count_reference", "words_group",
                    "words_reference", "g2", "p", "q", "log_ratio", "pct_diff", "log_odds_z"]
REQUIRED_FREQUENCIES = ["by", "group", "term", "count", "per_1000", "pieces", "paragraphs", "dp"]


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    from conftest import MINI
    return open_study(MINI / "corpus.csv", tmp_path_factory.mktemp("out"))


def test_frequency_table(study):
    table = study.frequencies()
    assert set(REQUIRED_FREQUENCIES) <= set(table.columns) and list(table.columns) == FREQUENCY_COLUMNS
    assert set(table["by"]) == {"doc_id", "author", "role"}
    # counts per group add up to the counted terms of the token table
    for column in ("doc_id", "role"):
        assert table.loc[table["by"] == column, "count"].sum() == study.tokens["term"].notna().sum()


def test_frequency_tables_are_the_count_terms_of_each_level_a_few_groups_at_a_time(study):
    from discourselab.frequency import count_terms

    levels = ["doc_id", *study.by]
    whole = pd.concat([count_terms(study.counts, study.pieces, b) for b in levels], ignore_index=True)
    parts = list(study.frequency_tables(groups_per_table=2))
    assert len(parts) == sum(-(-study.pieces[b].nunique() // 2) for b in levels)
    assert all(part["group"].nunique() <= 2 for part in parts)
    pd.testing.assert_frame_equal(pd.concat(parts, ignore_index=True), whole)
    pd.testing.assert_frame_equal(study.frequencies(), whole)


def test_keyness_table(study):
    table = study.keyness()
    assert set(REQUIRED_KEYNESS) <= set(table.columns) and list(table.columns) == KEYNESS_COLUMNS
    roles = table[table["by"] == "role"]
    assert set(roles["reference"]) == {"rest", "office"}  # two roles: group vs rest, and the pair
    # words_group + words_reference is the corpus size in every group-vs-rest row
    rest = table[table["reference"] == "rest"]
    assert (rest["words_group"] + rest["words_reference"]).nunique() == 1


def test_glossary_switch_changes_terms(study):
    plain = study.with_settings(use_glossary=False)
    assert "primary-level" in set(plain.tokens["term"]) and "primary-level" not in set(study.tokens["term"])


def test_variant_usage(study):
    usage = variant_usage(study, by="file")
    grassroots = usage[usage["concept"] == "grassroots"]
    assert set(grassroots["variant"]) == {"grassroots", "primary-level"}
    assert grassroots.set_index("variant").loc["primary-level", "group"] == "texts/a.txt"
