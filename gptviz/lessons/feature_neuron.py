"""A neuron that lights up when a bump of bright pixels is in the middle of its input.

The seed's task for one neuron: 100 pixels of dim noise with a bump of 5 bright pixels
somewhere; the answer is 1 when the whole bump lies in the middle half (pixels 25-74) and
0 when it touches a side. One neuron can do this because the answer is a weighted sum:
weights high in the middle and low at the sides, and a bias as the threshold. Trained on
fresh generated examples each step, its 100 weights come to look like the middle region.

As in `neuron.py`: one step at a time, every random number from a generator seeded by the
caller, drawn in the demo code's order, and the demo code's operations exactly.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .neuron import Neuron

WIDTH = 100           # pixels per input
BUMP = 5              # bright pixels in the bump
MIDDLE = (25, 75)     # the bump must lie within pixels MIDDLE[0] .. MIDDLE[1] - 1
NOISE = 0.1           # background brightness: uniform in [0, NOISE)
TEST_EXAMPLES = 256
INIT_SCALE = 0.1      # small random weights: the learned picture is not hidden under noise


def bump_input(start: int) -> torch.Tensor:
    """One noiseless input with the bump starting at pixel `start`."""
    pixels = torch.arange(WIDTH)
    return ((pixels >= start) & (pixels < start + BUMP)).float()


def examples(n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """`n` inputs (n × 100) and their labels (1.0: the bump is in the middle)."""
    start = torch.randint(0, WIDTH - BUMP + 1, (n,), generator=generator)
    x = NOISE * torch.rand(n, WIDTH, generator=generator)
    pixels = torch.arange(WIDTH)
    x = x + ((pixels >= start[:, None]) & (pixels < start[:, None] + BUMP)).float()
    y = ((start >= MIDDLE[0]) & (start + BUMP <= MIDDLE[1])).float()
    return x, y


class FeatureLearning:
    """The neuron (small random weights at first), a fixed test set, and training on fresh batches.

    The neuron's output is sigmoid(w·x + b), read as "how sure it is the bump is in the
    middle"; it answers yes when that is over 0.5, i.e. when w·x + b > 0. The loss is binary
    cross-entropy, which punishes confident wrong answers hardest.
    """

    def __init__(self, seed: int = 0, lr: float = 0.1, batch: int = 32):
        self.generator = torch.Generator().manual_seed(seed)
        self.x_test, self.y_test = examples(TEST_EXAMPLES, self.generator)
        self.neuron = Neuron(INIT_SCALE * torch.randn(WIDTH, generator=self.generator), torch.zeros(()))
        self.lr = lr
        self.batch = batch
        self.steps = 0
        self.losses: list[float] = []          # each step's batch loss, before its update
        self.accuracies: list[float] = [self.accuracy()]   # on the test set, after k steps

    def step(self) -> float:
        """Train on `batch` fresh examples; returns the accuracy on the test set afterwards."""
        x, y = examples(self.batch, self.generator)
        loss = F.binary_cross_entropy_with_logits(self.neuron(x), y)
        loss.backward()
        self.neuron.nudge(self.lr)
        self.steps += 1
        self.losses.append(loss.item())
        self.accuracies.append(self.accuracy())
        return self.accuracies[-1]

    def train(self, steps: int) -> None:
        for _ in range(steps):
            self.step()

    def accuracy(self) -> float:
        """The fraction of the test examples it answers right."""
        with torch.no_grad():
            return ((self.neuron(self.x_test) > 0).float() == self.y_test).float().mean().item()

    def probability(self, x: torch.Tensor) -> float:
        """How sure the neuron is that the bump in input `x` is in the middle (0 to 1)."""
        with torch.no_grad():
            return float(torch.sigmoid(self.neuron(x)))

    def weights(self) -> list[float]:
        return self.neuron.w.detach().tolist()

    def bias(self) -> float:
        return float(self.neuron.b.detach())
