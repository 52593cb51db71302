"""Torch's broadcasting rule, one dimension at a time, so the demo can draw it.

Two shapes are lined up from the right. In each column the sizes must be equal, or one of them
1 (that one is *stretched*: its single value is reused along the column), or one shape has no
dimension there at all (it counts as a 1 and is stretched too). Anything else is a mismatch,
and then torch raises; this module asks torch for its exact message rather than writing its own,
so what the learner reads is what their own code would print.
"""

from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass

import torch

MATCH, STRETCHED, MISMATCH = "match", "stretched", "mismatch"
MAX_DIMS = 16
MAX_SIZE = 10**9

_OPERATIONS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}


@dataclass(frozen=True)
class AlignedDim:
    """One column of the aligned shapes. `a` / `b` is None where that shape has no dimension."""

    a: int | None
    b: int | None
    status: str                 # MATCH, STRETCHED or MISMATCH
    result: int | None          # None for a mismatch

    @property
    def a_stretched(self) -> bool:
        return self.status == STRETCHED and (self.a is None or self.a == 1) and self.result != 1

    @property
    def b_stretched(self) -> bool:
        return self.status == STRETCHED and (self.b is None or self.b == 1) and self.result != 1


@dataclass(frozen=True)
class Alignment:
    a: tuple[int, ...]
    b: tuple[int, ...]
    dims: tuple[AlignedDim, ...]        # leftmost first; the last one is both shapes' last dimension
    result: tuple[int, ...] | None      # the broadcast shape, or None when they do not broadcast
    error: str | None                   # torch's own message when they do not

    @property
    def ok(self) -> bool:
        return self.result is not None

    def explanation(self) -> list[str]:
        """One sentence per dimension, rightmost first (the order the rule is applied in)."""
        lines = []
        for position, dim in reversed(list(enumerate(self.dims))):
            where = f"dim {position - len(self.dims)}"
            if dim.status == MISMATCH:
                lines.append(f"{where}: sizes {dim.a} and {dim.b} differ and neither is 1, so neither can be "
                             f"stretched. Torch stops here (it counts from the left of the result, so it "
                             f"calls this dimension {position}).")
            elif dim.status == MATCH:
                lines.append(f"{where}: sizes {_size(dim.a)} and {_size(dim.b)} match.")
            else:
                for name, size, stretched in (("a", dim.a, dim.a_stretched), ("b", dim.b, dim.b_stretched)):
                    if not stretched:
                        continue
                    if size is None:
                        lines.append(f"{where}: {name} has no dimension here; it counts as size 1 and is "
                                     f"repeated {dim.result} times.")
                    else:
                        lines.append(f"{where}: {name}'s size 1 is stretched to {dim.result}: its one value "
                                     f"is reused {dim.result} times.")
        if self.ok:
            lines.append(f"Result shape: {shape_text(self.result)}.")
        else:
            lines.append("The rule: lined up from the right, each pair of sizes must be equal, or one of "
                         "them must be 1.")
        return lines


def _size(n: int | None) -> str:
    return "(none)" if n is None else str(n)


def align(a: tuple[int, ...], b: tuple[int, ...], op: str = "*") -> Alignment:
    """Line up shapes `a` and `b` from the right and apply the broadcasting rule to each column.

    `op` is the operator the shapes meet in (+ - * /); only a mismatch needs it, to get torch's
    message for exactly that operation.
    """
    for shape in (a, b):
        check_shape(shape)
    n = max(len(a), len(b))
    padded_a = (None,) * (n - len(a)) + tuple(a)
    padded_b = (None,) * (n - len(b)) + tuple(b)
    dims = []
    for x, y in zip(padded_a, padded_b):
        one_x, one_y = 1 if x is None else x, 1 if y is None else y
        if one_x == one_y:
            dims.append(AlignedDim(x, y, MATCH, one_x))
        elif one_x == 1 or one_y == 1:      # the 1 is stretched to the other size (even to 0)
            dims.append(AlignedDim(x, y, STRETCHED, one_y if one_x == 1 else one_x))
        else:
            dims.append(AlignedDim(x, y, MISMATCH, None))
    if any(d.status == MISMATCH for d in dims):
        return Alignment(tuple(a), tuple(b), tuple(dims), None, torch_error(a, b, op))
    return Alignment(tuple(a), tuple(b), tuple(dims), tuple(d.result for d in dims), None)


def torch_error(a: tuple[int, ...], b: tuple[int, ...], op: str = "*") -> str | None:
    """The message torch raises for `x op y` with x of shape `a` and y of shape `b`, or None.

    The operands are one zero expanded to each shape (no memory); only call this for shapes that
    do not broadcast, because for shapes that do, torch would compute the whole result.
    """
    zero = torch.zeros(())
    try:
        _OPERATIONS[op](zero.expand(a), zero.expand(b))
    except RuntimeError as e:
        return str(e)
    return None


def stretch_mask(shape: tuple[int, ...], result: tuple[int, ...]) -> torch.Tensor:
    """A bool tensor of shape `result`: True where an element of `shape`, broadcast to `result`,
    is a copy (a reused value) rather than the original."""
    padded = (1,) * (len(result) - len(shape)) + tuple(shape)
    mask = torch.zeros(result, dtype=torch.bool)
    for axis, (size, out) in enumerate(zip(padded, result)):
        if size == 1 and out > 1:
            index_shape = [1] * len(result)
            index_shape[axis] = out
            mask |= (torch.arange(out) > 0).reshape(index_shape)
    return mask


def parse_shape(text: str) -> tuple[int, ...]:
    """'2, 3', '(2, 3)', '[2, 3]' or 'torch.Size([2, 3])' -> (2, 3); '()' or '' -> () (a scalar)."""
    body = text.strip()
    if body.startswith("torch.Size"):
        body = body[len("torch.Size"):]
    body = body.strip().strip("()[]").strip()
    if not body:
        return ()
    parts = [p for p in re.split(r"[,\s]+", body) if p]
    if not all(re.fullmatch(r"\d+", p) for p in parts):
        raise ValueError(f"{text.strip()!r} is not a shape: write sizes separated by commas, such as 2, 3")
    shape = tuple(int(p) for p in parts)
    check_shape(shape)
    return shape


def check_shape(shape: tuple[int, ...]) -> None:
    if len(shape) > MAX_DIMS:
        raise ValueError(f"{len(shape)} dimensions; the limit here is {MAX_DIMS}")
    if any(not isinstance(n, int) or n < 0 or n > MAX_SIZE for n in shape):
        raise ValueError(f"sizes must be whole numbers from 0 to {MAX_SIZE:,}")
    if math.prod(shape) > 10**15:
        raise ValueError("that shape has more elements than any computer could hold")


def shape_text(shape: tuple[int, ...] | None) -> str:
    """(2, 3) -> '(2, 3)', (3,) -> '(3,)', () -> '() (a scalar)'."""
    if shape is None:
        return "—"
    if not shape:
        return "() (a scalar)"
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"
