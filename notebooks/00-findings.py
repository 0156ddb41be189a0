# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   discourselab:
#     after:
#     - 02-term-frequencies
#     - 03-distinctive-vocabulary
#     - 04-topics
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 00 · Findings
# The study's results, written for a reader who has not run any code: what distinguishes each group and author, which topics each emphasizes, how far translation explains the differences, and how robust each finding is. Every number below is computed in this notebook; notebooks 01 to 05 hold the detail.

# %% tags=["parameters"]
# Parameters (papermill). None means the project's default: the seed corpus.
manifest = None
out_dir = None
by = None
seed = 0
n_terms = 4  # key terms per group shown and checked for robustness
k_range = [2, 3, 4, 5, 6, 7, 8, 9, 10]  # numbers of topics tried (as in notebook 04)
n_seeds = 3  # runs per model and k, for stability

# %%
import pandas as pd
from IPython.display import HTML, Markdown, display

from discourselab import plots
from discourselab import topics as tm
from discourselab.io import show_figure
from discourselab.progress import bar
from discourselab.render import read_study_text, write_summary
from discourselab.robustness import glossary_check, leave_one_out
from discourselab.similarity import FEW_PIECES
from discourselab.study import open_study

study = open_study(manifest, out_dir, by, seed)
pieces = study.pieces
group = "role" if "role" in study.by else study.by[-1]
per_group = pieces.groupby(group).agg(pieces_n=("doc_id", "size"), words=("words", "sum"))
title, questions = read_study_text(study.corpus.manifest_path.parent)
headlines = []  # (figure name, one-sentence caption) for the front page and the README


def n_of(count, noun):
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def verb(count, singular, plural):
    return singular if count == 1 else plural


def lr(row):
    return f"Log Ratio {row.log_ratio:.1f}, 95% CI {row.log_ratio_low:.1f} to {row.log_ratio_high:.1f}"


display(Markdown(f"## {title}\n\n{questions}"))

# %% [markdown]
# ## Data and method

# %%
years = pd.to_numeric(pieces["year"] if "year" in pieces else pieces["date"].str[:4], errors="coerce").dropna()
small_groups = per_group[per_group["pieces_n"] <= 2].index.tolist()
n_files = pieces["file"].nunique()
display(Markdown(
    f"The corpus holds **{n_of(len(pieces), 'piece')}** by {n_of(pieces['author'].nunique(), 'author')} "
    f"({int(pieces['words'].sum()):,} words, {n_of(int(pieces['paragraphs'].sum()), 'paragraph')}) "
    f"from {n_of(n_files, 'source file')}"
    + (f", written {int(years.min())}–{int(years.max())}" if len(years) else "")
    + f", in {n_of(len(per_group), group + ' group')}: "
    + "; ".join(f"{g} ({n_of(r.pieces_n, 'piece')}, {r.words:,} words)" for g, r in per_group.iterrows()) + ". "
    f"{n_of(study.corpus.audit_lines, 'line')} of the raw files are not text of any piece; each is listed with the "
    "reason it was left out in the audit ([01-corpus](01-corpus.ipynb)).\n\n"
    "All analyses share one text pipeline: tokens folded for typography and spelling, lemmatized, multiword "
    "expressions joined, stop words removed, and renderings of one concept by different translators merged by a "
    "glossary. Distinctive concepts come from keyness against the rest of the corpus ([02](02-term-frequencies.ipynb)): "
    "log-likelihood G2 for the evidence, Log Ratio with its confidence interval for the size of the difference. "
    "Similarity and style come from TF-IDF cosine and Burrows' Delta ([03](03-distinctive-vocabulary.ipynb)); "
    "topics from NMF and LDA on paragraphs ([04](04-topics.ipynb)); usage in context from concordances and "
    "collocates ([05](05-keywords-in-context.ipynb))."
))

# %% [markdown]
# ## 1. What distinguishes each group
# For each group, its strongest key terms: used significantly more than in the rest of the corpus (q < 0.05), strongest evidence first, terms with robust evidence before weak. Each is then checked twice: rerun without each piece in turn (a term that disappears when one piece is left out belongs to that piece, not to the group) and rerun without the translation-variant glossary.

# %%
keyness = study.keyness(by=[group])  # notebook 02's table for this column (read from the cache when it ran first)
rest = keyness[(keyness["reference"] == "rest") & (keyness["g2"] > 0) & (keyness["q"] < 0.05)]
targets = (rest.assign(_robust=~rest["weak"]).sort_values(["group", "_robust", "g2"], ascending=[True, False, False])
           .groupby("group").head(n_terms).drop(columns="_robust"))
