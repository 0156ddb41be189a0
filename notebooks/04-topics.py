# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   discourselab:
#     cost: 4
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 04 · Topics across authors
# Which themes run through the corpus, and how much of each author's and each group's text each theme takes up. The models are fitted on paragraphs (a corpus of a few long pieces has too few of them to be a topic model's documents), and their results are added up to pieces, authors and groups.

# %% tags=["parameters"]
# Parameters (papermill). None means the project's default: the seed corpus.
manifest = None
out_dir = None
by = None
seed = 0
unit = "paragraph"  # or "chunk": runs of chunk_words words within a piece
chunk_words = 200
k_range = [2, 3, 4, 5, 6, 7, 8, 9, 10]  # numbers of topics to try (those the corpus cannot support are dropped)
n_seeds = 3  # runs per model and k, for stability
n_top = 10  # top terms per topic
n_boot = 1000  # bootstrap resamples for the intervals

# %%
import pandas as pd
from IPython.display import HTML, Markdown, display

from discourselab import plots
from discourselab import topics as tm
from discourselab.io import show_figure, write_table
from discourselab.progress import bar
from discourselab.study import open_study

study = open_study(manifest, out_dir, by, seed)
group = "role" if "role" in study.by else study.by[-1]
# the term counts a part at a time; chunks are cut at running words, so they need the token table
counted = study.count_parts() if unit == "paragraph" else study.tokens
result = tm.run_topics(counted, study.pieces, ["doc_id", *study.by], unit=unit, chunk_words=chunk_words,
                       k_range=k_range, seeds=[seed + i for i in range(n_seeds)], n_top=n_top, n_boot=n_boot,
                       seed=seed, progress=lambda fits, total: bar(fits, total=total, desc="topic models"))
del counted
study.release()  # the term counts are done with: the topics' documents hold what the cells below need
documents, ks, too_small = result.documents, result.ks, result.too_small
n_docs, n_terms = documents.shape
dropped = sorted(set(k_range) - set(ks))
display(Markdown(
    f"Documents: **{n_docs:,} {unit}s** with {n_terms:,} terms that occur in at least two of them "
    f"(median {documents.docs['words'].median():.0f} words each). "
    f"Numbers of topics tried: {', '.join(map(str, ks))}"
    + (f"; not tried, because fewer than {tm.MIN_DOCS_PER_TOPIC} documents per topic would remain: "
       f"{', '.join(map(str, dropped))}" if dropped and not too_small else "") + "."
    + (f"\n\n> **Warning: {n_docs} {unit}s are too few for a topic model** (at least "
       f"{tm.MIN_DOCS_PER_TOPIC * 2} are needed for two topics). The models below are fitted only to show the "
       "method; do not read their topics as findings." if too_small else "")
))


# %% [markdown]
# ## How many topics, and which model?
# Two models: NMF on TF-IDF weights and LDA on counts (scikit-learn). For every k each model is run with several seeds, each run on its own random 90% of the documents (at most 800, so that a large corpus stays fast). Three diagnostics, all computed on this corpus:
#
# - **coherence**: do a topic's top terms occur in the same paragraphs? (mean NPMI over pairs of top terms; 0 = independent, 1 = always together)
# - **exclusivity**: how much of each top term's weight lies in its own topic (1 = the term belongs to one topic alone)
# - **stability**: do the runs find the same topics? (topics matched one to one between runs; mean overlap of their top-term sets, 1 = identical)
#
# Each diagnostic is averaged over seeds and rescaled to 0–1 across all candidates; the model and k with the best mean of the three are chosen (`topics.choose`).

# %%
diagnostics, summary, chosen = result.diagnostics, result.summary, result.chosen
write_table(diagnostics, "topic_diagnostics", study.out_dir)
model, k = result.model, result.k
fig = plots.plot_topic_diagnostics(diagnostics, (model, k))
show_figure(fig, "topic-diagnostics", study.out_dir)

# %%
best_other = summary[summary["model"] != model].sort_values("score", ascending=False).iloc[0]
runner_up = summary.drop(index=chosen.name).sort_values("score", ascending=False).iloc[0]
display(Markdown(
    f"The diagnostics favour **{model.upper()} with k = {k}** (combined score {chosen['score']:.2f} of 1): "
    f"coherence {chosen['coherence']:.2f}, exclusivity {chosen['exclusivity']:.2f}, "
    f"stability {chosen['stability']:.2f} (± {chosen['stability_sd']:.2f} across seeds). "
    f"The runner-up is {runner_up['model'].upper()} with k = {int(runner_up['k'])} (score {runner_up['score']:.2f}); "
    f"the best {best_other['model'].upper()} model has k = {int(best_other['k'])} (score {best_other['score']:.2f}, "
    f"coherence {best_other['coherence']:.2f})."
))
display(summary.set_index(["model", "k"])[["coherence", "exclusivity", "stability", "score"]]
        .sort_values("score", ascending=False).head(6).round(2))

# %% [markdown]
# ## The topics
# The chosen model refitted on all documents with the study's seed. Each topic is named here by its three heaviest terms; the full lists (and those of the other model at the same k) are in `tables/topics.csv`.

