"""One neuron, y = w·x + b, taught by gradient descent to answer 42 for one fixed input.

The engine of the "one neuron learns" demo. It runs one step at a time (not a loop to the
end) so a widget can draw every step. Every random number comes from a `torch.Generator`
seeded by the caller, drawn in the same order as the demo's code draws them after
`torch.manual_seed(seed)`, and every step does the same torch operations as that code, so
the two compute the same numbers to the last bit. The global RNG is never touched: the
training view's dropout draws from it.
"""

from __future__ import annotations

import math

import torch

N_INPUTS = 100
TARGET = 42.0


class Neuron:
    """A weight per input and a bias; `nudge` moves each of them against its gradient."""

    def __init__(self, w: torch.Tensor, b: torch.Tensor):
        self.w = w.detach().clone().requires_grad_(True)
        self.b = b.detach().clone().requires_grad_(True)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.w + self.b

    def nudge(self, lr: float) -> None:
        """One gradient-descent update; the gradients are cleared so the next ones don't add up."""
        with torch.no_grad():
            self.w -= lr * self.w.grad
            self.b -= lr * self.b.grad
        self.w.grad = None
        self.b.grad = None


class TargetLearning:
    """A neuron with random weights learning to output `target` for one random input.

    `history[k]` is the squared error after k steps. Each step overshoots the target by a
    factor that grows with the learning rate: past about 1 / (x·x + 1) the error changes
    sign and grows every step, the loss shoots up and soon reaches inf.
    """

    def __init__(self, seed: int = 0, lr: float = 1e-3, target: float = TARGET, n_inputs: int = N_INPUTS):
        generator = torch.Generator().manual_seed(seed)
        self.x = torch.randn(n_inputs, generator=generator)
        self.neuron = Neuron(torch.randn(n_inputs, generator=generator),
                             torch.randn((), generator=generator))
        self.lr = lr
        self.target = target
        self.history: list[float] = [self._loss()]
        self.outputs: list[float] = [self.output()]

    @property
    def steps(self) -> int:
        return len(self.history) - 1

    @property
    def loss(self) -> float:
        return self.history[-1]

    @property
    def critical_lr(self) -> float:
        """Above this learning rate every step overshoots by more than it corrects."""
        return 1.0 / (float(self.x @ self.x) + 1.0)

    def output(self) -> float:
        with torch.no_grad():
            return float(self.neuron(self.x))

    def _loss(self) -> float:
        with torch.no_grad():
            return float((self.neuron(self.x) - self.target) ** 2)

    def step(self) -> float:
        """Loss, backward, nudge; returns the loss after the nudge. Does nothing once diverged."""
        if self.diverged:
            return self.loss
        loss = (self.neuron(self.x) - self.target) ** 2
        loss.backward()
        self.neuron.nudge(self.lr)
        self.history.append(self._loss())
        self.outputs.append(self.output())
        return self.loss

    def train(self, steps: int) -> None:
        for _ in range(steps):
            self.step()

    @property
    def diverged(self) -> bool:
        """The loss is inf or nan: the numbers left float32's range, nothing more can be learned."""
        return not math.isfinite(self.loss)

    @property
    def diverging(self) -> bool:
        """The loss grew on each of the last three steps and is above where it started."""
        h = self.history
        return self.diverged or (len(h) >= 4 and h[-4] < h[-3] < h[-2] < h[-1] and h[-1] > h[0])

    def losses(self) -> list[float]:
        """The loss computed at the start of each step so far (what a training loop records)."""
        return self.history[:-1]

    def weights(self) -> list[float]:
        return self.neuron.w.detach().tolist()

    def bias(self) -> float:
        return float(self.neuron.b.detach())
