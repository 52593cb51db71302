"""A small multi-layer network learning to tell two classes of points in the plane apart.

The engine of the deep-learning demo: a network 2 → hidden... → 1 (any number of hidden
layers, tanh or ReLU), trained with Adam on all the points at once, one step at a time, and
its output on a grid of the plane (the decision region the demo draws).

Same numbers as the demo's code: the points and then the layers' weights are drawn from one
generator seeded by the caller, in the order `torch.manual_seed(seed)` + the dataset code +
`nn.Sequential(nn.Linear(...), ...)` draws them. The layers are built without their own
initialisation (which would draw from torch's global RNG, the one the training view's dropout
uses) and initialised exactly as `nn.Linear.reset_parameters` does, but from the generator.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .toy_data import DATASETS

ACTIVATIONS: dict[str, type[nn.Module]] = {"tanh": nn.Tanh, "relu": nn.ReLU}
GRID = 64          # the decision region is drawn from the network's output at GRID × GRID points


def linear(n_in: int, n_out: int, generator: torch.Generator) -> nn.Linear:
    """`nn.Linear(n_in, n_out)` with the weights it would get after `torch.manual_seed`."""
    layer = torch.nn.utils.skip_init(nn.Linear, n_in, n_out)
    with torch.no_grad():
        nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
        bound = 1 / math.sqrt(n_in)
        nn.init.uniform_(layer.bias, -bound, bound, generator=generator)
    return layer


def network(hidden: Sequence[int], activation: str, generator: torch.Generator) -> nn.Sequential:
    """2 inputs → each hidden width in turn, with `activation` after it → 1 output (a logit).

    With no hidden layer this is a single neuron: its output is w·x + b, so where it changes
    its answer (w·x + b = 0) is a straight line, whatever it learns.
    """
    layers: list[nn.Module] = []
    width = 2
    for h in hidden:
        layers += [linear(width, h, generator), ACTIVATIONS[activation]()]
        width = h
    layers.append(linear(width, 1, generator))
    return nn.Sequential(*layers)


class ToyLearning:
    """A dataset, a network and its optimizer; `step()` trains on all points once."""

    def __init__(self, dataset: str = "moons", hidden: Sequence[int] = (16, 16), activation: str = "tanh",
                 lr: float = 0.03, seed: int = 0, points: int = 100):
        if dataset not in DATASETS:
            raise ValueError(f"unknown dataset {dataset!r}; known: {', '.join(DATASETS)}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; known: {', '.join(ACTIVATIONS)}")
        if any(int(h) < 1 for h in hidden):
            raise ValueError(f"hidden layer widths must be at least 1, not {list(hidden)}")
        generator = torch.Generator().manual_seed(seed)
        self.dataset, self.hidden, self.activation = dataset, [int(h) for h in hidden], activation
        self.X, self.Y = DATASETS[dataset](points, generator)
        self.net = network(self.hidden, activation, generator)
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=lr)
        self.steps = 0
        self.losses: list[float] = []       # each step's loss, before its update
        loss, accuracy = self.evaluate()
        self.accuracies: list[float] = [accuracy]    # after k steps
        self.loss = loss

    def step(self) -> None:
        logits = self.net(self.X).squeeze(1)
        loss = F.binary_cross_entropy_with_logits(logits, self.Y)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self.steps += 1
        self.losses.append(loss.item())
        self.loss, accuracy = self.evaluate()
        self.accuracies.append(accuracy)

    def train(self, steps: int) -> None:
        for _ in range(steps):
            self.step()

    def evaluate(self) -> tuple[float, float]:
        """(loss, accuracy) of the network as it is now, on all the points."""
        with torch.no_grad():
            logits = self.net(self.X).squeeze(1)
            loss = F.binary_cross_entropy_with_logits(logits, self.Y)
            accuracy = ((logits > 0).float() == self.Y).float().mean()
        return loss.item(), accuracy.item()

    @property
    def accuracy(self) -> float:
        return self.accuracies[-1]

    def extent(self) -> tuple[float, float, float, float]:
        """(x0, x1, y0, y1): a square around the points with a margin, for the grid and the plot."""
        lo, hi = self.X.min(0).values, self.X.max(0).values
        centre, half = (lo + hi) / 2, float((hi - lo).max()) / 2 + 0.3
        cx, cy = float(centre[0]), float(centre[1])
        return cx - half, cx + half, cy - half, cy + half

    def region(self, size: int = GRID) -> np.ndarray:
        """The network's probability of class 1 on a size × size grid over `extent()`.

        Row r is at y = y0 + (r + 0.5) × step, column c at x = x0 + (c + 0.5) × step: the
        centres of the image's pixels. float32, row-major, a copy (not torch's memory).
        """
        x0, x1, y0, y1 = self.extent()
        xs = torch.linspace(x0, x1, size + 1)[:-1] + (x1 - x0) / size / 2
        ys = torch.linspace(y0, y1, size + 1)[:-1] + (y1 - y0) / size / 2
        grid = torch.stack(torch.meshgrid(ys, xs, indexing="ij")[::-1], -1).reshape(-1, 2)
        with torch.no_grad():
            p = torch.sigmoid(self.net(grid)).reshape(size, size)
        return p.numpy().astype(np.float32, copy=True)
