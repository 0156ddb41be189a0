# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   discourselab:
#     cost: 2
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 03 · Distinctive vocabulary and similarity between authors
# Which terms set each piece, author and group apart (TF-IDF), which pieces resemble each other in what they say (cosine similarity) and in how they say it (Burrows' Delta), and whether pieces group by role, by author or by translator.

# %% tags=["parameters"]
# Parameters (papermill). None means the project's default: the seed corpus.
manifest = None
out_dir = None
by = None
seed = 0
mfw = 100  # most frequent words for Burrows' Delta

# %%
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from discourselab import plots
from discourselab.io import show_figure, write_table
from discourselab.similarity import FEW_PIECES, TFIDF_DEFAULTS, PairSquare, distinctive_terms, top_condensed_pairs
from discourselab.study import open_study

study = open_study(manifest, out_dir, by, seed)
pieces = study.pieces.set_index("doc_id", drop=False)
# Burrows' Delta (similarity.burrows_delta_pairs) reads every text: made and cached first, while little is held
study.delta_pairs(mfw)
group = "role" if "role" in study.by else study.by[-1]
pd.set_option("display.precision", 2)

# %% [markdown]
# ## Distinctive terms (TF-IDF)
# Each piece, author or group is one document; scikit-learn's TF-IDF is computed on the counts of the project's own text pipeline (the token table), so its terms are those of every other notebook. Beside each term: its raw count and how many paragraphs hold it, so that a term from a single passage shows as such.

# %%
levels = list(dict.fromkeys(["doc_id", *study.by]))
counts = study.count_parts()  # the term counts a part at a time: never all held
tfidf = pd.concat([distinctive_terms(counts, study.pieces, b, n=30) for b in levels], ignore_index=True)
write_table(tfidf, "tfidf", study.out_dir)
display(Markdown(f"Settings: {', '.join(f'`{k}={v}`' for k, v in TFIDF_DEFAULTS.items())} "
                 "(sublinear tf: 1 + log tf, so one repetitive passage does not dominate; smoothed idf)."))

# %%
MAX_PANELS = 16  # more panels than this would not be read
for level in [b for b in levels if b != "doc_id"]:
    rows = tfidf[tfidf["by"] == level]
    shown = pieces.groupby(level)["words"].sum().nlargest(MAX_PANELS).index
    fig = plots.plot_tfidf(rows[rows["group"].isin(shown)], n=8, ncols=4 if len(shown) > 6 else 3)
    show_figure(fig, f"tfidf-by-{level}", study.out_dir)
    if len(shown) < rows["group"].nunique():
        display(Markdown(f"The figure shows the {len(shown)} groups of *{level}* with the most words; "
                         f"all {rows['group'].nunique()} are in `tables/tfidf.csv`."))

# %%
top = tfidf[(tfidf["by"] == group) & (tfidf["rank"] <= 10)]
single_share = (top["paragraphs"] <= 1).mean()
display(Markdown(
    f"Of the ten top TF-IDF terms of each {group} group, {single_share:.0%} come from a single paragraph. "
    f"With only {pieces[group].nunique()} {group} documents, idf takes few distinct values "
    "(a term is in 1, 2, ... of them), so TF-IDF mostly ranks the terms a group has to itself by how often it uses them: "
    "read the counts beside the scores."
))

# %% [markdown]
# ## Similarity between pieces
# Cosine similarity of the pieces' TF-IDF vectors (what they talk about), and Burrows' Delta on the most frequent word forms, function words included and without lemmas (how they write). Delta is a distance: smaller means more alike.

# %%
names = study.pieces["doc_id"].tolist()
# the trees (cosine distance: 1 - similarity; Delta) from the values alone: SciPy clusters a copy of them
topic_tree, style_tree = study.similarity_trees(mfw)
# the cosine of the pieces' TF-IDF and Delta of every pair, written a million pairs at a time: no table of all
# of them is held (nor a square one), as for thousands of pieces it would be millions of rows
write_table(study.similarity_tables(mfw), "similarity", study.out_dir)
study.release()  # the counts and texts are done with (they stay in the cache)

# %%
from scipy.cluster.hierarchy import leaves_list

order = [names[i] for i in leaves_list(topic_tree)]
cosine = study.cosine_pairs()  # every pair once, in the order of the pieces
fig = plots.plot_similarity(PairSquare.of(cosine, names, "cosine"), order=order, groups=pieces[group],
                            title="cosine similarity (TF-IDF)")
