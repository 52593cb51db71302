"""Characters to integers and back: the simplest tokenizer there is."""

from __future__ import annotations

import numpy as np


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

    @classmethod
    def from_text(cls, text: str) -> CharTokenizer:
        return cls("".join(sorted(set(text))))

    @property
    def vocab_size(self) -> int:
        return len(self.chars)

    def unknown(self, text: str) -> list[str]:
        """The distinct characters of text that are not in the vocabulary."""
        return sorted(set(text) - self.stoi.keys())

    def encode(self, text: str) -> np.ndarray:
        """Token ids of text as an int64 array (vectorised: fast on megabytes)."""
        if not text:
            return np.zeros(0, dtype=np.int64)
        cps = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        ids = np.searchsorted(self._codepoints, cps)
        ids = np.minimum(ids, len(self.chars) - 1)
        bad = self._codepoints[ids] != cps
        if bad.any():
            missing = self.unknown(text)
            shown = ", ".join(repr(c) for c in missing[:10])
            more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
            raise TokenizerError(
                f"{len(missing)} character(s) not in the vocabulary: {shown}{more}"
            )
        return ids.astype(np.int64)

    def decode(self, ids) -> str:
        return "".join(self.chars[int(i)] for i in ids)
