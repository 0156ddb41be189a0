# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   discourselab:
#     cost: 3
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 02 · Term frequencies and keyness
# Which concepts each group and each author uses more than the others, by how much, and how sure we can be; and how much of it is translation rather than authorship.

# %% tags=["parameters"]
# Parameters (papermill). None means the project's default: the seed corpus.
manifest = None
out_dir = None
by = None
seed = 0

# %%
import pandas as pd
from IPython.display import Markdown, display

from discourselab import plots
from discourselab.frequency import term_summary, top_terms
from discourselab.keyness import key_term_candidates
from discourselab.io import show_figure, write_table
from discourselab.phrases import propose_phrases
from discourselab.study import open_study, variant_usage

study = open_study(manifest, out_dir, by, seed)
pieces = study.pieces
group = "role" if "role" in study.by else study.by[-1]
pd.set_option("display.precision", 2)
pd.set_option("display.max_colwidth", None)  # lists of terms in full, not cut off with "..."

# %% [markdown]
# ## From text to terms
# One pipeline turns every paragraph into terms: typographic quotes and dashes folded, lower case, spelling variants folded (*grass-roots* → *grassroots*), lemmas (simplemma, offline), the translation-variant glossary (*primary-level* → *grassroots*), multiword expressions as single terms (*party building*), and stop words and numbers kept out of the counts. Every list is an editable data file (see the README).

# %%
n = term_summary(study.count_parts())  # from the term counts per paragraph, a part at a time
display(Markdown(
    f"The {len(pieces)} pieces give {n['tokens']:,} tokens, of which {n['terms']:,} are counted terms "
    f"({n['distinct']:,} distinct); {n['tokens'] - n['terms']:,} are stop words or numbers. "
    f"{n['phrases']:,} terms are multiword expressions from the phrase list."
))

# %% [markdown]
# **Phrase candidates.** Adjacent terms that occur together far more often than chance (NLTK's log-likelihood association measure), for a person to judge. Those that name one concept belong in `phrases.txt`; a rerun then counts them as one term.

# %%
candidates = propose_phrases(study.pairs, n=15)
write_table(candidates, "phrase_candidates", study.out_dir)
display(candidates)

# %% [markdown]
# ## The most frequent concepts per group

# %%
write_table(study.frequency_tables(), "frequencies", study.out_dir)  # a few hundred groups at a time
by_group = study.frequencies(by=[group])
fig = plots.plot_top_terms(by_group, n=10)
show_figure(fig, f"frequencies-top-terms-by-{group}", study.out_dir)

# %%
top = top_terms(by_group, n=3)
shared = set.intersection(*(set(top_terms(by_group, n=10).query("group == @g")["term"]) for g in by_group["group"].unique()))
lines = [f"- *{g}*: " + ", ".join(f"{r.term} ({r.per_1000:.1f} per 1,000 words, Gries' DP {r.dp:.2f})"
                                  for r in rows.itertuples()) for g, rows in top.groupby("group")]
display(Markdown(
    f"The three most frequent concepts of each {group} group:\n\n" + "\n".join(lines) + "\n\n"
    + (f"Among every group's ten most frequent: {', '.join(sorted(shared))}. " if shared else "")
    + "DP near 0 means a term is spread evenly over a group's paragraphs; near 1, that a few paragraphs hold it."
))

# %% [markdown]
# ## Keyness: each group against the rest
# For every term: log-likelihood G2 (signed, with its p-value and a Benjamini-Hochberg q-value over all terms tested), Log Ratio (each unit a doubling of the rate), %DIFF, and the weighted log-odds z-score with a whole-corpus prior. A term is flagged **weak** (†) when its expected count is below 5 and G2 stays under 15.13, when it comes from a single paragraph, or when one of a group's several pieces holds all of it. All columns are in `tables/keyness.csv`.

# %%
# every grouping column's table in turn, a few comparisons at a time (each cached on its own): it is never held whole
write_table((table for column in study.by for table in study.keyness_tables(column)), "keyness", study.out_dir)
keyness = study.keyness(by=[group])
study.release()  # the term counts are done with: what follows reads the keyness tables
rest = keyness[keyness["reference"] == "rest"]
fig = plots.plot_keyness(rest, n=6)
show_figure(fig, f"keyness-{group}-vs-rest", study.out_dir)


# %%
def strongest(table, g):
    """The group's most overused term that is significant and not weak, if any."""
    rows = table[(table["group"] == g) & (table["g2"] > 0) & (table["q"] < 0.05) & ~table["weak"]]
    return rows.nlargest(1, "g2").iloc[0] if len(rows) else None