loo = leave_one_out(study.count_parts(), pieces, group, targets,
                    progress=lambda ids: bar(ids, desc="leave one piece out"))
plain = glossary_check(study.with_settings(use_glossary=False).keyness(by=[group]), pieces, group, targets)
checked = targets.merge(loo, on=["group", "term"]).merge(plain, on=["group", "term"])
tested = keyness[keyness["reference"] == "rest"].drop_duplicates("term")  # each term once, for the limitations
del keyness  # the rest of the notebook needs only these rows: on a large corpus the whole table is large
sizes = checked["group"].map(per_group["pieces_n"])
checked["status"] = "robust"
checked.loc[~checked["holds_without_glossary"], "status"] = "needs the glossary"
checked.loc[checked["held"] < checked["runs"], "status"] = "hangs on one piece"
checked.loc[sizes == 1, "status"] = "group of one piece"
checked.loc[checked["weak"], "status"] = "weak evidence"
checked["robust"] = checked["status"] == "robust"
fig = plots.plot_key_term_intervals(checked, title=f"Key terms of each {group} against the rest of the corpus")
show_figure(fig, f"headline-key-terms-by-{group}", study.out_dir)


# %%
def group_sentence(g, rows):
    size = per_group.loc[g, "pieces_n"]
    terms = "; ".join(f"*{r.term}* ({r.count_group:,} against {r.count_reference:,} in the rest; {lr(r)})"
                      for r in rows.itertuples())
    if size == 1:
        note = "one piece: these are its author's terms, and leaving out pieces cannot test them"
    else:
        fragile = rows[~rows["robust"]]
        note = ("all robust" if fragile.empty else
                "not robust: " + ", ".join(f"*{r.term}* ({r.status})" for r in fragile.itertuples()))
    return f"- **{g}** ({n_of(size, 'piece')}): {terms}. ({note}.)"


robust_n, total_n = int(checked["robust"].sum()), len(checked)
one_piece = checked[checked["breaking"] != ""]
display(Markdown(
    "\n".join(group_sentence(g, rows) for g, rows in checked.groupby("group")) + "\n\n"
    f"**{robust_n} of {total_n}** key terms {verb(robust_n, 'has', 'have')} robust evidence, "
    f"{verb(robust_n, 'survives', 'survive')} leaving out any one piece and switching off the glossary, and "
    f"{verb(robust_n, 'belongs', 'belong')} to a group of several pieces. "
    + (f"{n_of(len(one_piece), 'term')} {verb(len(one_piece), 'hangs', 'hang')} on a single piece: "
       + "; ".join(f"*{r.term}* ({r.group}; lost without {r.breaking.replace(';', ', ')})" for r in one_piece.itertuples())
       + ". " if len(one_piece) else "")
    + (f"Groups of one or two pieces ({', '.join(small_groups)}) cannot be separated from their authors: their key "
       "terms describe those pieces." if small_groups else "")
))
best = checked[checked["robust"]].sort_values("g2", ascending=False)
caption = (f"Key terms of each {group}, with 95% intervals of the Log Ratio; {robust_n} of {total_n} "
           f"{verb(robust_n, 'is', 'are')} robust "
           "to leaving out any piece and to the glossary (filled markers)")
headlines.append((f"headline-key-terms-by-{group}", caption))

# %% [markdown]
# ### And each author
# The strongest key term of each author against all other authors, with its interval; for an author with one short piece, the evidence is that piece's.

# %%
def top_of_each_author(table):
    """Each author's significantly overused term: the robust one with the largest G2, else the largest G2."""
    rows = table[(table["reference"] == "rest") & (table["g2"] > 0) & (table["q"] < 0.05)]
    return (rows.assign(_robust=~rows["weak"])
            .sort_values(["group", "_robust", "g2"], ascending=[True, False, False]).groupby("group").head(1))


