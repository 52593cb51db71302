"""A SHA-256 of nested plain data and tensors, the same before saving and after loading.

A checkpoint stores the digest of its own contents, and loading recomputes it from what
was read. The zip's CRC-32s guard the bytes, but not how a reader interprets the zip's
metadata: a single flipped bit in a record's "external attributes" (its directory flag)
passes every CRC, and torch's reader then hands back a tensor that is not the one saved.
Comparing digests of what was actually loaded catches that and anything like it.
"""

from __future__ import annotations

import hashlib

import torch


def content_digest(obj) -> str:
    """Hex SHA-256 over obj's structure and values: dicts (in key order), lists, tuples,
    tensors (dtype, shape and bytes, wherever they live) and plain values (by repr)."""
    h = hashlib.sha256()
    _feed(h, obj)
    return h.hexdigest()


def _feed(h, obj) -> None:
    if isinstance(obj, torch.Tensor):
        t = obj.detach().reshape(-1).contiguous().cpu()
        h.update(f"tensor {t.dtype} {tuple(obj.shape)}\n".encode())
        h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    elif isinstance(obj, dict):
        h.update(f"dict {len(obj)}\n".encode())
        for key in sorted(obj, key=repr):
            h.update(f"{key!r}\n".encode())
            _feed(h, obj[key])
    elif isinstance(obj, (list, tuple)):
        h.update(f"{type(obj).__name__} {len(obj)}\n".encode())
        for item in obj:
            _feed(h, item)
    else:
        h.update(f"{type(obj).__name__} {obj!r}\n".encode())
