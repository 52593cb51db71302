import hashlib

import pytest

from gptviz import default_corpus as dc
from gptviz.download import DownloadCancelled, DownloadError, download_verified

from .loopback import LoopbackServer


@pytest.fixture
def server(shakespeare_path, monkeypatch):
    with LoopbackServer() as s:
        s.body = shakespeare_path.read_bytes()
        monkeypatch.setenv("GPTVIZ_CORPUS_URL", s.url)
        yield s


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_download_verifies_caches_and_reports_progress(server):
    seen = []
    path = dc.tiny_shakespeare(progress=lambda done, total: seen.append((done, total)))
    assert path == dc.cached_path()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == dc.TINY_SHAKESPEARE_SHA256
    assert seen[0] == (0, 1_115_394) and seen[-1] == (1_115_394, 1_115_394)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert leftovers(path.parent) == [dc.FILENAME]
    # the second call uses the cache
    assert dc.tiny_shakespeare() == path
    assert server.requests == 1


def test_default_corpus_is_shakespeare_when_download_works(server):
    corpus = dc.default_corpus()
    assert corpus.vocab_size == 65 and corpus.notice is None


def test_checksum_mismatch_leaves_no_file(server):
    server.body = server.body.replace(b"Citizen", b"Citizan", 1)
    with pytest.raises(DownloadError, match="checksum mismatch"):
        dc.tiny_shakespeare()
    assert leftovers(dc.cache_dir()) == []


def test_server_error_leaves_no_file(server):
    server.status = 500
    with pytest.raises(DownloadError, match="HTTP 500"):
        dc.tiny_shakespeare()
    assert leftovers(dc.cache_dir()) == []


def test_truncated_body_leaves_no_file(server):
    server.truncate_to = 1000
    with pytest.raises(DownloadError):
        dc.tiny_shakespeare()
    assert leftovers(dc.cache_dir()) == []


def test_cancel_leaves_no_file(server):
    calls = []

    def cancelled():
        calls.append(1)
        return len(calls) > 3

    with pytest.raises(DownloadCancelled):
        dc.tiny_shakespeare(cancelled=cancelled)
    assert leftovers(dc.cache_dir()) == []
    with pytest.raises(DownloadCancelled):  # cancelling is not "offline": no fallback
        dc.default_corpus(cancelled=lambda: True)


def test_corrupted_cache_is_replaced(server):
    dc.cache_dir().mkdir(parents=True, exist_ok=True)
    dc.cached_path().write_text("not shakespeare")
    path = dc.tiny_shakespeare()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == dc.TINY_SHAKESPEARE_SHA256
    assert server.requests == 1


def test_failed_download_keeps_a_previous_good_file(tmp_path, shakespeare_path):
    dest = tmp_path / "good.txt"
    dest.write_bytes(b"old content")
    with LoopbackServer() as s:
        s.body = b"new content"
        with pytest.raises(DownloadError, match="checksum mismatch"):
            download_verified(s.url, dest, "0" * 64)
    assert dest.read_bytes() == b"old content"
    assert leftovers(tmp_path) == ["good.txt"]


def test_offline_falls_back_with_a_notice(monkeypatch):
    monkeypatch.setenv("GPTVIZ_CORPUS_URL", "http://127.0.0.1:9/input.txt")
    corpus = dc.default_corpus()
    assert corpus.name == dc.FALLBACK_NAME
    assert "Could not get Tiny Shakespeare" in corpus.notice
    assert "--corpus PATH" in corpus.notice and str(dc.cached_path()) in corpus.notice
    assert len(corpus.text) > 200_000
    corpus.check_block_size(256)


def test_overrides_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("GPTVIZ_CACHE_DIR", str(tmp_path / "c"))
    monkeypatch.setenv("GPTVIZ_CORPUS_URL", "http://127.0.0.1:1/x.txt")
    assert dc.cached_path() == tmp_path / "c" / dc.FILENAME
    assert dc.corpus_url() == "http://127.0.0.1:1/x.txt"
    monkeypatch.delenv("GPTVIZ_CORPUS_URL")
    assert dc.corpus_url() == dc.TINY_SHAKESPEARE_URL
