"""A split step's gradients, added up across the shards by the threads that will use them.

A split step (batch_shards.py) gives each thread a shard of the batch, and each thread
computes its shard's gradient of every parameter. Before clipping and the optimizer the
shards' gradients must be added up, always in shard order so that a run is the same every
time. Added up on the calling thread, all of the helpers' gradients cross from one core to
the other while the helpers wait, and the optimizer then writes every weight on that one
core, taking the weights out of the helpers' caches: on the development machine, with its
two virtual cores far apart, writing the `cpu` preset's 3.2 MB of weights so took 0.8-1.25
ms instead of ~0.25 (a core's cache lines read by another are slow to take back).

Here the parameters are cut once into fixed parts, one per thread (`Parts`). When every
shard's backward pass is done, each thread adds up the shards' gradients of its own part
and takes their norms (for clipping), and the optimizer later updates each part on the
thread that summed it (optim.AdamW.step(parts=...)). A part's gradients, optimizer state
and weights so stay with one core, and both cores share the work.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import torch

from . import batch_shards


class PartnerFailed(Exception):
    """This shard stopped because another shard of the step failed (which says why)."""


class Parts:
    """The trainable parameters cut into `shards` consecutive parts of about equal size
    (`indices`: each part's positions in `params`, `tensors`: its parameters; a part may
    be empty)."""

    def __init__(self, params: Sequence[torch.Tensor], shards: int):
        self.params = list(params)
        self.indices = batch_shards.parts(list(range(len(self.params))), shards,
                                          weight=lambda k: self.params[k].numel())
        self.indices += [[] for _ in range(shards - len(self.indices))]
        self.tensors = [[self.params[k] for k in part] for part in self.indices]

    def __len__(self) -> int:
        return len(self.indices)


Shard = Callable[[int], tuple[torch.Tensor, Sequence[torch.Tensor | None]]]


def run(shard: Shard, parts: Parts, norms: bool,
        yields: tuple[type[BaseException], ...] = ()) -> tuple[list[torch.Tensor], list[torch.Tensor] | None]:
    """shard(i) -> (loss, gradients of parts.params) for every shard i, on threads as
    batch_shards.run runs them, one shard per part. The shards' gradients are then added up,
    in shard order, to each parameter's .grad (set, or added to: micro-batches accumulate)
    by the thread of the parameter's part. Returns the shards' losses and, with `norms`,
    every .grad's 2-norm in the parameters' order (parameters without a gradient left out),
    as torch.nn.utils.get_total_norm takes them. A shard's failure is raised as
    batch_shards.run raises it, the others stopping with PartnerFailed."""
    count = len(parts)
    grads: list = [None] * count
    barrier = threading.Barrier(count)

    def work(i: int):
        try:
            loss, grads[i] = shard(i)
            barrier.wait()
        except threading.BrokenBarrierError:
            raise PartnerFailed from None
        except BaseException:
            barrier.abort()  # the others are not to wait for this shard's gradients
            raise
        return loss, _add_up(grads, i, parts.indices[i], parts.params, norms)

    done = batch_shards.run(work, count, yields=(*yields, PartnerFailed))
    losses = [loss for loss, _ in done]
    if not norms:
        return losses, None
    return losses, [norm for _, part_norms in done for norm in part_norms]


def _add_up(grads: list, own: int, part: list[int], params: list[torch.Tensor],
            norms: bool) -> list[torch.Tensor]:
    """Adds the shards' gradients of the parameters in `part` to their .grad, on shard
    `own`'s thread, into that shard's own tensors where that gives the same sum: shard 0's,
    or either of two (x + y == y + x exactly in floating point; a longer sum depends on its
    order)."""
    used = [k for k in part if grads[0][k] is not None]  # (the same in every shard)
    if not used:
        return []
    if own == 0 or len(grads) == 2:
        total = [grads[own][k] for k in used]
        rest: Sequence[int] = [s for s in range(len(grads)) if s != own]
    else:  # new tensors here: into this shard's own would change the order, shard 0's are far
        total = torch._foreach_add([grads[0][k] for k in used], [grads[1][k] for k in used])
        rest = range(2, len(grads))
    for s in rest:
        torch._foreach_add_(total, [grads[s][k] for k in used])
    for k, g in zip(used, total):
        p = params[k]
        if p.grad is None:
            p.grad = g
        else:
            p.grad += g
    return list(torch._foreach_norm([params[k].grad for k in used])) if norms else []
