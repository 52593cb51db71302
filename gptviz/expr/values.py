"""Input values in, displayed values out: numbers and (nested) lists <-> float32 tensors."""

from __future__ import annotations

import json
import math

import torch

MAX_ELEMENTS = 10_000   # per value; see graph.py for why the explorer stays this small
MAX_TEXT = 200_000


def parse_value(value: object) -> torch.Tensor:
    """A number, a rectangular (nested) list of numbers, or either as text (JSON) -> tensor.

    Raises ValueError with a sentence a learner can act on.
    """
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise ValueError("empty value: type a number such as 1.5 or a list such as [1, 2, 3]")
        if len(text) > MAX_TEXT:
            raise ValueError(f"the value is {len(text):,} characters long; the limit is {MAX_TEXT:,}")
        try:
            value = json.loads(text, parse_constant=float)
        except (json.JSONDecodeError, RecursionError):
            raise ValueError(f"{shorten(text)!r} is not a number or a list of numbers "
                             "(write lists as [1, 2, 3])") from None
    shape = nested_shape(value)
    if math.prod(shape) > MAX_ELEMENTS:
        raise ValueError(f"the value has {math.prod(shape):,} numbers; the limit is {MAX_ELEMENTS:,}")
    return torch.tensor(value, dtype=torch.float32)


def nested_shape(value: object, depth: int = 0) -> tuple[int, ...]:
    if depth > 32:
        raise ValueError("the list is nested too deeply (limit 32 levels)")
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{json.dumps(value)} is not a number")
    if isinstance(value, (int, float)):
        if isinstance(value, int) and abs(value) > 1e30:
            raise ValueError("the number is too large for float32")
        return ()
    if not isinstance(value, list):
        raise ValueError(f"{type(value).__name__} values are not supported; use numbers or lists")
    if not value:
        raise ValueError("empty lists are not supported")
    shapes = [nested_shape(v, depth + 1) for v in value]
    if any(s != shapes[0] for s in shapes):
        raise ValueError("the list is ragged: every row must have the same length")
    return (len(value), *shapes[0])


def plain(t: torch.Tensor | None) -> object:
    """A tensor as JSON-ready data: a number or nested lists, 7 significant digits (float32's),
    with non-finite numbers as the strings "NaN", "Infinity" and "-Infinity"."""
    if t is None:
        return None
    return _plain(t.detach().cpu().tolist())


def _plain(v):
    if isinstance(v, list):
        return [_plain(x) for x in v]
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return float(f"{v:.7g}")


def number(v: float) -> str:
    """One number, short: 1, 0.5, -2.25, 1.235e-05, nan."""
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return f"{v:.4g}"


def compact(t: torch.Tensor | None, limit: int = 6) -> str:
    """How a value fits on a graph node: a scalar as a number, a tensor as a few numbers."""
    if t is None:
        return "None"
    t = t.detach()
    if t.dim() == 0:
        return number(float(t))
    flat = t.reshape(-1).tolist()
    shown = ", ".join(number(v) for v in flat[:limit])
    return "[" + shown + (", …" if len(flat) > limit else "") + "]"


def shorten(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[:n - 1] + "…"