# %%
fits, terms, chosen_fit, labels = result.fits, result.terms, result.fit, result.labels
write_table(terms, "topics", study.out_dir)
chosen_terms = terms[(terms["model"] == model) & (terms["k"] == k)]
overall = (documents.docs["words"].to_numpy() @ chosen_fit.doc_topic) / documents.docs["words"].sum()
pd.set_option("display.max_colwidth", 200)
display(chosen_terms.groupby("topic")["term"].agg(", ".join).rename("top terms").to_frame()
        .assign(**{"share of all words": [f"{s:.0%}" for s in overall]}))

# %% [markdown]
# ### The most representative paragraphs
# For each topic, the two paragraphs (of at least 20 words) in which it takes the largest share.

# %%
passages = tm.representative(chosen_fit, documents.docs, n=2)
texts = (study.corpus.paragraphs_of(passages["unit_id"]).set_index("paragraph_id")["text"] if unit == "paragraph"
         else pd.Series(dtype=str))
display(HTML(tm.render_passages(passages, texts, labels)))
result.release_documents()  # every paragraph's shares and row are read: the cells below need topics and prevalence

# %% [markdown]
# ## Do NMF and LDA find the same topics?
# The other model at the same k, its topics matched one to one to the chosen model's by the overlap of their top terms.

# %%
other = result.other
match = tm.agreement(chosen_fit, fits[(other, k)])
match["shared top terms"] = match["shared"].map(lambda idx: ", ".join(documents.vocabulary[i] for i in idx) or "—")
match[f"{model.upper()} topic"] = match[f"topic_{model}"].map(labels)
display(HTML(match[[f"{model.upper()} topic", f"topic_{other}", "jaccard", "shared top terms"]]
             .rename(columns={f"topic_{other}": f"{other.upper()} topic", "jaccard": "overlap (Jaccard)"})
             .round(2).style.set_uuid("agreement").hide(axis="index").format(precision=2).to_html()))
display(Markdown(
    f"Mean overlap of matched topics between {model.upper()} and {other.upper()}: "
    f"**{match['jaccard'].mean():.2f}** (1 = same top terms); "
    f"{(match['jaccard'] >= 0.25).sum()} of {k} topics share at least a quarter of their top terms."
))

# %% [markdown]
# ## Topics across authors and groups
# A group's share of a topic is the share of its words that the topic accounts for (paragraph topic shares, weighted by paragraph length). The intervals resample each group's paragraphs with replacement (percentile bootstrap, seeded); a group with few paragraphs gets a wide interval, and a group with one paragraph none at all.

# %%
prevalence = result.prevalence
write_table(prevalence, "topic_prevalence", study.out_dir)
chosen_prev = prevalence[prevalence["model"] == model]

# %%
heat_level = "author" if "author" in study.by else study.by[0]
fig = plots.plot_topic_heatmap(chosen_prev[chosen_prev["by"] == heat_level], labels,
                               title=f"{model.upper()}, k = {k}: share of each {heat_level}'s words per topic")
show_figure(fig, f"topics-by-{heat_level}", study.out_dir)

# %%
rows = chosen_prev[chosen_prev["by"] == group]
fig = plots.plot_topic_prevalence(rows, labels)
show_figure(fig, f"topics-by-{group}", study.out_dir)
lead = tm.leading_groups(rows)
separated = lead[lead["clear"]]
display(Markdown(
    "Where each topic is most prevalent:\n\n"
    + "\n".join(f"- {labels[r.topic]}: {r.group} ({r.share:.0%}; {tm.interval_text(r, unit, documents=True)})"
                for r in lead.itertuples())
    + "\n\n"
    + (f"For {len(separated)} of {k} topics the leading group's interval lies clear of every other group's "
       f"({'; '.join(labels[t] for t in separated['topic'])}); for the rest the intervals overlap, "
       "so the ranking of groups is not settled."
       if len(separated) else "For no topic does the leading group's interval lie clear of every other group's.")
))


# %% [markdown]
# ## How far to trust these topics

# %%
sd = summary.set_index(["model", "k"]).loc[(model, k)]
few = int((prevalence[prevalence["by"] == "doc_id"].groupby("group")["documents"].first() < 5).sum())
display(Markdown(
    ("- **This corpus is below the minimum for a topic model: the topics above only illustrate the method.**\n"
     if too_small else "")
    + f"- The model rests on {n_docs:,} {unit}s; {tm.MIN_DOCS_PER_TOPIC} per topic is the minimum tried here"
    + (", and topic models are usually fitted on thousands of documents.\n" if n_docs < 1000 else ".\n")
    + f"- Runs on different random samples of the {unit}s share on average **{sd['stability']:.0%}** of their "
    f"top terms per matched topic (best k for stability in the range: "
    f"{summary.loc[summary['stability'].idxmax(), 'stability']:.0%}). "
    "A topic should be read as a cluster of vocabulary that recurs, not as a fixed object: its exact top terms move with the sample.\n"
    f"- NMF and LDA agree on {match['jaccard'].mean():.0%} of top terms for matched topics.\n"
    f"- {few} of {len(study.pieces)} pieces have fewer than five {unit}s, so their intervals are wide or absent: "
    "compare authors and groups through the intervals, not the point shares."
))
