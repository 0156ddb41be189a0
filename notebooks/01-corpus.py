# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 01 · The corpus
# What the corpus holds, how large each piece and group is, what was left out of the raw files and why, and how varied each piece's vocabulary is.

# %% tags=["parameters"]
# Parameters (papermill). None means the project's default: the seed corpus.
manifest = None
out_dir = None
by = None
seed = 0

# %%
import pandas as pd
from IPython.display import Markdown, display

import discourselab as dl
from discourselab import plots
from discourselab.io import show_figure, write_table
from discourselab.study import open_study

study = open_study(manifest, out_dir, by, seed)
pieces = study.pieces
group = "role" if "role" in study.by else study.by[-1]
pd.set_option("display.max_colwidth", 60)

# %% [markdown]
# ## Pieces, authors and sources

# %%
n_pieces, n_authors, n_words = len(pieces), pieces["author"].nunique(), int(pieces["words"].sum())
sizes = pieces.groupby(group)["doc_id"].count().sort_values(ascending=False)
single = [g for g, n in sizes.items() if n == 1]
display(Markdown(
    f"The corpus has **{n_pieces} pieces** by **{n_authors} authors**, **{n_words:,} words** in all "
    f"(median {int(pieces['words'].median()):,} words a piece, from {int(pieces['words'].min()):,} "
    f"to {int(pieces['words'].max()):,}), taken from {pieces['file'].nunique()} source files. "
    f"By {group}: " + ", ".join(f"{g} {n}" for g, n in sizes.items()) + "."
    + (f" **{len(single)} of the {group} groups hold a single piece** ({', '.join(single)}): "
       "what distinguishes such a group is one author's writing, not a group's." if single else "")
))
columns = [c for c in ["doc_id", "author", "role", "date", "venue", "words", "paragraphs"] if c in pieces]
display(pieces[columns].set_index("doc_id"))

# %% [markdown]
# Notes on the corpus and on decisions about it, from the manifest's `note` column and the `README.md` beside the manifest (when there are any):

# %%
notes_file = study.corpus.manifest_path.parent / "README.md"
if notes_file.is_file():
    display(Markdown(notes_file.read_text(encoding="utf-8")))
if "note" in pieces and (pieces["note"] != "").any():
    display(pieces.loc[pieces["note"] != "", ["doc_id", "note"]].set_index("doc_id"))
else:
    display(Markdown("_The manifest has no notes._"))

# %% [markdown]
# ## Size of each piece and group

# %%
fig = plots.plot_piece_sizes(pieces, color_by=group)
show_figure(fig, "corpus-piece-sizes", study.out_dir)

# %%
fig = plots.plot_group_sizes(pieces, by=group)
show_figure(fig, "corpus-group-sizes", study.out_dir)
shares = (pieces.groupby(group)["words"].sum() / n_words).sort_values(ascending=False)
smallest = f"{shares.iloc[-1]:.0%}" if shares.iloc[-1] >= 0.005 else "less than 1%"  # not "0%"
display(Markdown(
    f"The largest {group} group, *{shares.index[0]}*, holds {shares.iloc[0]:.0%} of all words; the smallest, "
    f"*{shares.index[-1]}*, {smallest}. Counts from groups this unequal are compared as rates "
    "per 1,000 words in the later notebooks, and small groups are flagged where the evidence is thin."
))

# %% [markdown]
# ## What was left out of the raw files
# Every line of every raw file is either in a paragraph of exactly one piece or listed in the audit table (`tables/audit.csv`) with the reason it was left out. Exclusion rules are declared in data (`exclusions.csv` beside the manifest), never in code.

# %%
audit = study.corpus.audit
n_paragraphs = int(pieces["paragraphs"].sum())
n_lines = len(audit) + n_paragraphs
summary = audit.groupby("reason").agg(lines=("line", "size"), files=("file", "nunique"),
                                      example=("text", lambda s: next((t for t in s if t.strip()), "")[:70]))
display(Markdown(
    f"Of {n_lines:,} raw lines, {n_paragraphs:,} are paragraphs of a piece and "
    f"{len(audit):,} were left out, {int((audit['reason'] == 'blank line').sum()):,} of them blank."
))
display(summary.sort_values("lines", ascending=False))

# %% [markdown]
# ## Lexical diversity
# The plain type/token ratio (TTR) falls as a text grows, so it would rank short pieces as "richer" whatever their vocabulary. The moving-average type/token ratio (MATTR; Covington and McFall 2010) averages the TTR over every window of a fixed number of words, so it does not depend on length.

# %%
diversity = dl.measure_diversity(study.corpus.piece_texts())
diversity = diversity.merge(pieces[["doc_id", group]], on="doc_id")
write_table(diversity, "diversity", study.out_dir)
fig = plots.plot_diversity(diversity, color_by=diversity[group])
show_figure(fig, "corpus-lexical-diversity", study.out_dir)

# %%
rho_ttr = diversity["tokens"].corr(diversity["ttr"], method="spearman")
rho_mattr = diversity["tokens"].corr(diversity["mattr"], method="spearman")
top, bottom = diversity.nlargest(1, "mattr").iloc[0], diversity.nsmallest(1, "mattr").iloc[0]
by_group = diversity.groupby(group)["mattr"].agg(["mean", "min", "max", "count"]).sort_values("mean")
short = diversity.loc[diversity["short"], "doc_id"].tolist()
display(Markdown(
    f"Across the {len(diversity)} pieces, TTR and length have a Spearman correlation of {rho_ttr:.2f}; "
    f"MATTR and length, {rho_mattr:.2f}. MATTR ranges from {bottom['mattr']:.3f} (*{bottom['doc_id']}*) "
    f"to {top['mattr']:.3f} (*{top['doc_id']}*). With {len(diversity)} pieces these are descriptions of "
    "these texts, not estimates for any wider population of authors."
    + (f" Pieces no longer than the window ({', '.join(short)}) fall back to the plain TTR." if short else "")
))
display(by_group.round(3))