show_figure(fig, "similarity-cosine-heatmap", study.out_dir)
closest = top_condensed_pairs(cosine, study.pieces, "cosine", 3)  # no table of the pairs
low, high = cosine.min(), cosine.max()
middle = np.median(cosine, overwrite_input=True)  # without a copy: the values are partly sorted, and read no more
display(Markdown(
    f"Cosine similarities between pieces range from {low:.2f} to {high:.2f} (median {middle:.2f}). The closest pairs: "
    + "; ".join(f"{r.piece_a} and {r.piece_b} ({r.cosine:.2f})" for r in closest.itertuples()) + "."
))
del cosine, closest

# %%
fig = plots.plot_dendrograms(
    [(topic_tree, "Topic: TF-IDF cosine (average linkage)"), (style_tree, f"Style: Burrows' Delta, {mfw} MFW")],
    names, color_by=pieces[group], mark_by=pieces["file"].str.rsplit("/", n=1).str[-1].rename("source file"),
)
show_figure(fig, "similarity-dendrograms", study.out_dir)

# %% [markdown]
# ## Do pieces group by role, by author or by source file?
# When each source file was translated by a different person (as in the seed corpus), the file stands for the translator. If pieces from one file resemble each other more than pieces of one role do, the translator's hand is part of what the comparison measures. For each grouping, the table compares the mean similarity of pairs in the same group with that of pairs in different groups; the p-value comes from shuffling the group labels over the pieces (999 times, seeded).

# %%
columns = [c for c in dict.fromkeys([group, "author", "file"]) if c in pieces]
tests = study.similarity_tests(columns, mfw=mfw)  # grouping_tests of each column (cached for notebook 00)
tests["p (closer within)"] = tests["p_greater"].where(tests["value"] == "cosine", tests["p_less"])
write_table(tests, "similarity_grouping", study.out_dir)
display(tests[["column", "value", "same_pairs", "within", "between", "difference", "p (closer within)"]])


# %%
def verdict(column, value):
    row = tests[(tests["column"] == column) & (tests["value"] == value)].iloc[0]
    if pd.isna(row["difference"]):
        return f"cannot be tested by *{column}* (no two pieces share a value)"
    p = row["p (closer within)"]
    return (f"pieces of the same *{column}* are {'closer' if p < 0.05 else 'not reliably closer'} "
            f"({value} {row['within']:.2f} within against {row['between']:.2f} between, permutation p = {p:.3f}, "
            f"{row['same_pairs']} same-{column} pairs)")


display(Markdown("\n".join(f"- {value.capitalize()}: " + "; ".join(verdict(c, value) for c in columns) + "."
                           for value in ("cosine", "delta"))))
def p_of(column, value):
    row = tests[(tests["column"] == column) & (tests["value"] == value)]
    return row["p (closer within)"].iloc[0] if len(row) else float("nan")


# the file can be told apart from the group only where some file holds two pieces and there are several files
if "file" in columns and group != "file" and pieces["file"].nunique() > 1 and pieces["file"].duplicated().any():
    better = [v for v in ("cosine", "delta") if p_of("file", v) <= p_of(group, v)]
    comparison = (
        f"No two pieces share a {group}, so the {group} cannot be compared with the source file."
        if pd.isna(p_of(group, "cosine")) else
        f"The source file groups pieces at least as well as the {group} does on {' and '.join(better)}: "
        f"there, a difference between {group} groups may partly be a difference between translators."
        if better else
        f"The {group} groups pieces better than the source file does, on both topic and style "
        f"(p = {p_of(group, 'cosine'):.3f} and {p_of(group, 'delta'):.3f} for {group}, against "
        f"{p_of('file', 'cosine'):.3f} and {p_of('file', 'delta'):.3f} for file)"
        + (": the translators' hands do not explain the grouping."
           if min(p_of(group, "cosine"), p_of(group, "delta")) < 0.05
           else f"; but neither {group} test is below 0.05 either, so this is a hint at most, not a finding.")
    )
    overlap = (f"{group} and source file overlap ({pieces.groupby('file')[group].nunique().gt(1).sum()} file(s) "
               f"hold more than one {group}). ")
else:
    comparison = "The corpus has one source file per piece or only one file, so translation cannot be told apart here."
    overlap = ""
display(Markdown(
    (f"With {len(pieces)} pieces these tests have little power" + (f", and {overlap}" if overlap else ". ")
     if len(pieces) < FEW_PIECES else overlap[:1].upper() + overlap[1:]) + comparison
))
