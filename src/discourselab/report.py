"""The report pipeline: execute the study's notebooks for any corpus and render them.

``run_study`` writes, under one output folder ``DIR``:

- ``DIR/tables/*.csv``: every table (``pieces``, ``paragraphs``, ``audit`` and
  those of each analysis);
- ``DIR/figures/*.png`` and ``*.svg``;
- ``DIR/notebooks/NN-name.ipynb`` (executed) and ``NN-name.html`` (rendered,
  offline), with ``DIR/notebooks/index.html`` linking them in order;
- ``DIR/run.json``: sha256 of every input file, the parameters, package
  versions and seconds per step.

Everything is written into a temporary folder beside ``DIR`` and moved into
place at the end: a failed run leaves no half-written ``DIR``, and an existing
``DIR`` is replaced only by a complete run.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import tempfile
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, ThreadPoolExecutor, wait
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from unittest.mock import patch

import jupytext
import nbformat
import papermill
from nbconvert import HTMLExporter
from tqdm import tqdm

from . import config, render
from . import progress as progress_env
from .cache import cache_dir
from .corpus import Corpus, check_by, default_by, load_corpus
from .errors import CorpusError
from .io import write_table
from .text import Settings, fork_context

NOTEBOOK_PATTERN = "[0-9][0-9]-*.py"
#: Most notebooks executed at the same time by default (each kernel holds its own tables in memory).
MAX_JOBS = 2
#: Environment variables that cap the cores of a kernel's worker processes (joblib's).
CORE_LIMITS = ("LOKY_MAX_CPU_COUNT",)
#: Numerical libraries' threads in every kernel of a run: one. Two kernels side by side, each with a
#: thread per core, slowed a matrix product 25 times on 2 cores (the threads wait on each other's cores);
#: and with one thread however many notebooks run at once, ``--jobs`` cannot change a result's last digits.
THREAD_LIMITS = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
#: The kernels' own log level (ipykernel's), as a command-line argument: only a crash of the kernel itself.
#: Else every kernel writes to the terminal that it talks to this process over local TCP unencrypted, and a
#: busy one an error line when it is interrupted to shut down. Nothing a user acts on: a failing cell
#: reaches the run with its traceback, a dead kernel as nbclient's DeadKernelError.
KERNEL_LOG_LEVEL = "--IPKernelApp.log_level=CRITICAL"
PACKAGES = ("discourselab", "pandas", "numpy", "scipy", "scikit-learn", "matplotlib", "nltk",
            "simplemma", "papermill", "nbconvert", "jupytext", "ipykernel")


def notebook_header(source: Path) -> dict:
    """The ``discourselab:`` entry of a notebook source's header (empty if none or unreadable).

    ``cost``: how long it takes relative to the others (default 1); ``after``:
    the notebooks (by name) it must run after.
    """
    try:
        header = jupytext.read(source).metadata.get("discourselab", {})
    except (OSError, ValueError):
        return {}
    return header if isinstance(header, dict) else {}


def notebook_cost(source: Path) -> float:
    """How long a notebook takes relative to the others (``cost`` in its header; default 1)."""
    return _cost(notebook_header(source))


def _cost(header: dict) -> float:
    try:
        return float(header.get("cost", 1))
    except (TypeError, ValueError):
        return 1.0


def prerequisites(sources: list[Path], headers: dict[Path, dict] | None = None) -> dict[Path, set[Path]]:
    """The notebooks each one runs after.

    Those its header names under ``after`` (names not among ``sources`` are
    ignored); without that, a summary numbered ``00`` runs after all the
    others and any other notebook after none. The summary (the findings)
    draws on the same analyses as the others: run after them, it finds their
    results in the cache (:mod:`discourselab.cache`) instead of computing
    them again. The front page still lists it first. ``headers`` (by
    source, from :func:`notebook_header`) saves reading them again.
    """
    headers = headers if headers is not None else {s: notebook_header(s) for s in sources}
    by_name = {s.stem: s for s in sources}
    found = {}
    for source in sources:
        after = headers[source].get("after")
        if after is not None:
            found[source] = {by_name[name] for name in after if name in by_name and name != source.stem}
        elif source.name.startswith("00-"):
            found[source] = set(sources) - {source}
        else:
            found[source] = set()
    return found


def execution_order(sources: list[Path]) -> list[Path]:
    """The order in which notebooks start when they run one at a time.

    Each starts once its :func:`prerequisites` are done; among those ready,
    the costliest first (longest first, so that with several running at once
    a long one does not start last and keep the others waiting), then by number.
    """
    (needs, waiting), done = _plan(sources), []
    while waiting:
        ready = _next_ready(waiting, needs, set(done))
        if ready is None:
            raise _waiting_error(waiting)
        done.append(ready)
        waiting.remove(ready)
    return done


def _waiting_error(waiting: list[Path]) -> CorpusError:
    names = ", ".join(s.stem for s in waiting)
    return CorpusError(f"notebooks wait on each other and cannot run: {names} (see 'after' in their headers)")


def _plan(sources: list[Path]) -> tuple[dict[Path, set[Path]], list[Path]]:
    """Each notebook's prerequisites, and the notebooks in priority order (costliest, then by name)."""
    headers = {s: notebook_header(s) for s in sources}  # each source read once
    return prerequisites(sources, headers), sorted(sources, key=lambda s: (-_cost(headers[s]), s.name))


