"""A text file as training data: validated, tokenised, split, and batched."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import torch

from .tokenizer import CharTokenizer

TRAIN_FRACTION = 0.9
#: The largest text file read. Loading peaks at about 2.3 times the file's size for ASCII
#: text (the bytes and the text while decoding; then the text and one byte per token), so
#: 1 GiB needs ~2.5 GB. A character-level model this size learns from far less anyway.
MAX_BYTES = 1 << 30


class CorpusError(ValueError):
    """A corpus that cannot be used, with the file and the reason."""


def _describe_decode_error(data: bytes, err: UnicodeDecodeError) -> str:
    bad = data[err.start:err.start + 1]
    line = data.count(b"\n", 0, err.start) + 1
    return f"is not UTF-8 text (byte 0x{bad.hex()} at offset {err.start}, line {line})"


def read_text_file(path: str | os.PathLike) -> str:
    """The text of a UTF-8 file, or a CorpusError naming the file and what is wrong."""
    p = Path(path)
    if not p.exists():
        raise CorpusError(f"{p}: no such file")
    if p.is_dir():
        raise CorpusError(f"{p}: is a directory, not a text file")
    try:
        before = p.stat()
        if not stat.S_ISREG(before.st_mode):  # a device may never end; a pipe has no size
            raise CorpusError(f"{p}: is not a regular file (a device, pipe or socket); "
                              f"save the text to a file and load that")
        if before.st_size > MAX_BYTES:
            raise CorpusError(f"{p}: is {before.st_size / 2**30:.1f} GiB; gptviz reads text files "
                              f"of at most {MAX_BYTES // 2**30} GiB (use a part of it)")
        data = p.read_bytes()
        after = p.stat()
    except OSError as e:
        raise CorpusError(f"{p}: cannot be read ({e.strerror or e})") from e
    if _changed(before, after) or len(data) != after.st_size:
        raise CorpusError(f"{p}: changed while it was being read ({before.st_size:,} bytes before, "
                          f"{after.st_size:,} after, {len(data):,} read); load it again once it "
                          f"is no longer being written")
    if not data:
        raise CorpusError(f"{p}: is empty")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) and _decodes(data, "utf-16"):
        raise CorpusError(f"{p}: is UTF-16 text (it starts with a UTF-16 byte-order mark); "
                          f"save it as UTF-8")
    if b"\x00" in data:
        raise CorpusError(f"{p}: looks binary (it contains NUL bytes), not like text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise CorpusError(f"{p}: {_describe_decode_error(data, e)}") from e
    if text.startswith("\ufeff"):
        text = text[1:]  # a byte-order mark is not part of the text
    controls = sum(1 for c in text[:65536] if ord(c) < 32 and c not in "\n\r\t\f\v")
    if controls > 0.05 * min(len(text), 65536):
        raise CorpusError(f"{p}: looks binary ({controls} control characters in the first 64 KiB)")
    return text


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _changed(before: os.stat_result, after: os.stat_result) -> bool:
    """Whether the file was written or replaced between the two stats."""
    return ((before.st_ino, before.st_size, before.st_mtime_ns)
            != (after.st_ino, after.st_size, after.st_mtime_ns))


class Corpus:
    """Text, its character vocabulary, and the 90%/10% train/validation split."""

    def __init__(self, text: str, name: str = "<text>", notice: str | None = None):
        if not text:
            raise CorpusError(f"{name}: is empty")
        self.name = name
        self.notice = notice  # e.g. "offline: using the built-in fallback corpus"
        self.text = text
        self.tokenizer = CharTokenizer.from_text(text)
        dtype = np.uint8 if self.tokenizer.vocab_size <= 256 else np.int32
        data = torch.from_numpy(self.tokenizer.encode(text, dtype))  # no int64 copy on the way
        n = int(TRAIN_FRACTION * len(data))
        self.train_data, self.val_data = data[:n], data[n:]

    @classmethod
    def from_file(cls, path: str | os.PathLike, notice: str | None = None) -> Corpus:
        return cls(read_text_file(path), name=str(path), notice=notice)

    @property
    def vocab_size(self) -> int:
        return self.tokenizer.vocab_size

    def encode(self, text: str) -> torch.Tensor:
        return torch.from_numpy(self.tokenizer.encode(text))

    def decode(self, ids) -> str:
        return self.tokenizer.decode(ids)

    def split(self, name: str) -> torch.Tensor:
        if name == "train":
            return self.train_data
        if name == "val":
            return self.val_data
        raise ValueError(f"split must be 'train' or 'val', got {name!r}")

    def check_block_size(self, block_size: int) -> None:
        """Both splits must hold at least one window of block_size + 1 characters."""
        for name in ("train", "val"):
            n = len(self.split(name))
            if n < block_size + 1:
                raise CorpusError(
                    f"{self.name}: the {name} split has {n} characters, fewer than "
                    f"block_size + 1 = {block_size + 1}; use a longer text or a smaller block_size"
                )

    def get_batch(self, split: str, batch_size: int, block_size: int,
                  generator: torch.Generator | None = None,
                  device: str | torch.device = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
        """batch_size random windows x of block_size tokens, and y = x shifted by one."""
        data = self.split(split)
        if len(data) < block_size + 1:
            self.check_block_size(block_size)
        starts = torch.randint(len(data) - block_size, (batch_size,), generator=generator)
        offsets = torch.arange(block_size + 1)
        windows = data[starts[:, None] + offsets].long()
        x, y = windows[:, :-1], windows[:, 1:]
        if torch.device(device).type != "cpu":
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        return x.contiguous(), y.contiguous()
