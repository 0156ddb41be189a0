"""Leave-one-piece-out and glossary checks of key terms."""

from __future__ import annotations

import pandas as pd
import pytest

from discourselab.robustness import glossary_check, leave_one_out
from discourselab.text import Settings, TextPipeline

# Group A has two pieces. "harbour" is in both (a habit of the group); "lantern" in a1 only (one author's).
# Group B has two pieces about other things. Each paragraph repeats its words so that the counts are clear.
TEXTS = {
    "a1": "harbour lantern lantern lantern harbour lantern ferry. " * 4,
    "a2": "harbour harbour ferry meadow harbour. " * 4,
    "b1": "meadow orchard river orchard meadow river. " * 4,
    "b2": "orchard river meadow ferry orchard. " * 4,
}
PIECES = pd.DataFrame({"doc_id": list(TEXTS), "group": ["A", "A", "B", "B"]})


def tokens(settings: Settings | None = None) -> pd.DataFrame:
    paragraphs = pd.DataFrame({"doc_id": list(TEXTS), "paragraph_id": [f"{d}-1" for d in TEXTS],
                               "text": list(TEXTS.values())})
    return TextPipeline(settings or Settings()).token_table(paragraphs)


def test_leave_one_out_finds_the_piece_a_term_hangs_on():
    targets = pd.DataFrame({"group": ["A", "A"], "term": ["harbour", "lantern"]})
    result = leave_one_out(tokens(), PIECES, "group", targets).set_index("term")
    # four reruns, each with group A still present
    assert result["runs"].tolist() == [4, 4]
    # harbour: still overused by A whichever piece is left out
    assert result.loc["harbour", "held"] == 4 and result.loc["harbour", "breaking"] == ""
    # lantern: without a1 it is gone from A altogether
    assert result.loc["lantern", "held"] == 3 and result.loc["lantern", "breaking"] == "a1"
    assert result.loc["harbour", "log_ratio_min"] <= result.loc["harbour", "log_ratio_max"]


def test_a_group_losing_its_only_piece_does_not_count():
    pieces = pd.DataFrame({"doc_id": list(TEXTS), "group": ["A", "C", "B", "B"]})
    targets = pd.DataFrame({"group": ["A"], "term": ["lantern"]})
    result = leave_one_out(tokens(), pieces, "group", targets)
    assert result["runs"].tolist() == [3]


def test_glossary_check_reports_terms_that_need_it():
    # Group A writes "primary-level", group B "grassroots" a little: the glossary merges both into the
    # concept "grassroots", which A then overuses; without the glossary A never writes "grassroots".
    texts = {"a1": "primary-level ferry primary-level harbour. " * 5, "a2": "primary-level harbour ferry. " * 5,
             "b1": "meadow grassroots orchard river. " * 3, "b2": "orchard river meadow. " * 5}
    paragraphs = pd.DataFrame({"doc_id": list(texts), "paragraph_id": [f"{d}-1" for d in texts],
                               "text": list(texts.values())})
    merged = TextPipeline(Settings()).token_table(paragraphs)
    plain = TextPipeline(Settings(use_glossary=False)).token_table(paragraphs)
    targets = pd.DataFrame({"group": ["A", "A"], "term": ["grassroots", "harbour"]})
    assert glossary_check(merged, PIECES, "group", targets)["holds_without_glossary"].all()  # both key when merged
    result = glossary_check(plain, PIECES, "group", targets).set_index("term")
    assert result.loc["grassroots", "holds_without_glossary"] == False  # noqa: E712 (numpy bool)
    assert result.loc["harbour", "holds_without_glossary"] == True  # noqa: E712
    # from the keyness table without the glossary (as a study caches it): the same answer
    from discourselab.keyness import compare_groups

    keyness = compare_groups(plain, PIECES, "group", pairs="all").assign(by="group")
    pd.testing.assert_frame_equal(glossary_check(keyness, PIECES, "group", targets).set_index("term"), result)


