"""Keyness statistics against published values and values worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2

from discourselab.keyness import (bh_rejects, chi2_sf_1, compare_groups, key_terms, keyness_stats, log_likelihood, log_odds_z, log_ratio,
                                  log_ratio_interval, percent_diff)


def test_g2_dunning_1993():
    # Dunning (1993, p. 72): the table (10, 0, 3, 31764) gives G2 = 167.23.
    # As [[a, b], [n1 - a, n2 - b]]: a = 10, b = 0, n1 = 13, n2 = 31764.
    assert log_likelihood(10, 0, 13, 31764) == pytest.approx(167.23, abs=0.005)


def test_g2_by_hand():
    # a=20 of 100, b=10 of 100: E = 15 and 85 in each column.
    # G2 = 2 * (20 ln(20/15) + 10 ln(10/15) + 80 ln(80/85) + 90 ln(90/85))
    #    = 2 * (5.75364 - 4.05465 - 4.84997 + 5.14426) = 2 * 1.99328 = 3.98656
    assert log_likelihood(20, 10, 100, 100) == pytest.approx(3.98656, abs=1e-4)


def test_log_ratio_and_pct_diff_gabrielatos_marchi_2011():
    # 206,523 of 959,641 words against 178,174 of 1,562,358: %DIFF = 88.7, Log Ratio = 0.916
    args = (206_523, 178_174, 959_641, 1_562_358)
    assert percent_diff(*args) == pytest.approx(88.7, abs=0.05)
    assert log_ratio(*args) == pytest.approx(0.916, abs=0.0005)


def test_zero_adjustment():
    # a zero count is replaced by 0.5: log2((4/100) / (0.5/100)) = log2(8) = 3
    assert log_ratio(4, 0, 100, 100) == pytest.approx(3.0)
    assert percent_diff(4, 0, 100, 100) == pytest.approx(700.0)  # (0.04 - 0.005) / 0.005 * 100


def test_log_odds_z_by_hand():
    # Group: 10 of 100 words; reference: 5 of 200; prior from the whole corpus: alpha_w = 15,
    # alpha_0 = 300.
    # delta = ln((10+15)/(100+300-10-15)) - ln((5+15)/(200+300-5-15)) = ln(25/375) - ln(20/480)
    #       = ln(0.0666667 / 0.0416667) = ln(1.6) = 0.470004
    # var = 1/25 + 1/20 = 0.09, sd = 0.3 -> z = 0.470004 / 0.3 = 1.566679
    assert log_odds_z(10, 5, 100, 200, 15, 300) == pytest.approx(1.566679, abs=1e-6)
    assert log_odds_z(5, 10, 200, 100, 15, 300) == pytest.approx(-1.566679, abs=1e-6)


def test_signs_p_and_bh_q():
    a, b = np.array([30, 5, 12, 8]), np.array([10, 25, 12, 9])
    stats = keyness_stats(a, b, 1000, 1000, a + b, 2000)
    assert (np.sign(stats["g2"]) == [1, -1, 0, -1]).all()
    assert np.allclose(stats["p"], chi2.sf(stats["g2"].abs(), 1))
    # Benjamini-Hochberg by hand: q_(i) = min over j >= i of p_(j) * m / j
    p = stats["p"].to_numpy()
    order = np.argsort(p)
    ranked = p[order] * len(p) / np.arange(1, len(p) + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1].clip(max=1)
    assert np.allclose(stats["q"].to_numpy()[order], q)


def test_bh_rejects_equals_q_below_alpha():
    from scipy.stats import false_discovery_control

    # by hand: p = 0.01, 0.04, 0.03, 0.2 (m = 4); sorted 0.01, 0.03, 0.04, 0.2 give p * m / rank =
    # 0.04, 0.06, 0.0533, 0.2, running minimum from the top 0.04, 0.0533, 0.0533, 0.2: only 0.01 is below 0.05
    assert bh_rejects([0.01, 0.04, 0.03, 0.2], 0.05).tolist() == [True, False, False, False]
    assert bh_rejects([0.01, 0.04, 0.03, 0.2], 0.06).tolist() == [True, True, True, False]
    rng = np.random.default_rng(7)
    for _ in range(200):
        m = int(rng.integers(1, 60))
        # a mix of tiny and ordinary p-values, with ties and exact zeros and ones, rows of one grid
        p = np.round(rng.choice([1e-4, 1e-2, 1.0], size=(3, m)) * rng.random((3, m)), 3)
        for alpha in (0.01, 0.05, 0.2):
            assert (bh_rejects(p, alpha) == (false_discovery_control(p, axis=-1) < alpha)).all()
    assert bh_rejects(np.zeros((2, 0)), 0.05).shape == (2, 0)


@pytest.fixture
def grouped():
    rows = []
    paragraphs = {("a1", "a1:1"): "gov gov gov gov gov gov party x", ("a2", "a2:1"): "gov gov party party y",
                  ("b1", "b1:1"): "party party party party union union union union",
                  ("c1", "c1:1"): "party gov z z z z"}
    for (doc, para), text in paragraphs.items():
        for i, term in enumerate(text.split()):
            rows.append({"doc_id": doc, "paragraph_id": para, "position": i, "token": term, "term": term, "words": 1})
    pieces = pd.DataFrame({"doc_id": ["a1", "a2", "b1", "c1"], "role": ["A", "A", "B", "C"]})
    return pd.DataFrame(rows), pieces


def test_compare_groups_rest_and_pairs(grouped):
    tokens, pieces = grouped
    table = compare_groups(tokens, pieces, "role", pairs=[("A", "B")], min_count=1)
    gov = table[(table["group"] == "A") & (table["reference"] == "rest") & (table["term"] == "gov")].iloc[0]
    # A: 13 words, gov 8; rest: 14 words, gov 1
    assert (gov["count_group"], gov["count_reference"], gov["words_group"], gov["words_reference"]) == (8, 1, 13, 14)
    assert gov["g2"] == pytest.approx(log_likelihood(8, 1, 13, 14)) and gov["g2"] > 0
    pair = table[(table["group"] == "A") & (table["reference"] == "B")].set_index("term")
    assert pair.loc["union", "count_reference"] == 4 and pair.loc["union", "g2"] < 0
    assert set(table["reference"]) == {"rest", "B"}


def test_compare_groups_filters_and_weak_flags(grouped):
    tokens, pieces = grouped
    table = compare_groups(tokens, pieces, "role", min_count=3)
    assert table["count_group"].add(table["count_reference"]).min() >= 3  # x, y (1 each) left out
    assert "x" not in set(table["term"])
    z = table[(table["group"] == "C") & (table["term"] == "z")].iloc[0]
    assert z["weak"] and "in one paragraph only" in z["weak_reason"]
    gov = table[(table["group"] == "A") & (table["term"] == "gov")].iloc[0]
    assert "expected count < 5" in gov["weak_reason"]  # tiny corpus: every expected count is small


def test_key_terms_both_directions(grouped):
    tokens, pieces = grouped
    table = compare_groups(tokens, pieces, "role", min_count=1)
    top = key_terms(table, "A", n=2)
    assert top["log_ratio"].is_monotonic_decreasing
    assert (top["g2"] > 0).any() and (top["g2"] < 0).any()
    assert "significant" in top


def test_log_ratio_interval_by_hand():
    # a = 10 of 1,000 words, b = 20 of 4,000: rates 0.01 and 0.005, Log Ratio log2(2) = 1.
    # SE of ln(rate ratio) = sqrt(1/10 + 1/20) = 0.3872983; on the log2 scale / ln 2 = 0.5587540.
    # 95%: z = 1.959964, half width 1.0951365 -> (-0.0951365, 2.0951365).
    low, high = log_ratio_interval(10, 20, 1000, 4000)
    assert low == pytest.approx(-0.0951365, abs=1e-6) and high == pytest.approx(2.0951365, abs=1e-6)
    # a zero count is replaced by 0.5, as in log_ratio: sqrt(1/0.5 + 1/20) = 1.4317821
    low, high = log_ratio_interval(0, 20, 1000, 4000)
    centre = np.log2((0.5 / 1000) / (20 / 4000))
    assert high - centre == pytest.approx(1.959964 * 1.4317821 / np.log(2), abs=1e-5)


def test_chi2_tail_with_one_degree_of_freedom_equals_scipy():
    x = np.array([-1e-15, 0.0, 1e-9, 0.5, 3.841458820694124, 10.83, 167.23, 700.0])
    assert np.allclose(chi2_sf_1(x), chi2.sf(x, df=1), rtol=1e-12, atol=0)
    assert chi2_sf_1(3.841458820694124) == pytest.approx(0.05)  # the 5% critical value


def test_stacked_tables_are_their_concatenation_made_a_column_at_a_time():
    from discourselab.keyness import _stacked

    frames = [pd.DataFrame({"term": pd.array(terms, dtype="str"), "count": counts, "g2": g2, "weak": weak})
              for terms, counts, g2, weak in ((["a", "b"], [3, 1], [2.5, -1.0], [False, True]),
                                              ([], [], [], []),
                                              (["c"], [7], [0.25], [False]))]
    for frame in frames[1:2]:
        frame["count"] = frame["count"].astype("int64")
        frame["weak"] = frame["weak"].astype(bool)
    expected = pd.concat(frames, ignore_index=True)
    tables = [{column: frame[column] for column in frame} for frame in frames]
    got = _stacked(tables, list(expected.columns))
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert tables == [{}, {}, {}]  # every column let go once joined
    assert list(_stacked([], ["term", "g2"]).columns) == ["term", "g2"]


@pytest.mark.parametrize("n", [1, 2, 5])
def test_key_terms_of_the_candidate_rows_are_those_of_the_whole_table(n):
    from discourselab.keyness import key_term_candidates, key_terms

    rng = np.random.default_rng(n)
    size = 600
    table = pd.DataFrame({
        "by": rng.choice(["author", "role"], size), "group": rng.choice(["a", "b", "c"], size),
        "reference": rng.choice(["rest", "b"], size), "term": [f"t{i}" for i in range(size)],
        "g2": rng.choice([-9.0, -3.0, -1.0, 0.0, 1.0, 2.0, 3.0, 9.0, np.nan], size),  # many ties
        "q": rng.choice([0.01, 0.2], size), "weak": rng.random(size) < 0.3,
        "log_ratio": rng.normal(size=size),
    })
    keep = key_term_candidates(table, n)
    assert 0 < keep.sum() < size
    kept = table[keep]
    for (by, group, reference), _ in table.groupby(["by", "group", "reference"]):
        pd.testing.assert_frame_equal(key_terms(kept, group, reference, n=n, by=by),
                                      key_terms(table, group, reference, n=n, by=by))
    # no more than 3 n rows per comparison and side, none without a direction
    sides = np.sign(kept["g2"])
    assert kept.groupby([kept["by"], kept["group"], kept["reference"], sides]).size().max() <= 3 * n
    assert set(sides) <= {-1.0, 1.0}


@pytest.mark.parametrize("rows", [1, 5, 12, 10**6])
def test_comparison_tables_joined_are_compare_groups_table(grouped, rows):
    from discourselab.keyness import comparison_tables

    tokens, pieces = grouped
    whole = compare_groups(tokens, pieces, "role", pairs="all", min_count=1)
    tables = list(comparison_tables(tokens, pieces, "role", pairs="all", min_count=1, rows=rows))
    pd.testing.assert_frame_equal(pd.concat(tables, ignore_index=True), whole, check_exact=True)
    keys = [list(zip(t["group"], t["reference"])) for t in tables]
    assert all(not set(a) & set(b) for i, a in enumerate(keys) for b in keys[i + 1:])  # each comparison in one table
    assert all(t.index[0] == 0 for t in tables if len(t))
    # a table ends with the comparison that brings it to ``rows`` rows
    assert all(len(t) >= rows and len(t) - k.count(k[-1]) < rows for t, k in zip(tables[:-1], keys))
    n_comparisons = len(set(zip(whole["group"], whole["reference"])))
    assert len(tables) == {1: n_comparisons, 10**6: 1}.get(rows, len(tables)) and 1 < n_comparisons


def test_comparison_tables_without_a_tested_term_give_compare_groups_empty_table(grouped):
    from discourselab.keyness import KEYNESS_COLUMNS, comparison_tables

    tokens, pieces = grouped
    for terms in (tokens, tokens.iloc[:0]):  # comparisons without a term tested, and no comparison
        tables = list(comparison_tables(terms, pieces, "role", min_count=1000))
        assert len(tables) == 1
        pd.testing.assert_frame_equal(tables[0], compare_groups(terms, pieces, "role", min_count=1000))
        assert tables[0].empty and list(tables[0].columns) == KEYNESS_COLUMNS
