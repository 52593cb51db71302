"""Two-class point sets in the plane for the deep-learning demo, made with torch alone.

Each maker takes `n` (points per class) and a seeded `torch.Generator` and returns
(points: 2n × 2, labels: 2n), the first n points labelled 0 and the rest 1. The demo's code
makes the same points after `torch.manual_seed(seed)` with the same operations in the same
order, so the functions are written to be read side by side with it.

- blobs: two clouds a straight line separates;
- moons: two interleaved half circles, almost separable by a line but not quite;
- circles: a ring around a disc, which no straight line separates at all;
- spiral: two arms wound around each other, which needs a deeper, wider network.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

Points = tuple[torch.Tensor, torch.Tensor]


def labels(n: int) -> torch.Tensor:
    return torch.cat([torch.zeros(n), torch.ones(n)])


def blobs(n: int, generator: torch.Generator, noise: float = 0.35) -> Points:
    centres = torch.cat([torch.full((n, 2), -0.6), torch.full((n, 2), 0.6)])
    return centres + noise * torch.randn(2 * n, 2, generator=generator), labels(n)


def moons(n: int, generator: torch.Generator, noise: float = 0.1) -> Points:
    t = torch.rand(n, generator=generator) * math.pi
    upper = torch.stack([torch.cos(t), torch.sin(t)], 1)
    t = torch.rand(n, generator=generator) * math.pi
    lower = torch.stack([1 - torch.cos(t), 0.5 - torch.sin(t)], 1)
    points = torch.cat([upper, lower]) + noise * torch.randn(2 * n, 2, generator=generator)
    return points - torch.tensor([0.5, 0.25]), labels(n)


def circles(n: int, generator: torch.Generator, noise: float = 0.08) -> Points:
    angle = torch.rand(2 * n, generator=generator) * (2 * math.pi)
    radius = torch.cat([torch.full((n,), 1.0), torch.full((n,), 0.5)])   # ring: 0, disc: 1
    points = radius[:, None] * torch.stack([torch.cos(angle), torch.sin(angle)], 1)
    return points + noise * torch.randn(2 * n, 2, generator=generator), labels(n)


def spiral(n: int, generator: torch.Generator, noise: float = 0.04) -> Points:
    t = torch.rand(2 * n, generator=generator)                # how far along its arm
    angle = 3 * math.pi * t + math.pi * labels(n)             # the second arm: half a turn on
    points = t[:, None] * torch.stack([torch.cos(angle), torch.sin(angle)], 1)
    return points + noise * torch.randn(2 * n, 2, generator=generator), labels(n)


DATASETS: dict[str, Callable[[int, torch.Generator], Points]] = {
    "blobs": blobs, "moons": moons, "circles": circles, "spiral": spiral,
}
