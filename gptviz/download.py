"""Download a file, verify its SHA-256, and move it into place atomically.

Nothing partial is ever left at the destination: the body goes to a temporary file
beside it, which is renamed only after the checksum matches, and removed otherwise.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

Progress = Callable[[int, "int | None"], None]  # (bytes so far, total bytes or None)

CHUNK = 64 * 1024


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
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=dest.name + ".", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        h = hashlib.sha256()
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
                length = resp.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
                done = 0
                if progress:
                    progress(0, total)
                while chunk := resp.read(CHUNK):
                    if cancelled and cancelled():
                        raise DownloadCancelled(f"download of {url} was cancelled")
                    out.write(chunk)
                    h.update(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, total)
                if total is not None and done != total:
                    raise DownloadError(f"{url}: body ended after {done} of {total} bytes")
                out.flush()
                os.fsync(out.fileno())
        except urllib.error.HTTPError as e:
            raise DownloadError(f"{url}: server answered HTTP {e.code} {e.reason}") from e
        except urllib.error.URLError as e:
            raise DownloadError(f"{url}: cannot connect ({e.reason})") from e
        except DownloadError:
            raise
        except (OSError, ValueError, http.client.HTTPException) as e:
            raise DownloadError(f"{url}: {type(e).__name__}: {e}") from e
        digest = h.hexdigest()
        if digest != sha256:
            raise DownloadError(
                f"{url}: checksum mismatch (expected SHA-256 {sha256}, got {digest}); file discarded"
            )
        os.replace(tmp, dest)
        return dest
    finally:
        tmp.unlink(missing_ok=True)
