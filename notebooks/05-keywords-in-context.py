# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   discourselab:
#     cost: 1.5
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 05 · Keywords in context
# How the central concepts are used by different groups: how often, in which sentences (concordance lines), and with which words around them (collocates).

# %% tags=["parameters"]
# Parameters (papermill). None means the project's default: the seed corpus.
manifest = None
out_dir = None
by = None
seed = 0
lines_per_group = 3  # concordance lines shown per group and term (all are in tables/concordance.csv)
window = 5  # collocation window, tokens either side

# %%
import pandas as pd
from IPython.display import HTML, Markdown, display

from discourselab import plots
from discourselab.concepts import FILENAME, read_concepts
from discourselab.context import query_term, render_concordance
from discourselab.io import show_figure, write_table
from discourselab.study import open_study

study = open_study(manifest, out_dir, by, seed)
pieces, pipe = study.pieces, study.pipeline
group = "role" if "role" in study.by else study.by[-1]
groups = pieces.set_index("doc_id")[group]
pd.set_option("display.max_colwidth", None)  # a group's five collocates in full, not cut off with "..."

# %% [markdown]
# ## The concepts
# The themes come from `concepts.txt` beside the manifest (when there is one); to them are added the key terms of the keyness analysis: each group's most overused term with robust evidence (notebook 02).

# %%
themes = read_concepts(study.corpus.manifest_path.parent / FILENAME)
keyness = study.keyness(by=[group])  # notebook 02's table for this column, from the cache
robust = keyness[(keyness["reference"] == "rest") & (keyness["g2"] > 0) & (keyness["q"] < 0.05) & ~keyness["weak"]]
key = robust.sort_values("g2", ascending=False).groupby("group").head(1)
themes["Key terms (from keyness)"] = list(dict.fromkeys(key["term"]))
del keyness, robust  # on a large corpus a large table: the concordances below have its memory
frequencies = study.frequencies(by=[group])
present = set(frequencies["term"])  # every counted term is in some group's frequencies
found = {theme: [t for t in terms if query_term(t, pipe) in present] for theme, terms in themes.items()}
missing = [t for theme, terms in themes.items() for t in terms if query_term(t, pipe) not in present]
display(Markdown("\n".join(f"- **{theme}**: {', '.join(terms) or '—'}" for theme, terms in found.items())
                 + (f"\n\nNot in this corpus: {', '.join(missing)}." if missing else "")))

# %% [markdown]
# ## How often each group uses them

# %%
queries = list(dict.fromkeys(query_term(t, pipe) for terms in found.values() for t in terms))
rates = (frequencies[frequencies["term"].isin(queries)]
         .pivot_table(index="term", columns="group", values="per_1000", fill_value=0.0)
         .reindex(queries).fillna(0.0))
del frequencies, present  # as the keyness table above
if len(rates):
    fig = plots.plot_rates(rates)
    show_figure(fig, f"context-concept-rates-by-{group}", study.out_dir)
    leaders = rates.idxmax(axis=1)
    n_pieces = pieces.groupby(group)["doc_id"].count()
    display(Markdown(
        "The group that uses each concept most, per 1,000 words: "
        + "; ".join(f"*{t}*: {leaders[t]} ({rates.loc[t, leaders[t]]:.1f})" for t in rates.index) + ". "
        + (f"Groups of one piece ({', '.join(n_pieces[n_pieces == 1].index)}) speak for one author."
           if (n_pieces == 1).any() else "")
    ))

# %% [markdown]
# ## In context
# For each concept, the first concordance lines of each group (in corpus order; the text as written, escaped) and each group's strongest collocates by logDice (window of ±5 tokens in the paragraph; count = co-occurrences). A glossary concept finds every rendering of it.

# %%
# concordance lines and collocates of every concept, in one pass over the paragraphs (a part at a time); the lines
# are cached as they are found and read back a concept at a time, as a large corpus has very many of them
concordance, collocate_table = study.keywords_in_context(queries, by=group, window=window, min_count=2, words=10)


def with_group(lines):
    lines.insert(1, group, lines["doc_id"].map(groups))
    return lines


n_lines = 0
for query in queries:
    lines = with_group(concordance.of(query))
    n_lines += len(lines)
    colls = collocate_table[collocate_table["node"] == query_term(query, pipe)]
    display(Markdown(f"### {query}  \n{len(lines)} occurrence(s) in {lines['doc_id'].nunique()} piece(s)."))
    shown = lines.groupby(group, sort=True).head(lines_per_group).sort_values([group, "doc_id"], kind="stable")
    display(HTML(render_concordance(shown, label=group)))
    if len(colls):
        top = colls.groupby("group", sort=True).head(5)
        summary = top.groupby("group").apply(
            lambda t: ", ".join(f"{r.collocate} ({r.count})" for r in t.itertuples()), include_groups=False)
        display(summary.rename("collocates (count)").to_frame())
    else:
        display(Markdown("_No collocate occurs twice near it in any group._"))

# %%
write_table(map(with_group, concordance), "concordance", study.out_dir)  # a table of lines at a time
write_table(collocate_table, "collocates", study.out_dir)
if len(collocate_table):
    strongest = collocate_table.sort_values("log_dice", ascending=False).groupby("node").head(1)
    thin = int((strongest["count"] < 10).sum())  # strongest collocates on fewer than ten co-occurrences
    display(Markdown(
        f"{n_lines:,} concordance lines and {len(collocate_table):,} collocate rows are in "
        "`tables/concordance.csv` and `tables/collocates.csv`. The strongest collocate of each concept: "
        + "; ".join(f"*{r.node}*: {r.collocate} in {r.group} ({r.count:,} of {r.node_count:,}, logDice "
                    f"{r.log_dice:.1f})" for r in strongest.itertuples()) + ". "
        + (f"{thin} of these {'rests' if thin == 1 else 'rest'} on fewer than ten co-occurrences: counts this small "
           "describe these texts; they are not estimates of how each group writes in general." if thin else "")
    ))
