"""The new lines of a file that another process appends to, read as it grows.

`JsonlTail` follows one JSON-lines file (metrics.jsonl, samples.jsonl) by polling: each
`read()` returns the complete lines added since the last one, never a torn last line (its
bytes are kept until the writer finishes it). It only ever opens the file for reading.

Files are not only appended to. A writer may truncate the file and start again (a fresh
`gptviz train` in the same folder), or replace it with another file (samples.jsonl
thinned, metrics.jsonl trimmed on --resume, a sync tool renaming a new copy into place).
So before reading on, the tail checks that the file still begins with the bytes it began
with, and still holds, just before the point reached, the bytes read last: if so it reads
on, even from a new inode (a synced copy that merely grew); if not — or the file is now
shorter than the point reached — it reports a reset and reads the file again from its
start. The checks cost two small reads, and only when the file's size, time or identity
changed; an unchanged file costs one stat.

Each read takes at most `budget` bytes, so catching up with a long file is spread over
several polls (`TailRead.more` says there is more) instead of one long pause.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

FINGERPRINT = 256  # bytes compared at the file's start and before the point reached
MAX_LINE = 16_000_000  # a longer line is skipped (a sample is at most ~0.6 MB)


@dataclass
class TailRead:
    lines: list[tuple[int, bytes]] = field(default_factory=list)  # (line number from 1, bytes)
    reset: bool = False  # the file is not the one read so far: lines restart at its line 1
    more: bool = False  # the budget ran out before the end of the file
    skipped: list[str] = field(default_factory=list)  # lines dropped here, and why
    gone: bool = False  # the file has just disappeared (reported once)
    error: str | None = None  # the file could not be read (reported once per kind of failure)


class JsonlTail:
    def __init__(self, path: str | os.PathLike, max_line: int = MAX_LINE):
        self.path = Path(path)
        self.max_line = max_line
        self._restart()
        self._stat: tuple | None = None  # (dev, ino, size, mtime_ns) when last read
        self._gone = False
        self._error: str | None = None

    def restart(self) -> None:
        """Read the file from its start next time (the reader dropped what it had)."""
        self._restart()

    def _restart(self) -> None:
        self.offset = 0  # bytes of the file consumed, the carried partial line included
        self.line_no = 0  # complete lines seen
        self._partial = b""
        self._discarding = False  # inside a line longer than max_line
        self._head = b""  # the file's first bytes, up to FINGERPRINT
        self._tail = b""  # the bytes just before offset, up to FINGERPRINT

    @property
    def exists(self) -> bool:
        return self._stat is not None and not self._gone

    def read(self, budget: int = 1_000_000) -> TailRead:
        out = TailRead()
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            if self._stat is not None and not self._gone:
                self._gone = out.gone = True
            return out
        except OSError as e:
            return self._failed(out, f"cannot read {self.path.name}: {e.strerror or e}")
        if self._gone:  # back: continues the old content or restarts, as any replacement
            self._gone = False
        if _signature(st) == self._stat and self.offset >= st.st_size:
            return out
        try:
            with open(self.path, "rb") as f:
                st = os.fstat(f.fileno())
                if self.offset and not self._continues(f, st.st_size):
                    self._restart()
                    out.reset = True
                f.seek(self.offset)
                data = f.read(max(1, budget))
        except FileNotFoundError:
            return out  # replaced or removed between stat and open: the next poll sees it
        except OSError as e:
            return self._failed(out, f"cannot read {self.path.name}: {e.strerror or e}")
        self._error = None
        self._stat = _signature(st)
        self._consume(data, out)
        out.more = self.offset < st.st_size
        return out

    def _failed(self, out: TailRead, message: str) -> TailRead:
        if message != self._error:
            self._error = out.error = message
        return out

    def _continues(self, f, size: int) -> bool:
        """Whether the file still holds what was read of it (see the module docstring)."""
        if size < self.offset:
            return False
        f.seek(0)
        if f.read(len(self._head)) != self._head:
            return False
        f.seek(self.offset - len(self._tail))
        return f.read(len(self._tail)) == self._tail

    def _consume(self, data: bytes, out: TailRead) -> None:
        if len(self._head) < FINGERPRINT:
            self._head = (self._head + data)[:FINGERPRINT]
        self._tail = (self._tail + data)[-FINGERPRINT:]
        self.offset += len(data)
        start = 0
        while True:
            end = data.find(b"\n", start)
            if end < 0:
                break
            piece = data[start:end]
            start = end + 1
            self.line_no += 1
            if self._discarding:
                self._discarding = False
                continue
            line, self._partial = self._partial + piece, b""
            if line.strip():
                out.lines.append((self.line_no, line))
        if not self._discarding:
            self._partial += data[start:]
            if len(self._partial) > self.max_line:
                out.skipped.append(f"line {self.line_no + 1}: longer than {self.max_line:,} bytes")
                self._partial = b""
                self._discarding = True


def _signature(st: os.stat_result) -> tuple:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
