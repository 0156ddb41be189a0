"""discourselab: comparative discourse analysis of small corpora.

Load a corpus described by a manifest, process its texts with one configurable
pipeline, and compare authors and groups of authors.
"""

from .corpus import Corpus, load_corpus, read_manifest, write_manifest_template
from .diversity import mattr, measure_diversity
from .errors import CorpusError
from .text import Settings, TextPipeline

__version__ = "0.1.0"

__all__ = [
    "Corpus",
    "CorpusError",
    "Settings",
    "TextPipeline",
    "load_corpus",
    "mattr",
    "measure_diversity",
    "read_manifest",
    "write_manifest_template",
]
