import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHAKESPEARE = (ROOT / ".." / "shared" / "data" / "tinyshakespeare.txt").resolve()

# Never touch the network or the user's cache from tests: an unused loopback port and
# a per-session cache directory. Tests that download set these themselves.
os.environ.setdefault("GPTVIZ_CORPUS_URL", "http://127.0.0.1:9/unreachable.txt")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("GPTVIZ_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setenv("GPTVIZ_CORPUS_URL", "http://127.0.0.1:9/unreachable.txt")


@pytest.fixture(scope="session")
def shakespeare_path() -> Path:
    assert SHAKESPEARE.is_file(), f"the shared corpus is missing: {SHAKESPEARE}"
    return SHAKESPEARE


@pytest.fixture(scope="session")
def shakespeare(shakespeare_path):
    from gptviz.corpus import Corpus
    return Corpus.from_file(shakespeare_path)


@pytest.fixture(scope="session")
def small_corpus():
    """A few kilobytes of text: quick to load, long enough for the tiny preset."""
    from gptviz.corpus import Corpus
    text = SHAKESPEARE.read_text(encoding="utf-8")[:20000]
    return Corpus(text, name="first 20k characters of Tiny Shakespeare")