lines = []
for g in sorted(rest["group"].unique()):
    row = strongest(rest, g)
    n_sig = int(((rest["group"] == g) & (rest["q"] < 0.05) & (rest["g2"] > 0)).sum())
    if row is None:
        lines.append(f"- *{g}*: {n_sig} term(s) with q < 0.05, none with robust evidence.")
    else:
        lines.append(f"- *{g}*: {n_sig} term(s) with q < 0.05; the strongest with robust evidence is **{row.term}** "
                     f"({row.count_group} vs {row.count_reference} in the rest; {row.per_1000_group:.1f} vs "
                     f"{row.per_1000_reference:.1f} per 1,000 words; Log Ratio {row.log_ratio:.2f}, "
                     f"G2 = {row.g2:.1f}, z = {row.log_odds_z:.2f}).")
weak_share = rest["weak"].mean()
display(Markdown(
    "\n".join(lines) + f"\n\nOf the {len(rest):,} group-against-rest tests, **{weak_share:.0%} are weak evidence**: "
    "with about ten thousand words, most terms are too rare for a difference between groups to mean much."
))

# %% [markdown]
# ### "Fightin' Words": the largest group against the rest
# The weighted log-odds z-score shrinks differences in rare terms towards zero (the prior is the whole corpus), so the terms that stand out are frequent and consistently different.

# %%
largest = pieces.groupby(group)["words"].sum().idxmax()
fig = plots.plot_log_odds(rest, largest)
show_figure(fig, "keyness-log-odds", study.out_dir)
beyond = rest[(rest["group"] == largest) & (rest["log_odds_z"].abs() > 1.96)].sort_values("log_odds_z", ascending=False)
SHOWN_Z = 10  # terms named at each end when there are many (a large corpus has hundreds)


def z_list(rows):
    return ", ".join(f"{r.term} ({r.log_odds_z:+.2f})" for r in rows.itertuples())


display(Markdown(
    (f"For *{largest}* against the rest, no term has |z| > 1.96." if beyond.empty else
     f"For *{largest}* against the rest, {len(beyond):,} term(s) have |z| > 1.96: " + z_list(beyond) + "."
     if len(beyond) <= 2 * SHOWN_Z else
     f"For *{largest}* against the rest, {len(beyond):,} terms have |z| > 1.96. The {SHOWN_Z} highest: "
     + z_list(beyond.head(SHOWN_Z)) + f"; the {SHOWN_Z} lowest: " + z_list(beyond.tail(SHOWN_Z)) + ". "
     "All are in `tables/keyness.csv` (column `log_odds_z`).")
))

# %% [markdown]
# ### Pairs of groups
# Each pair compared directly (where the column has few groups), counting the terms with robust evidence either way.

# %%
pairs = keyness[keyness["reference"] != "rest"]
if pairs.empty:
    display(Markdown("_Too many groups to compare every pair._"))
else:
    robust = pairs[(pairs["q"] < 0.05) & ~pairs["weak"]]

    def top_each_way(t):
        more = ", ".join(t[t["g2"] > 0].nlargest(4, "g2")["term"]) or "—"
        less = ", ".join(t[t["g2"] < 0].nsmallest(4, "g2")["term"]) or "—"
        return pd.Series({"more in group": more, "more in reference": less})

    summary = robust.groupby(["group", "reference"]).apply(top_each_way, include_groups=False)
    counts = pairs.groupby(["group", "reference"]).agg(tested=("term", "size"),
                                                       robust=("weak", lambda w: int((~w).sum())))
    display(counts.join(summary).fillna("—"))

# %% [markdown]
# ## Keyness: each author against the rest

# %%
MAX_AUTHOR_PANELS = 16  # more panels than this would not be read
if "author" not in study.by:
    display(Markdown("_Author is not a grouping column of this run._"))
else:
    # the author table a few authors at a time (on a large corpus, hundreds of thousands of rows): of each, each
    # author's count of robust terms, and for the figure the rows each panel's bars are chosen among
    shown = set(pieces.groupby("author")["words"].sum().nlargest(MAX_AUTHOR_PANELS).index)
    robust_counts, panel_rows = [], []
    for table in study.keyness_tables("author"):
        against_rest = table[table["reference"] == "rest"]
        robust = (against_rest["q"] < 0.05) & (against_rest["g2"] > 0) & ~against_rest["weak"]
        robust_counts.append(robust.groupby(against_rest["group"]).sum())
        panel_rows.append(against_rest[against_rest["group"].isin(shown) & key_term_candidates(against_rest, n=5)])
    del table, against_rest, robust
    per_author = pd.concat(robust_counts).sort_index()
    if per_author.empty:
        display(Markdown("_No term is frequent enough to be tested for any author._"))
    else:
        panels = pd.concat(panel_rows, ignore_index=True)
        fig = plots.plot_keyness(panels, groups=sorted(shown & set(per_author.index)), n=5, ncols=4)
        show_figure(fig, "keyness-author-vs-rest", study.out_dir)
        if len(shown) < len(per_author):
            display(Markdown(f"The figure shows the {len(shown)} authors with the most words; "
                             f"all {len(per_author)} are in `tables/keyness.csv`."))
        by_author = pieces.groupby("author").size()
        single = int(by_author.eq(1).sum())  # authors of one piece
        display(Markdown(
            f"{int((per_author > 0).sum())} of {len(per_author)} authors have at least one overused term with robust "
            f"evidence; {int(per_author.max())} is the most any author has. "
            + ("Each author here wrote a single piece, so an author's key terms are also that piece's topic: "
               "notebook 03 separates topic from style." if single == len(by_author) else
               f"{single} of {len(by_author)} authors wrote a single piece: their key terms are also that piece's "
               "topic (notebook 03 separates topic from style)." if single else "")
        ))

