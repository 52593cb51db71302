"""Characters to integers and back: the simplest tokenizer there is."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

CHUNK = 1 << 22  # characters handled at once: bounds the temporary arrays (~50 MB) on big texts
MAX_CODEPOINT = 0x10FFFF


def _codepoint_chunks(text: str) -> Iterator[tuple[int, np.ndarray]]:
    """(offset, code points) of text, CHUNK characters at a time (lone surrogates included)."""
    for start in range(0, len(text), CHUNK):
        piece = text[start:start + CHUNK].encode("utf-32-le", "surrogatepass")
        yield start, np.frombuffer(piece, dtype=np.uint32)


class TokenizerError(ValueError):
    """Text that the vocabulary cannot encode."""


class CharTokenizer:
    """One token per character; the vocabulary is the sorted set of characters seen."""

    def __init__(self, chars: str):
        if not chars:
            raise TokenizerError("the vocabulary is empty")
        if len(set(chars)) != len(chars) or list(chars) != sorted(chars):
            raise TokenizerError("the vocabulary must be sorted characters without repeats")
        self.chars = chars
        self.stoi = {c: i for i, c in enumerate(chars)}
        self._codepoints = np.array([ord(c) for c in chars], dtype=np.uint32)
        self._ids = np.full(int(self._codepoints.max()) + 1, -1, dtype=np.int32)  # code point → id
        self._ids[self._codepoints] = np.arange(len(chars), dtype=np.int32)

    @classmethod
    def from_text(cls, text: str) -> CharTokenizer:
        """The sorted set of text's characters, counted by code point in chunks (a 200 MB
        text takes about half a second and ~50 MB of temporaries)."""
        seen = np.zeros(MAX_CODEPOINT + 1, dtype=bool)
        for _, cps in _codepoint_chunks(text):
            seen[:int(cps.max()) + 1] |= np.bincount(cps).astype(bool)
        return cls("".join(map(chr, np.flatnonzero(seen))))

    @property
    def vocab_size(self) -> int:
        return len(self.chars)

    def unknown(self, text: str) -> list[str]:
        """The distinct characters of text that are not in the vocabulary."""
        return sorted(set(text) - self.stoi.keys())

    def encode(self, text: str, dtype=np.int64) -> np.ndarray:
        """Token ids of text as an array of dtype (int64 unless asked; a corpus asks for
        uint8). Vectorised and chunked: fast on megabytes, temporaries bounded by CHUNK."""
        out = np.empty(len(text), dtype=dtype)
        top = len(self._ids)
        for start, cps in _codepoint_chunks(text):
            ids = np.take(self._ids, cps, mode="clip")
            if (cps >= top).any() or (ids < 0).any():
                missing = self.unknown(text)
                shown = ", ".join(repr(c) for c in missing[:10])
                more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
                raise TokenizerError(
                    f"{len(missing)} character(s) not in the vocabulary: {shown}{more}"
                )
            out[start:start + len(cps)] = ids
        return out

    def decode(self, ids) -> str:
        return "".join(self.chars[int(i)] for i in ids)
