"""Set-up files stay in step, and the seed corpus is the original, byte for byte."""

from __future__ import annotations

import hashlib
import re
import tomllib

from conftest import PROJECT


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]
    wanted = {_name(r) for r in project["dependencies"]}
    wanted |= {_name(r) for extra in project["optional-dependencies"].values() for r in extra}
    listed = set()
    text = (PROJECT / "environment.yml").read_text()
    for line in text.split("\ndependencies:", 1)[1].splitlines():
        match = re.match(r"^  - ([A-Za-z0-9_.-]+)", line) or re.match(r"^      - ([A-Za-z][A-Za-z0-9_.-]*)", line)
        if match:
            listed.add(_name(match.group(1)))
    assert listed - {"python", "pip"} == wanted


# sha256 (first 16 hex digits) of each file, as given in the corpus README (shared/corpus/README.md)
SEED_SHA256 = {
    "000_3a629cb3457eda3e.txt": "205284f8bce92f88",
    "001_0153d9e124316d76.txt": "ce7c49ab1e50979c",
    "002_36e99492b24fada0.txt": "79508b5f944be91c",
    "003_e93280caf0012058.txt": "08cc9b35d9f4b6ad",
    "004_17a71b30bd5e2c40.txt": "d1141d3029c11f99",
}


def test_raw_corpus_is_the_original():
    raw = PROJECT / "data" / "raw"
    assert sorted(p.name for p in raw.glob("*.txt")) == sorted(SEED_SHA256)
    for name, digest in SEED_SHA256.items():
        assert hashlib.sha256((raw / name).read_bytes()).hexdigest()[:16] == digest, name


def test_ci_calls_make_test():
    assert "make test" in (PROJECT / ".ci" / "run").read_text()