# %% [markdown]
# ## Translation or authorship? The glossary's effect
# When the files are translations by different people (as in the seed corpus, from Chinese), each translator may render the same source term differently. The bars show, for each concept in the glossary, which rendering each source file uses.

# %%
# the keyness tables are done with (the cells below need `rest`)
del keyness
usage = variant_usage(study, by="file")
if usage.empty:
    display(Markdown("_No glossary concept occurs in more than one rendering in this corpus._"))
else:
    usage["group"] = usage["group"].str.rsplit("/", n=1).str[-1]
    write_table(usage, "glossary_variants", study.out_dir)
    fig = plots.plot_variants(usage)
    show_figure(fig, "glossary-variants-by-file", study.out_dir)
    if usage["group"].nunique() > plots.MAX_VARIANT_GROUPS:
        display(Markdown(f"The figure shows the {plots.MAX_VARIANT_GROUPS} files that use the concepts most; "
                         f"all {usage['group'].nunique()} are in `tables/glossary_variants.csv`."))
    exclusive = usage.groupby(["concept", "variant"])["group"].nunique()
    single_file = [f"*{v}* (for {c})" for (c, v), n in exclusive.items() if n == 1 and v != c]
    display(Markdown("Renderings found in one source file only: " + ", ".join(single_file) + "."
                     if single_file else "No rendering is confined to one source file."))

# %%
plain = study.with_settings(use_glossary=False)
keyness_plain = plain.keyness(by=[group])
write_table(keyness_plain, "keyness_without_glossary", study.out_dir)
rest_plain = keyness_plain[keyness_plain["reference"] == "rest"]
rows, changed = [], {}
for g in sorted(rest["group"].unique()):
    with_g = rest[(rest["group"] == g) & (rest["g2"] > 0)].nlargest(8, "g2")["term"].tolist()
    without_g = rest_plain[(rest_plain["group"] == g) & (rest_plain["g2"] > 0)].nlargest(8, "g2")["term"].tolist()
    changed[g] = [t for t in without_g if t not in with_g]
    rows.append({group: g, "with glossary": ", ".join(with_g), "without glossary": ", ".join(without_g)})
display(Markdown(f"The eight terms each {group} group overuses most (by G2), with and without the glossary:"))
display(pd.DataFrame(rows).set_index(group))
moved = {g: terms for g, terms in changed.items() if terms}
display(Markdown(
    "Terms among a group's top eight **only without the glossary**: "
    + "; ".join(f"*{g}*: {', '.join(t)}" for g, t in moved.items()) + ". "
    "Where these are translation variants, the apparent difference belongs to the translator, not the authors."
    if moved else "The glossary does not change any group's top overused terms."
))

# %%
concepts = sorted(set(usage["concept"])) if not usage.empty else []
terms = sorted(set(concepts) | set(usage["variant"])) if concepts else []
compare = pd.concat([
    rest[rest["term"].isin(terms)].assign(glossary="with"),
    rest_plain[rest_plain["term"].isin(terms)].assign(glossary="without"),
])
if not compare.empty:
    display(Markdown("Keyness (signed G2) of the glossary's concepts and of their variants, per group:"))
    display(compare.pivot_table(index=["glossary", "term"], columns="group", values="g2").round(1))
    # the concept's own keyness with the glossary against its plain rendering's without it
    paired = (compare[compare["term"].isin(concepts)]
              .pivot_table(index=["group", "term"], columns="glossary", values="g2"))
    paired = paired.dropna() if {"with", "without"} <= set(paired.columns) else paired.iloc[0:0]
    if len(paired):
        paired["change"] = (paired["with"] - paired["without"]).abs()
        big = paired.sort_values("change", ascending=False).head(3)
        display(Markdown(
            "The largest shifts: " + "; ".join(
                f"*{term}* for *{g}*, G2 {row['without']:+.1f} without the glossary and {row['with']:+.1f} with it"
                for (g, term), row in big.iterrows()) + ". "
            "A group's apparent over- or under-use of a concept can thus come from how its texts were translated."
        ))