# the author table a few authors at a time (notebook 02's, from the cache): on a large corpus it is large
top_author = pd.concat([top_of_each_author(table) for table in study.keyness_tables("author")], ignore_index=True)
author_groups = pieces.groupby("author")[group].first()
table = pd.DataFrame({
    "author": top_author["group"], group: top_author["group"].map(author_groups), "key term": top_author["term"],
    "count (rest)": [f"{r.count_group} ({r.count_reference})" for r in top_author.itertuples()],
    "Log Ratio [95% CI]": [f"{r.log_ratio:.1f} [{r.log_ratio_low:.1f}, {r.log_ratio_high:.1f}]"
                           for r in top_author.itertuples()],
    "weak evidence": top_author["weak_reason"].fillna("").replace("", "no"),
})
display(HTML(table.style.set_uuid("authors").hide(axis="index").to_html()))
without = sorted(set(pieces["author"]) - set(top_author["group"]))
weak = int(top_author["weak"].sum())  # none of them "rests", as one does
display(Markdown(
    f"{n_of(len(top_author), 'author')} of {pieces['author'].nunique()} have at least one significant key term; "
    f"{weak or 'none'} of these {verb(weak or 1, 'rests', 'rest')} on weak evidence (see the last column)."
    + (f" No term is significantly key for {', '.join(without)}." if without else "")
))

# %% [markdown]
# ## 2. Which topics each group emphasizes
# Topics are fitted on paragraphs; the model and the number of topics are chosen from coherence, exclusivity and stability across seeds ([04](04-topics.ipynb)).

# %%
topics = tm.run_topics(study.count_parts(), pieces, [group], k_range=k_range, seeds=[seed + i for i in range(n_seeds)],
                       seed=seed, progress=lambda fits, total: bar(fits, total=total, desc="topic models"))
prevalence = topics.prevalence[topics.prevalence["model"] == topics.model]
labels = topics.labels
study.release()  # the term counts: the sections below read their results from the cache
fig = plots.plot_topic_heatmap(prevalence, labels,
                               title=f"Share of each {group}'s words per topic ({topics.model.upper()}, k = {topics.k})")
show_figure(fig, f"headline-topics-by-{group}", study.out_dir)

# %%
lead = tm.leading_groups(prevalence)
stability = topics.chosen["stability"]
# words for the stability measure: 1 = every run finds the same top terms
steadiness = "stable" if stability >= 0.8 else ("moderately stable" if stability >= 0.5 else "unstable")
display(Markdown(
    ("> **The corpus is below the minimum for a topic model; these topics only illustrate the method.**\n\n"
     if topics.too_small else "")
    + f"The diagnostics choose {topics.model.upper()} with **{topics.k} topics**. Each topic and the {group} "
    "that gives it the largest share of its words:\n\n"
    + "\n".join(f"- {labels[r.topic]}: {r.group}, {r.share:.0%} ({tm.interval_text(r)})" for r in lead.itertuples())
    + f"\n\nThe topics are {steadiness}: runs on different random samples of the paragraphs (90% of them, at "
    f"most 800) share {stability:.0%} of their top terms per matched topic"
    + (", so the themes are clearer than their exact boundaries." if stability < 0.8 else ".")
))
headlines.append((f"headline-topics-by-{group}",
                  f"Share of each {group}'s words per topic ({topics.model.upper()}, {topics.k} topics chosen "
                  f"by coherence, exclusivity and stability; stability {stability:.0%})"))

# %% [markdown]
# ## 3. Translation or author?
# When the texts are translations and each source file had its own translator (as in the seed corpus), translation can masquerade as authorship. Two checks: do the key terms survive without the glossary that merges the translators' renderings (section 1), and do pieces resemble each other more when they share a source file than when they share a group?

# %%
columns = [c for c in dict.fromkeys([group, "author", "file"]) if c in pieces and pieces[c].nunique() > 1]
tests = study.similarity_tests(columns)  # notebook 03's permutation tests, from the cache
tests["p"] = tests["p_greater"].where(tests["value"] == "cosine", tests["p_less"])
tests = tests.dropna(subset=["within"])
if tests.empty:
    display(Markdown("_No grouping puts two pieces together, so similarity within and between groups cannot be compared._"))
else:
    fig = plots.plot_grouping_tests(tests)
    show_figure(fig, "headline-similarity-by-grouping", study.out_dir)

# %%
glossary_lost = checked[~checked["holds_without_glossary"]]
mixed_files = int(pieces.groupby("file")[group].nunique().gt(1).sum())  # files that hold more than one group


def ranked(value):
    """The groupings tested on one measure, lowest p-value first; of groupings tied on it (as at the floor of
    1/1000 on a large corpus), the one whose pieces are closer within a group than between groups by more."""
    table = tests[tests["value"] == value].set_index("column")
    closer = table["within"] - table["between"] if value == "cosine" else table["between"] - table["within"]
    return table.assign(closer=closer).sort_values(["p", "closer"], ascending=[True, False], kind="stable")


