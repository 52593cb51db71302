"""Download a file, verify its SHA-256, and move it into place atomically.

Nothing partial is ever left at the destination: the body goes to a temporary file
beside it, which is renamed only after the checksum matches, and removed otherwise.

Cancelling is prompt even when the server is slow or stalls: a read that waits for data
cannot look at a flag, so a small watcher thread does, every CANCEL_POLL seconds, and
on cancel shuts the connection down, which ends the waiting read at once. (Short socket
timeouts cannot do this with urllib: a socket file that has timed out once refuses to
be read again.) The connection's sockets are known from a urllib handler that records
them as it connects.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import socket
import tempfile
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

Progress = Callable[[int, "int | None"], None]  # (bytes so far, total bytes or None)

CHUNK = 64 * 1024  # the most read at once; a slow server's data is taken as it comes
CANCEL_POLL = 0.05  # seconds between the watcher's looks at cancelled()


class DownloadError(RuntimeError):
    """The download failed; the message says what and where."""


class DownloadCancelled(DownloadError):
    pass


def sha256_of(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def download_verified(url: str, dest: str | os.PathLike, sha256: str,
                      progress: Progress | None = None,
                      cancelled: Callable[[], bool] | None = None,
                      timeout: float = 30.0) -> Path:
    """Download url to dest if its SHA-256 matches; raises DownloadError (or
    DownloadCancelled) otherwise, leaving nothing behind.

    cancelled is called from a helper thread too, so it must be thread-safe (e.g.
    `threading.Event.is_set`). timeout is how long the server may stay silent.
    """
    dest = Path(dest)

    def was_cancelled() -> bool:
        return cancelled is not None and cancelled()

    if was_cancelled():
        raise DownloadCancelled(f"download of {url} was cancelled")
    if dest.is_dir():
        raise DownloadError(f"{dest}: is a directory; cannot save {url} there")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=dest.name + ".", suffix=".part", dir=dest.parent)
    except OSError as e:
        raise DownloadError(f"{dest}: cannot write there ({e.strerror or e})") from e
    tmp = Path(tmp_name)
    sockets: list[socket.socket] = []
    opener = urllib.request.build_opener(_RecordingHTTPHandler(sockets), _RecordingHTTPSHandler(sockets))
    try:
        h = hashlib.sha256()
        try:
            with (_shut_down_on_cancel(sockets, cancelled), os.fdopen(fd, "wb") as out,
                  opener.open(url, timeout=timeout) as resp):
                length = resp.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
                done = 0
                if progress:
                    progress(0, total)
                read = getattr(resp, "read1", resp.read)  # read1: what has arrived, up to CHUNK
                while True:
                    chunk = read(CHUNK)
                    if was_cancelled():
                        raise DownloadCancelled(f"download of {url} was cancelled")
                    if not chunk:
                        break
                    out.write(chunk)
                    h.update(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, total)
                if total is not None and done != total:
                    raise DownloadError(f"{url}: body ended after {done} of {total} bytes")
                out.flush()
                os.fsync(out.fileno())
        except DownloadError:
            raise
        except (OSError, ValueError, http.client.HTTPException) as e:
            if was_cancelled():  # the watcher cut the connection: not a network failure
                raise DownloadCancelled(f"download of {url} was cancelled") from None
            if isinstance(e, urllib.error.HTTPError):
                raise DownloadError(f"{url}: server answered HTTP {e.code} {e.reason}") from e
            if isinstance(e, urllib.error.URLError):
                raise DownloadError(f"{url}: cannot connect ({e.reason})") from e
            raise DownloadError(f"{url}: {type(e).__name__}: {e}") from e
        digest = h.hexdigest()
        if digest != sha256:
            raise DownloadError(
                f"{url}: checksum mismatch (expected SHA-256 {sha256}, got {digest}); file discarded"
            )
        try:
            os.replace(tmp, dest)
        except OSError as e:
            raise DownloadError(f"{dest}: cannot write there ({e.strerror or e})") from e
        return dest
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def _shut_down_on_cancel(sockets: list[socket.socket],
                         cancelled: Callable[[], bool] | None) -> Iterator[None]:
    """While inside, a thread watches cancelled() and, once true, shuts the sockets down."""
    if cancelled is None:
        yield
        return
    finished = threading.Event()

    def watch() -> None:
        while not finished.wait(CANCEL_POLL):
            if cancelled():
                for sock in list(sockets):
                    try:  # the plain socket's shutdown, also under TLS: ends any waiting read
                        socket.socket.shutdown(sock, socket.SHUT_RDWR)
                    except OSError:
                        pass  # already closed
                return

    watcher = threading.Thread(target=watch, name="gptviz-download-cancel", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        finished.set()
        watcher.join()


def _recording(connection_class: type, sockets: list[socket.socket]) -> type:
    """connection_class, but every socket it connects is appended to sockets."""
    class Recording(connection_class):
        def connect(self):
            super().connect()
            sockets.append(self.sock)
    return Recording


class _RecordingHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, sockets: list[socket.socket]):
        super().__init__()
        self._sockets = sockets

    def http_open(self, req):
        return self.do_open(_recording(http.client.HTTPConnection, self._sockets), req)


class _RecordingHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, sockets: list[socket.socket]):
        super().__init__()
        self._sockets = sockets

    def https_open(self, req):  # the default TLS context and hostname check, as urlopen's
        return self.do_open(_recording(http.client.HTTPSConnection, self._sockets), req)