def reruns(table, pieces, g, t):
    """compare_groups on the corpus without each piece in turn: the reruns where (g, t) is key, the pieces
    whose removal loses it, and its Log Ratios where it is found."""
    from discourselab.keyness import compare_groups

    held, breaking, ratios = 0, [], []
    for doc_id in pieces["doc_id"]:
        rerun = compare_groups(table[table["doc_id"] != doc_id], pieces[pieces["doc_id"] != doc_id], "group")
        row = rerun[(rerun["reference"] == "rest") & (rerun["group"] == g) & (rerun["term"] == t)]
        if len(row) and row["g2"].iat[0] > 0 and row["q"].iat[0] < 0.05:
            held += 1
            ratios.append(row["log_ratio"].iat[0])
        else:
            breaking.append(doc_id)
    return held, ";".join(breaking), ratios


def test_leave_one_out_equals_rerunning_compare_groups():
    # the subtraction shortcut must give what compare_groups gives on the corpus without the piece
    table, pieces = tokens(), PIECES
    targets = pd.DataFrame({"group": ["A", "A", "B", "B"], "term": ["harbour", "ferry", "orchard", "meadow"]})
    result = leave_one_out(table, pieces, "group", targets).set_index(["group", "term"])
    for g, t in zip(targets["group"], targets["term"]):
        held, _, ratios = reruns(table, pieces, g, t)
        assert result.loc[(g, t), "held"] == held, (g, t)
        if ratios:
            assert result.loc[(g, t), "log_ratio_max"] == pytest.approx(max(ratios))


def test_leave_one_out_without_key_terms_is_empty():
    targets = pd.DataFrame({"group": pd.Series(dtype=str), "term": pd.Series(dtype=str)})
    result = leave_one_out(tokens(), PIECES, "group", targets)
    assert result.empty and list(result.columns)[:3] == ["group", "term", "runs"]


def test_leave_one_out_equals_compare_groups_for_sure_and_borderline_terms():
    # A seeded corpus of 16 pieces in four groups, some words favoured by a group strongly, some a little.
    # The targets are all of A's, B's and C's key terms and a few that are not key: some rejected for sure
    # (p times the number of terms below alpha), some borderline, which need every term's p-value.
    import numpy as np

    from discourselab.keyness import compare_groups

    rng = np.random.default_rng(7)
    vocabulary = sorted({"".join(rng.choice(["ba", "ko", "ru", "mi", "te", "lo", "sa", "nu", "vi", "de"], 3))
                         for _ in range(60)})
    texts, groups = {}, {}
    for g, name in enumerate("ABCD"):
        weights = np.ones(len(vocabulary))
        weights[g * 5:g * 5 + 2] = 6.0  # strongly favoured
        weights[g * 5 + 2:g * 5 + 5] = 1.8  # a little
        for j in range(4):
            words = rng.choice(vocabulary, size=int(rng.integers(150, 400)), p=weights / weights.sum())
            texts[f"{name}{j}"], groups[f"{name}{j}"] = " ".join(words), name
    paragraphs = pd.DataFrame({"doc_id": list(texts), "paragraph_id": [f"{d}-1" for d in texts],
                               "text": list(texts.values())})
    table, _ = TextPipeline(Settings()).count_table(paragraphs)
    pieces = pd.DataFrame({"doc_id": list(groups), "group": list(groups.values())})
    full = compare_groups(table, pieces, "group")
    full = full[full["reference"] == "rest"]
    key = full[(full["g2"] > 0) & (full["q"] < 0.05) & full["group"].isin(["A", "B", "C"])]
    targets = pd.concat([key, full[(full["q"] > 0.5) & (full["group"] == "A")].head(3)])[["group", "term"]]
    tested = full.groupby("group")["term"].size().iloc[0]
    assert (key["p"] * tested < 0.05).any() and (key["p"] * tested >= 0.05).any()  # both kinds are checked
    result = leave_one_out(table, pieces, "group", targets).set_index(["group", "term"])
    for g, t in zip(targets["group"], targets["term"]):
        held, breaking, ratios = reruns(table, pieces, g, t)
        found = result.loc[(g, t)]
        assert (found["runs"], found["held"], found["breaking"]) == (16, held, breaking), (g, t)
        if ratios:
            assert (found["log_ratio_min"], found["log_ratio_max"]) == pytest.approx((min(ratios), max(ratios)))
    assert (result["held"] < result["runs"]).any() and (result["held"] > 0).any()
