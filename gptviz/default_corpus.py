"""The default corpus: Tiny Shakespeare, downloaded once and cached, or a fallback.

The URL and the cache directory can be overridden with GPTVIZ_CORPUS_URL and
GPTVIZ_CACHE_DIR (tests point them at a loopback server and a temporary folder).
"""

from __future__ import annotations

import ast
import os
import sysconfig
from collections.abc import Callable
from pathlib import Path

import platformdirs

from .corpus import Corpus
from .download import DownloadCancelled, DownloadError, Progress, download_verified, sha256_of

TINY_SHAKESPEARE_URL = (
    "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"
)
TINY_SHAKESPEARE_SHA256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"
FILENAME = "tinyshakespeare.txt"
FALLBACK_NAME = "built-in fallback (Python standard library docstrings)"


def cache_dir() -> Path:
    override = os.environ.get("GPTVIZ_CACHE_DIR")
    return Path(override) if override else Path(platformdirs.user_cache_dir("gptviz"))


def corpus_url() -> str:
    return os.environ.get("GPTVIZ_CORPUS_URL", TINY_SHAKESPEARE_URL)


def cached_path() -> Path:
    return cache_dir() / FILENAME


def tiny_shakespeare(progress: Progress | None = None,
                     cancelled: Callable[[], bool] | None = None) -> Path:
    """Path of a verified local copy, downloading it first if needed."""
    path = cached_path()
    if path.is_file() and sha256_of(path) == TINY_SHAKESPEARE_SHA256:
        return path
    return download_verified(corpus_url(), path, TINY_SHAKESPEARE_SHA256, progress, cancelled)


def fallback_text(limit: int = 1_200_000, cancelled: Callable[[], bool] | None = None) -> str:
    """English prose every Python install carries: the standard library's docstrings.

    Read from source with `ast` (nothing is imported or run), in a fixed order. It takes
    seconds, so cancelled() is asked before each file (DownloadCancelled once it is true).
    """
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    parts: list[str] = []
    size = 0
    for source in sorted(stdlib.glob("*.py")):
        if cancelled is not None and cancelled():
            raise DownloadCancelled("building the fallback corpus was cancelled")
        try:
            tree = ast.parse(source.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                doc = ast.get_docstring(node)
                if doc and len(doc) > 40:
                    parts.append(doc)
                    size += len(doc) + 2
        if size >= limit:
            break
    return "\n\n".join(parts)


def offline_notice(error: Exception) -> str:
    return (
        f"Could not get Tiny Shakespeare: {error}. "
        f"Training on the {FALLBACK_NAME} instead. To use Shakespeare offline, pass "
        f"--corpus PATH with a copy of the file, or put it at {cached_path()}."
    )


def default_corpus(progress: Progress | None = None,
                   cancelled: Callable[[], bool] | None = None) -> Corpus:
    """Tiny Shakespeare if it can be had, else the fallback with a notice saying why."""
    try:
        return Corpus.from_file(tiny_shakespeare(progress, cancelled))
    except DownloadCancelled:
        raise
    except DownloadError as e:
        return Corpus(fallback_text(cancelled=cancelled), name=FALLBACK_NAME, notice=offline_notice(e))