def _next_ready(waiting: list[Path], needs: dict[Path, set[Path]], done: set[Path]) -> Path | None:
    """The first of ``waiting`` (in priority order) whose prerequisites are all ``done``."""
    return next((s for s in waiting if needs[s] <= done), None)


def default_jobs() -> int:
    """Notebooks run at the same time by default: one per core, at most ``MAX_JOBS``."""
    return max(1, min(os.cpu_count() or 1, MAX_JOBS))


def find_notebooks(notebooks_dir: str | Path | None = None) -> list[Path]:
    """The study's notebook sources (jupytext percent ``.py`` files), in order."""
    folder = config.resolve(notebooks_dir, config.NOTEBOOKS_DIR)
    found = sorted(folder.glob(NOTEBOOK_PATTERN))
    if not found:
        raise CorpusError(f"no notebooks ({NOTEBOOK_PATTERN}) in {folder}")
    return found


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write_corpus_tables(corpus: Corpus, out_dir: str | Path) -> None:
    """``pieces.csv``, ``paragraphs.csv`` and ``audit.csv``."""
    write_table(corpus.pieces, "pieces", out_dir)
    write_table(corpus.paragraph_parts(), "paragraphs", out_dir)  # a part at a time
    write_table(corpus.audit, "audit", out_dir)


def execute_notebook(source: Path, out_dir: Path, parameters: dict, progress: bool = False,
                     cores: int | None = None) -> Path:
    """Execute one notebook source with papermill into ``OUT/notebooks/NAME.ipynb``.

    The kernel runs in ``out_dir``; paths in ``parameters`` are relative to it.
    ``cores`` caps the worker processes the kernel's own parallel steps
    (joblib) may start (see :func:`kernel_environment`).
    """
    with patch.dict(os.environ, kernel_environment(cores)):
        return _execute(source, out_dir, parameters, progress)


def kernel_environment(cores: int | None = None) -> dict[str, str]:
    """Environment for the kernels of a run: no progress bars in the rendered notebooks, ``THREAD_LIMITS``,
    and ``CORE_LIMITS`` set to ``cores``.

    Notebooks that run side by side each get their share of the cores, so
    that their worker processes do not compete for the same cores (and memory).
    """
    environment = {progress_env.ENV: "0", **THREAD_LIMITS}
    if cores is not None:
        environment.update({name: str(cores) for name in CORE_LIMITS})
    return environment


def _execute(source: Path, out_dir: Path, parameters: dict, progress: bool = False) -> Path:
    """:func:`execute_notebook` in the current environment (kernels inherit it)."""
    notebook = jupytext.read(source)
    for i, cell in enumerate(notebook.cells):
        cell["id"] = f"{source.stem[:2]}-{i:03d}"  # stable ids: a rerun changes only what changed
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    target = config.out_paths(out_dir)[config.NOTEBOOKS] / f"{source.stem}.ipynb"
    # the kernel starts in out_dir (nbclient's resources path). Not papermill's cwd=: that changes the
    # whole process's directory, which notebooks run side by side in threads would race for
    papermill.execute_notebook(
        notebook, str(target), parameters=parameters, kernel_name="python3",
        resources={"metadata": {"path": str(out_dir)}}, progress_bar=progress,
        request_save_on_cell_execute=False, log_output=False, extra_arguments=[KERNEL_LOG_LEVEL],
    )
    return target


