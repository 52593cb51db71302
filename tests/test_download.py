"""Cancelling a download is prompt even when the server is slow or stalls."""

import threading
import time

import pytest

from gptviz.download import DownloadCancelled, DownloadError, download_verified

from .loopback import LoopbackServer

PROMPT = 0.5  # seconds; the watcher looks every 0.05 s (loose bound for a busy machine)


def cancel_while(server, tmp_path, ready):
    """Download in a thread; cancel once ready() holds; return (error, seconds to return)."""
    flag, seen, result = threading.Event(), [], {}

    def run():
        try:
            download_verified(server.url, tmp_path / "out.txt", "0" * 64,
                              progress=lambda done, total: seen.append(done),
                              cancelled=flag.is_set, timeout=30)
        except DownloadError as e:
            result["error"], result["at"] = e, time.monotonic()

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 10
    while not ready(seen) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert ready(seen), "the download never reached the point to cancel at"
    time.sleep(0.1)  # well inside a read that waits for data
    cancelled_at = time.monotonic()
    flag.set()
    thread.join(10)
    assert not thread.is_alive()
    return result["error"], result["at"] - cancelled_at, seen


@pytest.mark.parametrize("stall", ["before the headers", "after 1000 bytes of the body"])
def test_cancel_ends_a_stalled_download_at_once(tmp_path, stall):
    with LoopbackServer() as server:
        server.body = b"x" * 1_000_000
        if stall == "before the headers":
            server.stall_headers = True
        else:
            server.stall_after = 1000
        error, took, seen = cancel_while(server, tmp_path, lambda seen: server.stalled.is_set())
    print(f"cancel with the server stalled {stall}: {took * 1000:.0f} ms")
    assert isinstance(error, DownloadCancelled)
    assert took < PROMPT
    if stall != "before the headers":
        assert seen[-1] == 1000  # what arrived was taken at once, not held for a 64 KiB chunk
    assert list(tmp_path.iterdir()) == []  # no partial file


def test_cancel_ends_a_trickling_download_at_once(tmp_path):
    with LoopbackServer() as server:
        server.body = b"y" * 1_000_000
        server.trickle = 0.05  # ~20 KiB/s: a 64 KiB chunk would take 3 s to fill
        error, took, seen = cancel_while(server, tmp_path, lambda seen: len(seen) > 3)
    print(f"cancel with the server trickling: {took * 1000:.0f} ms")
    assert isinstance(error, DownloadCancelled)
    assert took < PROMPT
    assert 0 < seen[-1] < 64 * 1024  # progress as the data came
    assert list(tmp_path.iterdir()) == []


def test_a_silent_server_still_times_out(tmp_path):
    with LoopbackServer() as server:
        server.body = b"z" * 10_000
        server.stall_after = 100
        t0 = time.monotonic()
        with pytest.raises(DownloadError, match="timed out") as info:
            download_verified(server.url, tmp_path / "out.txt", "0" * 64, timeout=0.5)
        assert not isinstance(info.value, DownloadCancelled)
        assert time.monotonic() - t0 < 5
    assert list(tmp_path.iterdir()) == []
