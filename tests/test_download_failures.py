"""Download failures, from the loopback server: each is a DownloadError that says what
went wrong, nothing partial is left, and a good file already at the destination stays.
(Cancelling a stalled or trickling download is in test_download.py; the default corpus's
fallback in test_default_corpus.py.)"""

import hashlib
import threading
import time

import pytest

from gptviz.download import DownloadCancelled, DownloadError, download_verified

from .loopback import LoopbackServer

BODY = b"To be, or not to be, that is the question:\n" * 2000
SHA = hashlib.sha256(BODY).hexdigest()


@pytest.fixture
def server():
    with LoopbackServer() as s:
        s.body = BODY
        yield s


@pytest.fixture
def dest(tmp_path):
    """A destination that already holds a good file, which a failure must keep."""
    path = tmp_path / "corpus.txt"
    path.write_bytes(b"the previous good copy")
    return path


def fails(server, dest, match, sha=SHA, **kwargs):
    with pytest.raises(DownloadError, match=match) as info:
        download_verified(server.url, dest, sha, **kwargs)
    assert dest.read_bytes() == b"the previous good copy"
    assert sorted(p.name for p in dest.parent.iterdir()) == [dest.name]  # no .part left
    return info.value


@pytest.mark.parametrize("status, reason", [(404, "Not Found"), (500, "Internal Server Error"),
                                            (503, "Service Unavailable")])
def test_server_errors(server, dest, status, reason):
    server.status = status
    fails(server, dest, rf"input\.txt: server answered HTTP {status} {reason}")


def test_truncated_body_says_how_much_came(server, dest):
    server.truncate_to = 1000
    error = fails(server, dest, rf"body ended after 1000 of {len(BODY)} bytes")
    assert not isinstance(error, DownloadCancelled)


def test_wrong_checksum_names_both_digests(server, dest):
    error = fails(server, dest, "checksum mismatch", sha="ab" * 32)
    assert "ab" * 32 in str(error) and SHA in str(error) and "file discarded" in str(error)


def test_nothing_listening(dest):
    with pytest.raises(DownloadError, match=r"127\.0\.0\.1:9/x: cannot connect"):
        download_verified("http://127.0.0.1:9/x", dest, SHA)
    assert dest.read_bytes() == b"the previous good copy"


def test_slow_server_then_cancel_from_another_thread(server, dest):
    server.trickle = 0.02  # ~50 KiB/s: the 86 KB body would take about 2 s
    cancel, seen, result = threading.Event(), [], {}

    def download():
        try:
            download_verified(server.url, dest, SHA, progress=lambda done, total: seen.append(done),
                              cancelled=cancel.is_set)
        except DownloadError as e:
            result["error"] = e

    thread = threading.Thread(target=download)
    thread.start()
    while len(seen) < 3:
        time.sleep(0.01)
    cancel.set()
    at = time.monotonic()
    thread.join(5)
    assert not thread.is_alive() and time.monotonic() - at < 1
    assert isinstance(result["error"], DownloadCancelled)
    assert "was cancelled" in str(result["error"])
    assert 0 < seen[-1] < len(BODY)
    assert dest.read_bytes() == b"the previous good copy"
    assert sorted(p.name for p in dest.parent.iterdir()) == [dest.name]


def test_destination_is_a_directory(server, tmp_path):
    (tmp_path / "corpus.txt").mkdir()
    with pytest.raises(DownloadError, match=r"corpus\.txt: is a directory"):
        download_verified(server.url, tmp_path / "corpus.txt", SHA)
    assert server.requests == 0  # refused before downloading
    assert [p.name for p in tmp_path.iterdir()] == ["corpus.txt"]


def test_destination_folder_cannot_be_made(server, tmp_path):
    (tmp_path / "cache").write_text("a file where the cache folder should be")
    with pytest.raises(DownloadError, match=r"cache/corpus\.txt: cannot write there"):
        download_verified(server.url, tmp_path / "cache" / "corpus.txt", SHA)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache"]


def test_moving_into_place_fails(server, dest, monkeypatch):
    import gptviz.download as download

    def no_space(src, dst):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(download.os, "replace", no_space)
    fails(server, dest, r"corpus\.txt: cannot write there \(No space left on device\)")


def test_a_good_download_replaces_the_old_file(server, dest):
    assert download_verified(server.url, dest, SHA) == dest
    assert dest.read_bytes() == BODY
    assert [p.name for p in dest.parent.iterdir()] == [dest.name]