def render_html(notebook_path: Path) -> Path:
    """Render an executed notebook as standalone HTML (no network; code hidden)."""
    exporter = HTMLExporter(
        template_name="offline",
        extra_template_basedirs=[str(config.PACKAGE_DIR / "templates")],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    body, _ = exporter.from_notebook_node(nbformat.read(notebook_path, as_version=4))
    target = notebook_path.with_suffix(".html")
    target.write_text(body, encoding="utf-8")
    return target


def _versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


@contextmanager
def _timed(steps: dict, name: str, starts: dict):
    """Record how long the block took in ``steps`` and when it began (``perf_counter``) in ``starts``."""
    start = starts[name] = time.perf_counter()
    yield
    steps[name] = round(time.perf_counter() - start, 3)


def _replace(tmp: Path, out: Path) -> None:
    """Move a finished run into place, replacing an older one only now."""
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        out.rename(old)
    tmp.rename(out)
    if old is not None:
        shutil.rmtree(old)


def run_study(manifest: str | Path, out: str | Path, by: list[str] | None = None, seed: int = 0,
              notebooks_dir: str | Path | None = None, progress: bool = True, jobs: int | None = None) -> Path:
    """Run the whole study on a corpus and write it to ``out``.

    Parameters
    ----------
    manifest : str or Path
        Corpus manifest (CSV).
    out : str or Path
        Output folder; replaced only when the run completes.
    by : list of str, optional
        Manifest columns to compare groups by; default :func:`default_by`.
    seed : int
        Random seed for every stochastic step.
    notebooks_dir : str or Path, optional
        Folder of notebook sources; default the project's ``notebooks/``.
    progress : bool
        Show a progress bar over the steps.
    jobs : int, optional
        Notebooks executed at the same time (see :func:`prerequisites` and :func:`execution_order`);
        default :func:`default_jobs`. The outputs do not depend on it.

    Returns
    -------
    Path
        The output folder.
    """
    started = time.perf_counter()
    manifest, out = Path(manifest).resolve(), Path(out).resolve()
    corpus = load_apart(manifest)  # bad input stops here, before anything is written
    by = check_by(by, corpus) if by else default_by(corpus)
    sources = find_notebooks(notebooks_dir)
    jobs = default_jobs() if jobs is None else max(1, int(jobs))
    made_parent = not out.parent.exists()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    steps: dict[str, float] = {}
    starts: dict[str, float] = {}
    parameters = {"manifest": os.path.relpath(manifest, tmp), "out_dir": ".", "by": by, "seed": int(seed)}
    try:
        with _timed(steps, "corpus tables", starts):
            write_corpus_tables(corpus, tmp)
        corpus.release()  # the texts: the term counts and the notebooks read them from the cache if they need them
        if jobs > 1:
            with _timed(steps, "term counts", starts):
                warm_cache(corpus, by, seed, jobs)
        bar = tqdm(total=len(sources), desc="notebooks", unit="notebook", disable=not progress)
        cores = max(1, (os.cpu_count() or 1) // jobs) if jobs > 1 else None
        # set once for every kernel of the run: threads must not each patch the environment
        with patch.dict(os.environ, kernel_environment(cores)):
            _run_notebooks(sources, tmp, parameters, jobs, steps, starts, bar)
        bar.close()
        render.write_index(tmp, corpus)
        order = sorted(steps, key=_step_order)
        _write_run_json(tmp, corpus, {**parameters, "jobs": jobs}, {name: steps[name] for name in order},
                        {name: round(starts[name] - started, 3) for name in order}, time.perf_counter() - started)
        _replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if made_parent:
            shutil.rmtree(out.parent, ignore_errors=True)
        raise
    return out


def _run_notebooks(sources: list[Path], out_dir: Path, parameters: dict, jobs: int, steps: dict, starts: dict,
                   bar) -> None:
    """Execute and render the notebooks, up to ``jobs`` at a time, each after its prerequisites."""
    (needs, waiting), done, running = _plan(sources), set(), {}
    pool = ThreadPoolExecutor(max_workers=jobs)  # threads: each waits on its kernel
    try:
        while waiting or running:
            while len(running) < jobs and (ready := _next_ready(waiting, needs, done)) is not None:
                waiting.remove(ready)
                running[pool.submit(_notebook_step, ready, out_dir, parameters)] = ready
            if not running:
                raise _waiting_error(waiting)
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                timed, began = future.result()  # the first failure stops the run
                steps.update(timed)
                starts.update(began)
                source = running.pop(future)
                done.add(source)
                bar.set_postfix_str(source.stem)
                bar.update()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _notebook_step(source: Path, out_dir: Path, parameters: dict) -> tuple[dict[str, float], dict[str, float]]:
    steps: dict[str, float] = {}
    starts: dict[str, float] = {}
    with _timed(steps, f"notebook {source.stem}", starts):
        executed = _execute(source, out_dir, parameters)
    with _timed(steps, f"html {source.stem}", starts):
        render_html(executed)
    return steps, starts


def _step_order(name: str) -> tuple:
    kind, _, stem = name.partition(" ")
    return (kind in ("notebook", "html"), stem, kind != "notebook")


def load_apart(manifest: Path) -> Corpus:
    """:func:`~discourselab.corpus.load_corpus` in a forked process, when the cache can hold what it reads.

    The corpus comes back as its pieces; its paragraphs and audit are read
    from the cache when used. Parsing the texts leaves the heap of the process
    that did it fragmented: at 31M words, ``discourselab run`` kept 359 MB
    after writing the corpus tables and letting go of the paragraphs, against
    171 MB when it read them from the cache instead, and held the difference
    to the end. Where the platform cannot fork, or without a cache, the
    corpus is loaded here. Bad input raises the same
    :class:`~discourselab.errors.CorpusError`.
    """
    pool = _fork_pool(1) if cache_dir() is not None else None
    if pool is None:
        return load_corpus(manifest)
    with pool:
        return pool.submit(load_corpus, manifest).result()


def _fork_pool(workers: int) -> ProcessPoolExecutor | None:
    """A pool of ``workers`` forked processes, or None where the platform cannot fork."""
    context = fork_context()
    return None if context is None else ProcessPoolExecutor(max_workers=workers, mp_context=context)


def warm_cache(corpus: Corpus, by: list[str], seed: int, jobs: int) -> None:
    """Build the term counts every notebook reads (with and without the glossary) into the cache, in parts.

    Notebooks that run at the same time would otherwise each build them. Done
    in forked processes (``jobs`` at a time), where the platform can fork, so
    that the memory of text processing goes back to the system when they end;
    nothing happens when the cache is off (:func:`discourselab.cache.cache_dir`).
    """
    if cache_dir() is None:
        return
    variants = [{}, {"use_glossary": False}]
    pool = _fork_pool(max(1, min(jobs, len(variants))))
    if pool is None:
        for changes in variants:
            _build_counts(corpus, by, seed, changes)
        return
    with pool:
        for done in [pool.submit(_build_counts, corpus, by, seed, changes) for changes in variants]:
            done.result()


def _build_counts(corpus: Corpus, by: list[str], seed: int, changes: dict) -> None:
    from .study import Study

    with patch.dict(os.environ, {progress_env.ENV: "0"}):
        Study(corpus, corpus.manifest_path.parent, by, seed, Settings(**changes)).make_counts()


def _write_run_json(out_dir: Path, corpus: Corpus, parameters: dict, steps: dict, starts: dict,
                    seconds: float) -> None:
    base = corpus.manifest_path.parent
    inputs = {}
    for path in corpus.files:
        label = os.path.relpath(path, base)
        inputs[label] = sha256(path)
    word_lists = {Path(f).name: sha256(Path(f)) for f in Settings().files()}
    record = {
        "manifest": str(corpus.manifest_path),
        "inputs": inputs,
        "word_lists": word_lists,
        "parameters": {**parameters, "manifest": str(corpus.manifest_path), "out_dir": str(out_dir.name)},
        "versions": _versions(),
        "steps_seconds": steps,
        "steps_started": starts,  # seconds after the run began: which notebooks ran side by side
        "total_seconds": round(seconds, 3),  # wall time: steps overlap when notebooks run together
    }
    (out_dir / "run.json").write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def publish(run_dir: str | Path, notebooks_dir: str | Path | None = None,
            figures_dir: str | Path | None = None, readme: str | Path | None = None) -> None:
    """Copy a run's executed notebooks and figures into the project for readers.

    The executed notebooks go beside their sources with papermill's injected
    parameter cell removed (their own parameter cell holds the defaults, which
    name the seed corpus); the figures replace those in ``figures/``; the
    README's findings section (between its markers) gets the run's abstract
    and headline figures.
    """
    run_dir = Path(run_dir)
    notebooks_dir = config.resolve(notebooks_dir, config.NOTEBOOKS_DIR)
    figures_dir = config.resolve(figures_dir, config.FIGURES_DIR)
    notebooks_dir.mkdir(parents=True, exist_ok=True)
    for path in sorted((run_dir / config.NOTEBOOKS).glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        notebook.cells = [c for c in notebook.cells if "injected-parameters" not in c.metadata.get("tags", [])]
        for cell in notebook.cells:
            cell.metadata.pop("papermill", None)
            cell.metadata.pop("execution", None)
        notebook.metadata.pop("papermill", None)
        nbformat.write(notebook, notebooks_dir / path.name)
    if figures_dir.exists():
        shutil.rmtree(figures_dir)
    shutil.copytree(run_dir / config.FIGURES, figures_dir)
    (figures_dir / ".gitkeep").touch()
    readme = config.resolve(readme, config.PROJECT_ROOT / "README.md")
    if readme.is_file():
        render.update_readme(readme, run_dir, figures_path=os.path.relpath(figures_dir, readme.parent))
