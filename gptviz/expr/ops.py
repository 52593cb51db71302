"""The operations a program may use: the torch function behind each, and its local derivatives.

`local` holds, for each operand, the derivative of the result with respect to that operand as
a learner would write it (in terms of the operands `a`, `b` and the result `out`). The numbers
shown in the explorer never come from these strings: they come from torch's autograd.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Op:
    name: str
    fn: Callable[..., torch.Tensor]
    local: tuple[str, ...]        # ∂out/∂operand, one per operand
    elementwise: bool = True

    @property
    def arity(self) -> int:
        return len(self.local)

    def describe(self, operands: tuple[str, ...]) -> str:
        if self.arity == 2:
            return f"{operands[0]} {self.name} {operands[1]}"
        if self.name == "neg":
            return f"-{operands[0]}"
        return f"{self.name}({operands[0]})"


OPS: dict[str, Op] = {op.name: op for op in (
    Op("+", torch.add, ("1", "1")),
    Op("-", torch.sub, ("1", "-1")),
    Op("*", torch.mul, ("b", "a")),
    Op("/", torch.div, ("1/b", "-a/b²")),
    Op("**", torch.pow, ("b·a^(b-1)", "out·ln(a)")),
    Op("@", torch.matmul, ("upstream @ bᵀ", "aᵀ @ upstream"), elementwise=False),
    Op("neg", torch.neg, ("-1",)),
    Op("exp", torch.exp, ("exp(a) = out",)),
    Op("log", torch.log, ("1/a",)),
    Op("tanh", torch.tanh, ("1 - out²",)),
    Op("relu", torch.relu, ("1 where a > 0, else 0",)),
    Op("sigmoid", torch.sigmoid, ("out·(1 - out)",)),
    Op("sin", torch.sin, ("cos(a)",)),
    Op("cos", torch.cos, ("-sin(a)",)),
    Op("sqrt", torch.sqrt, ("1/(2·out)",)),
    Op("abs", torch.abs, ("sign(a)",)),
    Op("sum", torch.sum, ("1 for every element",), elementwise=False),
    Op("mean", torch.mean, ("1/n for every element",), elementwise=False),
)}


def result_shape(op: Op, shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
    """The shape `op` would produce, worked out on the meta device (no data, no time).

    Raises ValueError naming both shapes when they do not fit together.
    """
    if op.elementwise and op.arity == 2:
        try:
            return tuple(torch.broadcast_shapes(*shapes))
        except RuntimeError:
            raise ValueError(
                f"cannot broadcast shapes {fmt(shapes[0])} and {fmt(shapes[1])}: aligned from the "
                "right, each pair of sizes must be equal or one of them 1") from None
    try:
        out = op.fn(*(torch.empty(s, device="meta") for s in shapes))
    except RuntimeError as e:
        if op.name == "@":
            raise ValueError(f"cannot matrix-multiply shapes {fmt(shapes[0])} @ {fmt(shapes[1])}: "
                             f"{matmul_reason(shapes[0], shapes[1])}") from None
        raise ValueError(f"{op.name} cannot take shape {fmt(shapes[0])}: {e}") from None
    return tuple(out.shape)


def matmul_reason(a: tuple[int, ...], b: tuple[int, ...]) -> str:
    if not a or not b:
        return "both operands need at least one dimension (a scalar is multiplied with *)"
    inner_a = a[-1]
    inner_b = b[0] if len(b) == 1 else b[-2]
    if inner_a != inner_b:
        return f"the inner sizes {inner_a} and {inner_b} differ"
    return "the batch dimensions do not broadcast"


def fmt(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"
