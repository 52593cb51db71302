"""The shards' gradients added up by parts (shard_grads.py): in shard order, each part on its
own thread, into .grad, with the norms clipping takes; a failed shard stops its partners."""

import threading

import pytest
import torch

from gptviz import shard_grads
from gptviz.openmp import openmp_runtime
from gptviz.shard_grads import Parts

needs_openmp = pytest.mark.skipif(openmp_runtime() is None, reason="torch's OpenMP runtime not found")

SIZES = [(40, 8), (8,), (16, 16), (3,), (50, 4), (7, 7)]


def make_params() -> list[torch.Tensor]:
    return [torch.zeros(size, requires_grad=True) for size in SIZES]


def shard_gradients(i: int, unused: int | None = None) -> list[torch.Tensor | None]:
    """Shard i's gradients: values whose sum depends on the order they are added in."""
    g = torch.Generator().manual_seed(100 + i)
    return [None if k == unused else torch.randn(size, generator=g) * 10.0 ** (3 * i)
            for k, size in enumerate(SIZES)]


@needs_openmp
@pytest.mark.parametrize("count", [2, 3])
def test_each_part_is_added_up_in_shard_order_on_its_own_thread(count):
    params = make_params()
    parts = Parts(params, count)
    assert len(parts) == count
    assert sorted(k for part in parts.indices for k in part) == list(range(len(SIZES)))
    made = {}  # shard -> (its gradients, the thread that made them)

    def shard(i):
        grads = shard_gradients(i)
        made[i] = (grads, threading.get_ident())
        return torch.tensor(float(i)), grads

    expected = [sum((shard_gradients(i)[k] for i in range(1, count)), shard_gradients(0)[k])
                for k in range(len(SIZES))]
    losses, norms = shard_grads.run(shard, parts, norms=True)
    assert [float(loss) for loss in losses] == list(range(count))
    assert len({thread for _, thread in made.values()}) == count
    for i, part in enumerate(parts.indices):
        for k in part:
            assert torch.equal(params[k].grad, expected[k])  # bit for bit: the same order
            if i == 0 or count == 2:  # summed into the thread's own shard's tensors
                assert params[k].grad is made[i][0][k]
    assert torch.equal(torch.linalg.vector_norm(torch.stack(norms)),
                       torch.nn.utils.get_total_norm([p.grad for p in params]))


@needs_openmp
def test_micro_batches_accumulate_and_unused_parameters_get_nothing():
    params = make_params()
    params[0].grad = torch.ones(SIZES[0])
    losses, norms = shard_grads.run(lambda i: (torch.tensor(0.0), shard_gradients(i, unused=3)),
                                    Parts(params, 2), norms=False)
    assert norms is None
    assert torch.equal(params[0].grad, torch.ones(SIZES[0]) + (shard_gradients(0)[0] + shard_gradients(1)[0]))
    assert params[3].grad is None


@needs_openmp
def test_a_failed_shard_stops_its_partners_and_its_own_error_is_raised():
    class Interrupted(Exception):
        pass

    params = make_params()
    stopped = []

    def shard(i):
        if i == 1:
            raise ValueError("shard 1 broke")
        return torch.tensor(0.0), shard_gradients(i)

    with pytest.raises(ValueError, match="shard 1 broke"):  # shard 0 is not left waiting
        shard_grads.run(shard, Parts(params, 3), norms=True)
    assert all(p.grad is None for p in params)

    def interrupted(i):
        if i == 2:
            raise Interrupted
        try:
            return torch.tensor(0.0), shard_gradients(i)
        finally:
            stopped.append(i)

    with pytest.raises(Interrupted):  # an interruption says more than a partner's stop
        shard_grads.run(interrupted, Parts(params, 3), norms=True, yields=(Interrupted,))
    assert sorted(stopped) == [0, 1] and all(p.grad is None for p in params)