def closest(value):
    table = ranked(value)
    if not len(table):
        return "no grouping can be tested"
    p = table["p"].iloc[0]
    verdict = "" if p < 0.05 else ", which is not below 0.05"
    return f"the same {table.index[0]} (permutation p = {p:.3f}{verdict})"


display(Markdown(
    f"- Without the glossary, {total_n - len(glossary_lost)} of {total_n} key terms still hold"
    + (": " + "; ".join(f"*{r.term}* ({r.group}) does not" for r in glossary_lost.itertuples()) + "."
       if len(glossary_lost) else ".")
    + f"\n- In what they talk about (TF-IDF cosine), the grouping under which pieces are most alike is {closest('cosine')}; "
    f"in how they write (Burrows' Delta on the most frequent words), it is {closest('delta')}. "
    + ("With this few pieces the permutation tests have little power." if len(pieces) < FEW_PIECES else "")
    + (f"\n- {group.capitalize()} and source file overlap: "
       f"{mixed_files} of {n_files} files {verb(mixed_files, 'holds', 'hold')} more than one "
       f"{group}, and {int(pieces.groupby(group)['file'].nunique().eq(1).sum())} of {len(per_group)} {group}s come "
       "from a single file each, so "
       "for those a difference of group is also a difference of source file (and of translator, where each file had its own)." if "file" in columns else "")
))
if not tests.empty:
    headlines.append(("headline-similarity-by-grouping",
                      f"Similarity of pieces in the same and in different groups, by topic (TF-IDF cosine) and "
                      f"style (Burrows' Delta); in style the grouping under which they are most alike is "
                      f"{closest('delta')}"))

# %% [markdown]
# ## Limitations

# %%
robust_terms = ", ".join(f"*{t}* ({g})" for g, t in zip(best["group"], best["term"])) or "none"
fragile_terms = "; ".join(
    f"{status}: " + ", ".join(f"*{r.term}* ({r.group})" for r in rows.itertuples())
    for status, rows in checked[~checked["robust"]].groupby("status")) or "none"
rare_share = ((tested["count_group"] + tested["count_reference"]) < 10).mean()
weak_share = rest["weak"].mean() if len(rest) else 0.0
display(Markdown(
    f"- **Size.** {n_of(len(pieces), 'piece')} and {int(pieces['words'].sum()):,} words: {rare_share:.0%} of the "
    f"terms tested occur fewer than 10 times in the corpus, and {weak_share:.0%} of the significant key terms carry "
    "a weak-evidence flag. "
    + (f"Groups of one or two pieces ({', '.join(small_groups)}) speak for their authors only. " if small_groups else "")
    + f"\n- **Translation.** Where the texts are translations, each of the {n_of(n_files, 'source file')} may carry "
    "its translator's habits; the glossary merges the renderings it lists, and others may remain."
    + (f"\n- **Scope.** One corpus, written {int(years.min())}–{int(years.max())}." if len(years) else "")
    + f"\n- **Robust** to leaving out any one piece and to the glossary: {robust_terms}."
    + f"\n- **Not robust**: {fragile_terms}."
    + f"\n- **Topics** are {steadiness} ({stability:.0%} top-term overlap across samples)."
))

# %%
abstract = (
    f"{n_of(len(pieces), 'piece')} by {n_of(pieces['author'].nunique(), 'author')} "
    f"({int(pieces['words'].sum()):,} words) compared by {group}. "
    + (f"The strongest robust distinctive concept is *{best.iloc[0]['term']}* for the {best.iloc[0]['group']} group "
       f"({lr(best.iloc[0])}); " if len(best) else "No key term is robust to leaving out single pieces; ")
    + f"{robust_n} of {total_n} key terms {verb(robust_n, 'is', 'are')} robust to leaving out any one piece and to "
    f"the translation glossary, and {total_n - len(glossary_lost)} of {total_n} hold without the glossary. "
    f"A {topics.k}-topic {topics.model.upper()} model separates the {group}s' emphases; its topics are {steadiness} "
    f"({stability:.0%} top-term overlap across samples)."
    + (f" In style, the grouping under which pieces are most alike is {closest('delta')}." if not tests.empty else "")
)
write_summary(study.out_dir, title, abstract, headlines)
display(Markdown(f"**In short.** {abstract}"))
