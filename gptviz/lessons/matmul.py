"""A layer of neurons as a matrix multiply, small enough to read every number.

Row i of W holds neuron i's weights; `W @ x` gives every neuron's weighted sum of the inputs
at once. `neuron_sum` writes one of those sums out term by term, which is exactly what the
Python loop in the demo computes, so the learner can check the matmul against it.
"""

from __future__ import annotations

import math

import torch

from .tensors import element_text

#: Multiply-adds allowed here: below the ~64×64×64 matmul at which torch goes multi-threaded,
#: which would slow training on another thread (DEVELOPERS.md) if run on the GUI thread.
MAX_MULTIPLY_ADDS = 64 * 64 * 64


def layer_output(W: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """`W @ x`, or ValueError with torch's own message when the shapes do not fit."""
    if W.dim() == 2 and x.dim() in (1, 2):
        columns = 1 if x.dim() == 1 else x.shape[1]
        if W.shape[0] * W.shape[1] * columns > MAX_MULTIPLY_ADDS:
            raise ValueError(f"{W.shape[0] * W.shape[1] * columns:,} multiply-adds is too many for this "
                             f"live view (limit {MAX_MULTIPLY_ADDS:,}); the next steps time big ones")
    elif math.prod(W.shape) * math.prod(x.shape) > MAX_MULTIPLY_ADDS:
        raise ValueError("too big for this live view")
    try:
        return W @ x
    except RuntimeError as e:
        raise ValueError(str(e)) from None


def loop_layer(W: torch.Tensor, x: torch.Tensor) -> list[float | int]:
    """The same as `W @ x` for a matrix W and a vector x, one neuron and one input at a time."""
    return [sum(w * v for w, v in zip(row, x.tolist())) for row in W.tolist()]


def neuron_sum(W: torch.Tensor, x: torch.Tensor, neuron: int) -> str:
    """'y[1] = 0·1 + 1·2 + 1·3 + 0·4 = 5': neuron `neuron`'s weighted sum, written out."""
    weights, inputs = W[neuron].tolist(), x.tolist()
    terms = " + ".join(f"{element_text(w)}·{_operand(v)}" for w, v in zip(weights, inputs))
    total = (W[neuron] @ x).item()
    return f"y[{neuron}] = {terms} = {element_text(total)}"


def _operand(v: float | int) -> str:
    text = element_text(v)
    return f"({text})" if text.startswith("-") else text
